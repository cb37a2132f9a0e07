"""The vote desk: checks who may vote, records each click before acknowledging it, and keeps
the counts on the buttons fresh with coalesced edits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import discord

from bot.council.models import ReplyKind, ReplyStatus, VoteValue
from bot.discord_ui.views import vote_view
from bot.store.store import Store

log = logging.getLogger(__name__)

# However many clicks arrive, a message's buttons are edited at most once per interval.
REFRESH_INTERVAL_S = 2.0
# A double click (or a client retrying a click it thinks was lost) sends the same button press
# twice within moments. Clicks toggle, so applying both would silently cancel the vote; the
# second identical click inside this window is acknowledged and dropped. A deliberate second
# click to withdraw comes later than this.
DOUBLE_CLICK_S = 1.0


@dataclass
class _Refresh:
    reply_id: int
    interaction: discord.Interaction[discord.Client]
    is_dirty: bool = True
    last_edit: float = 0.0
    task: asyncio.Task[None] | None = field(default=None, repr=False)


@dataclass
class _Clicks:
    """One member's clicks on one reply: applied one at a time, the last applied remembered."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    waiting: int = 0
    last_value: VoteValue | None = None
    last_at: float = float("-inf")


class VoteDesk:
    """Handles vote button clicks for every session."""

    def __init__(
        self,
        store: Store,
        *,
        refresh_interval_s: float = REFRESH_INTERVAL_S,
        double_click_s: float = DOUBLE_CLICK_S,
    ) -> None:
        self.store = store
        self.refresh_interval_s = refresh_interval_s
        self.double_click_s = double_click_s
        self._refreshes: dict[int, _Refresh] = {}
        self._clicks: dict[tuple[int, int], _Clicks] = {}
        self.edits = 0

    async def click(
        self, interaction: discord.Interaction[discord.Client], reply_id: int, value: VoteValue
    ) -> None:
        """One click: refuse with a reason, or store the vote, acknowledge, refresh later.

        A member's clicks on one reply are applied in arrival order, one at a time; a repeat
        of the same click within `double_click_s` is acknowledged but not applied again.
        """
        arrived = time.monotonic()
        key = (interaction.user.id, reply_id)
        clicks = self._clicks.setdefault(key, _Clicks())
        clicks.waiting += 1
        try:
            async with clicks.lock:
                if clicks.last_value is value and arrived - clicks.last_at < self.double_click_s:
                    await interaction.response.defer()
                    return
                if await self._apply(interaction, reply_id, value):
                    clicks.last_value, clicks.last_at = value, arrived
        finally:
            clicks.waiting -= 1
            self._forget_old_clicks(time.monotonic())

    async def _apply(
        self, interaction: discord.Interaction[discord.Client], reply_id: int, value: VoteValue
    ) -> bool:
        """Refuse, or store the vote and then acknowledge; True when the vote was stored."""
        refusal = await self._refusal(interaction, reply_id)
        if refusal is not None:
            await interaction.response.send_message(refusal, ephemeral=True)
            return False
        await self.store.record_vote(reply_id, interaction.user.id, value)
        await interaction.response.defer()
        if interaction.message is not None:
            self._schedule(interaction.message.id, reply_id, interaction)
        return True

    def _forget_old_clicks(self, now: float) -> None:
        # Only clicks still inside the window matter, so the map holds seconds' worth of them.
        stale = [
            key
            for key, clicks in self._clicks.items()
            if not clicks.waiting and now - clicks.last_at >= self.double_click_s
        ]
        for key in stale:
            del self._clicks[key]

    async def _refusal(
        self, interaction: discord.Interaction[discord.Client], reply_id: int
    ) -> str | None:
        user = interaction.user
        if user.bot or user.system:
            return "Bots can't vote."
        reply = await self.store.get_reply(reply_id)
        if reply is None:
            return "This vote button is no longer valid: its reply is gone."
        session = await self.store.get_session(reply.session_id)
        if session is None or session.guild_id is None or session.guild_id != interaction.guild_id:
            return "This button belongs to a council in another server."
        if reply.kind is not ReplyKind.ANSWER or reply.status is not ReplyStatus.OK:
            return "This message can't be voted on."
        settings = await self.store.guild_settings(session.guild_id)
        if session.status.is_final and session.ended_at is not None:
            closes = session.ended_at + timedelta(seconds=settings.vote_grace_s)
            if datetime.now(UTC) >= closes:
                return f"Voting on council #{session.id} has closed."
        if settings.voter_role_id is not None:
            roles = getattr(user, "roles", [])
            if all(role.id != settings.voter_role_id for role in roles):
                return f"Only members with the <@&{settings.voter_role_id}> role can vote here."
        if settings.min_account_age_days:
            age = datetime.now(UTC) - user.created_at
            if age < timedelta(days=settings.min_account_age_days):
                return (
                    f"Your account must be at least {settings.min_account_age_days} days old "
                    "to vote here."
                )
        return None

    def _schedule(
        self, message_id: int, reply_id: int, interaction: discord.Interaction[discord.Client]
    ) -> None:
        refresh = self._refreshes.get(message_id)
        if refresh is None:
            refresh = _Refresh(reply_id, interaction)
            self._refreshes[message_id] = refresh
        refresh.interaction = interaction  # the newest token lives longest
        refresh.is_dirty = True
        if refresh.task is None or refresh.task.done():
            refresh.task = asyncio.create_task(self._refresh(message_id, refresh))

    async def _refresh(self, message_id: int, refresh: _Refresh) -> None:
        try:
            while refresh.is_dirty:
                wait = refresh.last_edit + self.refresh_interval_s - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                refresh.is_dirty = False
                up, down = await self.store.votes_for(refresh.reply_id)
                refresh.last_edit = time.monotonic()
                self.edits += 1
                # A component click's "original response" is the message the buttons are on.
                await refresh.interaction.edit_original_response(
                    view=vote_view(refresh.reply_id, up, down)
                )
        except discord.HTTPException:
            log.warning("could not refresh vote counts on message %d", message_id, exc_info=True)
        finally:
            if not refresh.is_dirty:
                self._refreshes.pop(message_id, None)

    async def close(self) -> None:
        """Finish pending refreshes (shutdown)."""
        tasks = [r.task for r in self._refreshes.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
