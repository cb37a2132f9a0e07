"""Posting persona messages into a session's thread: as the persona, or as the bot.

With Manage Webhooks each reply goes through the channel's webhook under the persona's name
and avatar. Without it the bot posts the reply itself, as an embed whose author is the
persona, and tells the host once which permission would make it better.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import discord

from bot.discord_ui.ratelimits import Spare
from bot.discord_ui.webhooks import WebhookChannel, WebhookPool
from bot.render.messages import sanitise_username

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_MENTIONS = discord.AllowedMentions.none()
UNKNOWN_WEBHOOK = 10015
UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
MISSING_PERMISSIONS = 50013
THREAD_ARCHIVED = 50083
# How aiohttp says a request failed while its body was written (so Discord never had it).
UNSENT_BODY = "Can not write request body"


@dataclass(frozen=True)
class Identity:
    """How a persona appears: name, avatar and colour."""

    name: str
    avatar_url: str | None
    color: int


class ThreadGone(Exception):
    """The session's thread was deleted, archived or locked; the session cannot go on."""


class MessageGone(Exception):
    """The message can no longer be edited (deleted, or posted by a webhook since replaced)."""


class PersonaPoster:
    """Sends and edits persona messages in one thread."""

    def __init__(
        self,
        *,
        pool: WebhookPool,
        thread: discord.Thread,
        on_fallback: Callable[[str], Awaitable[None]],
        house: Identity,
    ) -> None:
        self._pool = pool
        self.thread = thread
        self.house = house
        self._on_fallback = on_fallback
        self._uses_webhook = True
        self._names: dict[str, str] = {}

    @property
    def parent(self) -> WebhookChannel | None:
        """The channel holding the webhook (the thread's parent)."""
        parent = self.thread.parent
        return parent if isinstance(parent, WebhookChannel) else None

    def username(self, identity: Identity) -> str:
        """The persona's webhook username: valid for Discord and distinct within the session."""
        if identity.name not in self._names:
            taken = set(self._names.values())
            self._names[identity.name] = sanitise_username(identity.name, taken)
        return self._names[identity.name]

    async def send(
        self, identity: Identity, content: str, *, view: discord.ui.View | None = None
    ) -> int:
        """Post a message as the persona; return its id."""
        if self._uses_webhook:
            try:
                message = await self._webhook_call(
                    lambda hook: hook.send(
                        content,
                        username=self.username(identity),
                        avatar_url=identity.avatar_url or discord.utils.MISSING,
                        thread=self.thread,
                        wait=True,
                        allowed_mentions=NO_MENTIONS,
                        view=view or discord.utils.MISSING,
                        # A reply full of links would otherwise unfurl into a wall of previews.
                        suppress_embeds=True,
                    )
                )
                return message.id
            except _NoWebhook:
                pass
        sent = await self._guard(
            lambda: self.thread.send(
                embed=self._embed(identity, content),
                view=view or discord.utils.MISSING,
                allowed_mentions=NO_MENTIONS,
            )
        )
        return sent.id

    async def announce(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        files: Sequence[discord.File] = (),
    ) -> int:
        """Post as the bot (round headers, notices, the summary); return the message id.

        If the bot lost Send Messages here, the webhook still can post, under the bot's name.
        """
        try:
            sent = await resend_on_reset(
                lambda: self.thread.send(
                    content,
                    embed=embed or discord.utils.MISSING,
                    files=list(files) or discord.utils.MISSING,
                    allowed_mentions=NO_MENTIONS,
                ),
                files,
            )
            return sent.id
        except discord.NotFound as exc:
            raise ThreadGone(str(exc)) from exc
        except discord.Forbidden as exc:
            if not self._uses_webhook:
                raise ThreadGone(str(exc)) from exc
            log.warning("can't post in thread %d (%s); using the webhook", self.thread.id, exc)
        for file in files:
            file.reset()
        try:
            message = await self._webhook_call(
                lambda hook: hook.send(
                    content or discord.utils.MISSING,
                    username=self.username(self.house),
                    avatar_url=self.house.avatar_url or discord.utils.MISSING,
                    thread=self.thread,
                    wait=True,
                    embed=embed or discord.utils.MISSING,
                    files=list(files) or discord.utils.MISSING,
                    allowed_mentions=NO_MENTIONS,
                ),
                files,
            )
        except _NoWebhook as exc:
            raise ThreadGone("the bot can no longer post in this thread") from exc
        return message.id

    async def edit(
        self,
        message_id: int,
        identity: Identity,
        content: str | None,
        *,
        view: discord.ui.View | None = None,
    ) -> None:
        """Replace a persona message's text and buttons (`content` None keeps the text)."""
        text = discord.utils.MISSING if content is None else content
        if self._uses_webhook:
            try:
                await self._webhook_call(
                    lambda hook: hook.edit_message(
                        message_id,
                        content=text,
                        thread=self.thread,
                        allowed_mentions=NO_MENTIONS,
                        view=view,
                    )
                )
                return
            except _NoWebhook:
                return  # the message was the webhook's; without it, it can no longer change
        partial = self.thread.get_partial_message(message_id)
        embed = discord.utils.MISSING if content is None else self._embed(identity, content)
        await self._guard(
            lambda: partial.edit(embed=embed, view=view, allowed_mentions=NO_MENTIONS)
        )

    def spare_requests(self) -> Spare | None:
        """What the webhook may still send before its window resets (None: not known yet)."""
        parent = self.parent
        if not self._uses_webhook or parent is None:
            return None
        return self._pool.spare(parent.id)

    @property
    def uses_webhook(self) -> bool:
        """True while messages go out through the webhook."""
        return self._uses_webhook

    async def _webhook_call(
        self,
        call: Callable[[discord.Webhook], Awaitable[T]],
        files: Sequence[discord.File] = (),
    ) -> T:
        parent = self.parent
        if parent is None:
            raise _NoWebhook
        for attempt in (1, 2):
            try:
                hook = await self._pool.get(parent)
                result = await resend_on_reset(functools.partial(call, hook), files)
            except discord.Forbidden as exc:
                if exc.code == MISSING_PERMISSIONS and self._uses_webhook:
                    await self._fall_back()
                    raise _NoWebhook from exc
                raise ThreadGone(str(exc)) from exc
            except discord.NotFound as exc:
                if exc.code == UNKNOWN_MESSAGE:
                    raise MessageGone(str(exc)) from exc
                if exc.code == UNKNOWN_WEBHOOK and attempt == 1:
                    log.warning("webhook in channel %d is gone; recreating it", parent.id)
                    self._pool.forget(parent.id)
                    continue
                raise ThreadGone(str(exc)) from exc
            return result
        raise ThreadGone("the webhook could not be recreated")

    async def _fall_back(self) -> None:
        self._uses_webhook = False
        await self._on_fallback(
            "I can't manage webhooks in this channel, so the council's replies come from me "
            "with each persona's name on top. Give me **Manage Webhooks** here and each "
            "persona will post under its own name and avatar."
        )

    async def _guard(self, call: Callable[[], Awaitable[T]]) -> T:
        try:
            return await resend_on_reset(call)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise ThreadGone(str(exc)) from exc

    @staticmethod
    def _embed(identity: Identity, content: str) -> discord.Embed:
        embed = discord.Embed(description=content, color=identity.color)
        embed.set_author(name=identity.name, icon_url=identity.avatar_url)
        return embed


async def resend_on_reset(
    call: Callable[[], Awaitable[T]], files: Sequence[discord.File] = ()
) -> T:
    """Make a request; if the connection broke while it was being sent, send it once more.

    A kept-alive connection the server has just closed fails while the request is written,
    before Discord has seen it (discord.py retries only a reset with errno 54/10054), so one
    more try on a fresh connection is safe. Any other failure, such as a reset after the
    request went out, may follow a request Discord acted on, and is not retried.
    """
    try:
        return await call()
    except aiohttp.ClientOSError as exc:
        if UNSENT_BODY not in str(exc):
            raise
        log.warning("connection broke while sending (%s); sending once more", exc)
        for file in files:
            file.reset()
        return await call()


class _NoWebhook(Exception):
    """The webhook can't be used (no permission); post as the bot instead."""
