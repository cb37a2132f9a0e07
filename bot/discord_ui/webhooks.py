"""One bot-owned webhook per parent channel, shared by every session and persona there."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.discord_ui.ratelimits import Spare, WebhookBudgets

log = logging.getLogger(__name__)

WEBHOOK_NAME = "Council"

WebhookChannel = discord.TextChannel | discord.ForumChannel


class WebhookPool:
    """Finds or creates the bot's webhook for a channel, once, and remembers it.

    After a restart the webhook is found again by its owner and name instead of creating a
    new one (Discord allows 15 per channel). Concurrent sessions starting in one channel wait
    on a per-channel lock, so only one webhook is ever created.
    """

    def __init__(self, client: discord.Client, budgets: WebhookBudgets) -> None:
        self._client = client
        self._budgets = budgets
        self._hooks: dict[int, discord.Webhook] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def get(self, channel: WebhookChannel) -> discord.Webhook:
        """The bot's webhook in `channel`. Raises `discord.Forbidden` without Manage Webhooks."""
        if (hook := self._hooks.get(channel.id)) is not None:
            return hook
        async with self._locks.setdefault(channel.id, asyncio.Lock()):
            if (hook := self._hooks.get(channel.id)) is not None:
                return hook
            hook = await self._find(channel) or await channel.create_webhook(
                name=WEBHOOK_NAME, reason="Council posts each persona's replies through it"
            )
            log.info("using webhook %d in channel %d", hook.id, channel.id)
            self._hooks[channel.id] = hook
            return hook

    def spare(self, channel_id: int) -> Spare | None:
        """What the channel's webhook may still send in its rate window (None: not known)."""
        hook = self._hooks.get(channel_id)
        return None if hook is None else self._budgets.spare(hook.id)

    def forget(self, channel_id: int) -> None:
        """Drop a webhook Discord no longer knows (10015), so `get` makes a new one."""
        self._hooks.pop(channel_id, None)

    async def _find(self, channel: WebhookChannel) -> discord.Webhook | None:
        me = self._client.user
        for hook in await channel.webhooks():
            owned = hook.user is not None and me is not None and hook.user.id == me.id
            if owned and hook.name == WEBHOOK_NAME and hook.token:
                return hook
        return None
