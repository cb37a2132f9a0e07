"""The vote desk: checks who may vote, records each click before acknowledging it, and keeps
the counts on the buttons fresh with coalesced edits.

Discord invalidates a click that gets no initial response within 3 s ("you must send an
initial response within 3 seconds of receiving the event",
https://discord.com/developers/docs/interactions/receiving-and-responding). The checks read
the last committed state on their own connection and never wait behind writes; the vote is
then written in the next batch, and the click acknowledged once it is stored, so a vote the
member saw accepted survives a crash. A vote that fails to be stored is answered with why,
in a message only the member sees.

Voting on a council closes at one deadline, `voting_closes_at`: from that instant clicks are
refused, the closing freezes every reply's buttons, and a late refresh shows them frozen too.

A burst of clicks (thousands a second on a popular council) is written in batches: clicks that
arrive while a transaction is being written wait for the next one, so the database sees a few
transactions instead of thousands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import discord

from bot.audience import audience_refusal
from bot.council.models import (
    GuildSettings,
    ReplyKind,
    ReplyStatus,
    SessionStatus,
    VoteClick,
    VoteOutcome,
    VoteTarget,
    VoteValue,
)
from bot.discord_ui.views import vote_view
from bot.i18n import Text, localize, t
from bot.metrics import Metrics
from bot.store.errors import RecordNotFoundError
from bot.store.store import Store

log = logging.getLogger(__name__)

# However many clicks arrive, a message's buttons are edited at most once per interval.
REFRESH_INTERVAL_S = 2.0
# A double click (or a client retrying a click it thinks was lost) sends the same button press
# twice within moments. Clicks toggle, so applying both would silently cancel the vote; the
# second identical click inside this window is acknowledged and dropped. A deliberate second
# click to withdraw comes later than this.
DOUBLE_CLICK_S = 1.0
# A host may change the grace while voting is open: the deadline is read again this often.
DEADLINE_RECHECK_S = 30.0


def voting_closes_at(
    status: SessionStatus, ended_at: datetime | None, settings: GuildSettings
) -> datetime | None:
    """When voting on a session closes: its stored end plus the guild's grace (None while the
    session goes on)."""
    if not status.is_final or ended_at is None:
        return None
    return ended_at + timedelta(seconds=settings.vote_grace_s)


async def wait_for_voting_to_close(store: Store, session_id: int) -> bool:
    """Wait until voting on the stored session closes; False if it never will (the session is
    gone, or was resumed: its next end closes voting)."""
    while True:
        session = await store.get_session(session_id)
        if session is None:
            return False
        settings = await store.guild_settings(session.guild_id or 0)
        closes = voting_closes_at(session.status, session.ended_at, settings)
        if closes is None:
            return False
        wait = (closes - datetime.now(UTC)).total_seconds()
        if wait <= 0:
            return True
        await asyncio.sleep(min(wait, DEADLINE_RECHECK_S))


def _has_closed(target: VoteTarget) -> bool:
    closes = voting_closes_at(target.session_status, target.ended_at, target.settings)
    return closes is not None and datetime.now(UTC) >= closes


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
        metrics: Metrics | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.refresh_interval_s = refresh_interval_s
        self.double_click_s = double_click_s
        self._refreshes: dict[int, _Refresh] = {}
        self._clicks: dict[tuple[int, int], _Clicks] = {}
        self._pruned_at = float("-inf")
        self._unwritten: list[tuple[VoteClick, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def click(
        self, interaction: discord.Interaction[discord.Client], reply_id: int, value: VoteValue
    ) -> None:
        """One click: refuse with a reason, or store the vote, acknowledge it and refresh later.

        A member's clicks on one reply are judged and queued in arrival order, one at a time;
        a repeat of the same click within `double_click_s` is acknowledged but not applied
        again.
        """
        arrived = time.monotonic()
        key = (interaction.user.id, reply_id)
        clicks = self._clicks.setdefault(key, _Clicks())
        clicks.waiting += 1
        try:
            async with clicks.lock:
                if clicks.last_value is value and arrived - clicks.last_at < self.double_click_s:
                    stored = None
                else:
                    stored = await self._accept(interaction, reply_id, value)
                    if stored is None:
                        return
                    clicks.last_value, clicks.last_at = value, arrived
            # Acknowledged only once its vote is stored: a click the member saw accepted must
            # survive the process dying a moment later. Judging it never waits on writes.
            if stored is not None and not await self._was_stored(interaction, stored):
                if clicks.last_at == arrived:
                    clicks.last_value = None  # not applied: an identical click is no repeat
                return
            await interaction.response.defer()
            self._acknowledged(interaction)
        finally:
            clicks.waiting -= 1
            self._forget_old_clicks(time.monotonic())
        if interaction.message is not None:
            self._schedule(interaction.message.id, reply_id, interaction)

    async def _accept(
        self, interaction: discord.Interaction[discord.Client], reply_id: int, value: VoteValue
    ) -> asyncio.Future[None] | None:
        """Refuse the click (answered here), or queue its vote: the future of its storing."""
        refusal = await self._refusal(interaction, reply_id)
        if refusal is not None:
            await interaction.response.send_message(
                localize(refusal, str(interaction.locale)), ephemeral=True
            )
            self._acknowledged(interaction)
            return None
        return self._queue(VoteClick(reply_id=reply_id, user_id=interaction.user.id, value=value))

    async def _was_stored(
        self, interaction: discord.Interaction[discord.Client], stored: asyncio.Future[None]
    ) -> bool:
        """Wait for the vote to be stored; if it was not, answer the click with why, in a
        message only the member sees."""
        try:
            await stored
        except RecordNotFoundError:
            failure = t("replies.vote.reply-gone")
        except Exception:  # whatever failed the write, the member is told
            log.warning("could not store a vote", exc_info=True)
            failure = t("replies.vote.not-stored")
        else:
            return True
        try:
            await interaction.response.send_message(
                localize(failure, str(interaction.locale)), ephemeral=True
            )
            self._acknowledged(interaction)
        except discord.HTTPException:
            log.warning("could not tell a member their vote was not stored", exc_info=True)
        return False

    def _acknowledged(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Measure how long the click waited for its acknowledgement, from its creation (its
        snowflake's time), which is what Discord's 3 s deadline counts from."""
        if self.metrics is not None:
            waited = discord.utils.utcnow() - interaction.created_at
            self.metrics.vote_acknowledged(waited.total_seconds())

    def _queue(self, click: VoteClick) -> asyncio.Future[None]:
        """Queue the vote for the next batch written; the future is done once it is stored."""
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._unwritten.append((click, stored))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="council-vote-writer")
        return stored

    async def _write(self) -> None:
        """Write waiting clicks, one transaction per batch, until none are left."""
        batch: list[tuple[VoteClick, asyncio.Future[None]]] = []
        try:
            while self._unwritten:
                batch, self._unwritten = self._unwritten, []
                outcomes: Sequence[VoteOutcome | Exception]
                try:
                    outcomes = await self.store.record_votes([click for click, _ in batch])
                except Exception as exc:  # noqa: BLE001  (handed to every click in the batch)
                    outcomes = [exc] * len(batch)
                for (_, stored), outcome in zip(batch, outcomes, strict=True):
                    if stored.done():
                        continue
                    if isinstance(outcome, Exception):
                        stored.set_exception(outcome)
                    else:
                        stored.set_result(None)
                batch = []
        finally:
            # Cancelled (shutdown): the batch being written was rolled back, and the clicks
            # still waiting were never stored.
            for _, stored in (*batch, *self._unwritten):
                stored.cancel()
            self._unwritten = []

    def _forget_old_clicks(self, now: float) -> None:
        # Only clicks still inside the window matter, so the map holds seconds' worth of them.
        # Sweeping once per window keeps a burst's cost per click constant, not O(clicks).
        if now - self._pruned_at < self.double_click_s:
            return
        self._pruned_at = now
        stale = [
            key
            for key, clicks in self._clicks.items()
            if not clicks.waiting and now - clicks.last_at >= self.double_click_s
        ]
        for key in stale:
            del self._clicks[key]

    async def _refusal(
        self, interaction: discord.Interaction[discord.Client], reply_id: int
    ) -> Text | None:
        user = interaction.user
        if user.bot or user.system:
            return t("replies.vote.bots-cannot-vote")
        target = await self.store.vote_target(reply_id)
        if target is None:
            return t("replies.vote.reply-gone")
        if target.guild_id is None or target.guild_id != interaction.guild_id:
            return t("replies.vote.other-server")
        if target.kind is not ReplyKind.ANSWER or target.status is not ReplyStatus.OK:
            return t("replies.vote.not-votable")
        if _has_closed(target):
            return t("replies.vote.closed", session=target.session_id)
        settings = target.settings
        roles = getattr(user, "roles", [])
        return audience_refusal(settings, [role.id for role in roles], user.created_at, "vote")

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
            while True:
                wait = refresh.last_edit + self.refresh_interval_s - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                # The record, and its last edit time, lives until a whole interval passes
                # without a click: a click just after an edit waits for the next slot.
                if not refresh.is_dirty:
                    break
                refresh.is_dirty = False
                refresh.last_edit = time.monotonic()
                if not await self._show_counts(refresh) and await self._is_closed(refresh):
                    # Voting closed while the edit was on its way, so it may have landed after
                    # the closing edit and opened the buttons again: close them once more.
                    await self._show_counts(refresh)
        except discord.HTTPException:
            log.warning("could not refresh vote counts on message %d", message_id, exc_info=True)
        finally:
            if not refresh.is_dirty:
                self._refreshes.pop(message_id, None)

    async def _show_counts(self, refresh: _Refresh) -> bool:
        """Edit the buttons with the stored counts, disabled once voting has closed; True if
        they were shown closed."""
        is_closed = await self._is_closed(refresh)
        up, down = await self.store.votes_for(refresh.reply_id)
        # A component click's "original response" is the message the buttons are on.
        await refresh.interaction.edit_original_response(
            view=vote_view(refresh.reply_id, up, down, is_closed=is_closed)
        )
        return is_closed

    async def _is_closed(self, refresh: _Refresh) -> bool:
        target = await self.store.vote_target(refresh.reply_id)
        # A reply that is gone has nothing left to vote on.
        return target is None or _has_closed(target)

    async def close(self) -> None:
        """Stop pending refreshes and the vote writer (shutdown)."""
        tasks = [r.task for r in self._refreshes.values() if r.task is not None]
        if self._writer is not None:
            tasks.append(self._writer)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
