"""The session service: starts, steers and tracks the councils running in this process.

Discord-free: cogs call it with a presenter; the console could too. Every session runs as an
owned task; a failure is logged, never lost, and shutdown cancels them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

from bot.config import CouncilConfig
from bot.council.engine import SessionRun
from bot.council.events import Presenter, Watched, Watcher
from bot.council.figures import money
from bot.council.models import GuildHalt, GuildSettings, Session, SessionStatus
from bot.council.screening import ModelCheck, Screening
from bot.council.spec import SessionSpec, spec_from_record
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from bot.leases import CouncilLeases
from bot.providers.types import Provider
from bot.store.store import Store

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
"""The window of the per-member daily limit on starts: the last 24 hours."""

# Why a council can't start in a channel where another is still active, by that one's status.
_STILL_ACTIVE = {
    SessionStatus.RUNNING: "replies.start.still-running",
    SessionStatus.PAUSED: "replies.start.still-paused",
}
# Why a council that has ended can't resume, by how it ended.
_ENDED = {
    SessionStatus.FINISHED: "replies.resume.finished",
    SessionStatus.STOPPED: "replies.resume.stopped",
    SessionStatus.FAILED: "replies.resume.failed",
}


class DailyBudgetSpentError(UserFacingError):
    """The guild has spent its daily budget; no council may start or resume until it frees up."""

    def __init__(self, spent_usd: float, limit_usd: float) -> None:
        self.spent_usd = spent_usd
        self.limit_usd = limit_usd
        super().__init__(self._text(None))

    def _text(self, locale: str | None) -> Text:
        return t(
            "replies.start.daily-budget",
            spent=money(self.spent_usd, locale),
            limit=money(self.limit_usd, locale),
        )

    def localized(self, locale: str | None) -> str:
        """The refusal with both sums written as `locale`'s language writes money."""
        return localize(self._text(locale), locale)


def halted_refusal(halt: GuildHalt) -> Text:
    """Why no council may start or resume in a halted guild, and who can lift the halt."""
    if halt.reason:
        return t("replies.halt.refused", reason=halt.reason)
    return t("replies.halt.refused-no-reason")


class SessionManager:
    """Owns every running `SessionRun`, keyed by session id."""

    def __init__(
        self,
        *,
        config: CouncilConfig,
        providers: Mapping[str, Provider],
        store: Store,
        rng_factory: Callable[[], random.Random] = random.Random,
        moderation: ModelCheck | None = None,
        leases: CouncilLeases | None = None,
        watcher: Watcher | None = None,
    ) -> None:
        self.config = config
        self.providers = providers
        self.store = store
        # No council runs in two processes: each holds its council's lease while it runs.
        self.leases = leases or CouncilLeases(store)
        # Every council checks its replies against its guild's rules and `moderation`, the
        # operator's moderation model, if one is configured.
        self.screening = Screening(policies=store, model=moderation)
        self._rng_factory = rng_factory
        # Sees every council's events too, for the operator's metrics.
        self._watcher = watcher
        self._runs: dict[int, SessionRun] = {}
        self._tasks: dict[int, asyncio.Task[Session]] = {}
        self._starting: set[int] = set()
        # Councils being started or resumed, per guild, not yet in `_runs`.
        self._claims: dict[int, int] = {}
        self._resuming: set[int] = set()
        # A member's starts, one at a time where the guild limits them: each counts the last.
        self._host_turns: dict[tuple[int, int], tuple[asyncio.Lock, int]] = {}
        # Councils a dead process left running whose leases have not expired yet.
        self._orphans: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lookup

    def run_for(self, session_id: int) -> SessionRun | None:
        """The live run of a session, if it runs in this process."""
        return self._runs.get(session_id)

    def running(self) -> int:
        """How many sessions are live in this process now."""
        return len(self._runs)

    def running_in_guild(self, guild_id: int) -> int:
        """How many sessions of this guild are live now, or being started or resumed."""
        live = sum(1 for run in self._runs.values() if run.session.guild_id == guild_id)
        return live + self._claims.get(guild_id, 0)

    def halt(self, guild_id: int, reason: str | Text) -> list[int]:
        """Stop every council of the guild running here, cancelling their model calls, with
        `reason` for each thread; return the ids of those it stopped (not already stopping)."""
        runs = [
            run
            for run in self._runs.values()
            if run.session.guild_id == guild_id and not run.is_stopping
        ]
        for run in runs:
            run.stop(reason)
        return [run.session.id for run in runs]

    def guilds_running(self) -> set[int]:
        """The guilds with a council live here, or being started or resumed."""
        live = {run.session.guild_id for run in self._runs.values()}
        return {g for g in live if g is not None} | set(self._claims)

    # ------------------------------------------------------------------ starting

    @contextlib.asynccontextmanager
    async def claim(
        self, settings: GuildSettings, channel_id: int, host_id: int | None = None
    ) -> AsyncIterator[None]:
        """Hold a place for one more council of the guild in `channel_id` while it is set up.

        Refuses, with a reason the host can act on, what the guild's settings forbid. The
        checks of what runs in this process and the claim itself happen with no await between
        them, so two starts in the same instant (in one channel or two) can't both pass; a
        member limited to so many starts a day starts one at a time (`host_id` is theirs).
        """
        async with self._host_turn(settings, host_id):
            await self._check_settings(settings, channel_id)
            if host_id is not None:
                await self._check_daily_starts(settings, host_id)
            if channel_id in self._starting:
                raise UserFacingError(t("replies.start.already-starting"))
            with self._hold(settings, lambda limit: tn("replies.start.at-limit", limit)):
                self._starting.add(channel_id)
                try:
                    yield
                finally:
                    self._starting.discard(channel_id)

    @contextlib.contextmanager
    def _hold(self, settings: GuildSettings, refusal: Callable[[int], Text]) -> Iterator[None]:
        """Count one more council of the guild until it runs, if the guild's limit allows.

        `refusal` words the refusal for the guild's limit (how many councils may run at once).
        """
        guild_id = settings.guild_id
        if self.running_in_guild(guild_id) >= settings.max_concurrent_sessions:
            raise UserFacingError(refusal(settings.max_concurrent_sessions))
        self._claims[guild_id] = self._claims.get(guild_id, 0) + 1
        try:
            yield
        finally:
            self._claims[guild_id] -= 1
            if not self._claims[guild_id]:
                del self._claims[guild_id]

    @contextlib.asynccontextmanager
    async def _host_turn(self, settings: GuildSettings, host_id: int | None) -> AsyncIterator[None]:
        """Wait for the member's other starts in the guild, if its daily limit counts them."""
        if host_id is None or settings.max_councils_per_member_per_day is None:
            yield
            return
        key = (settings.guild_id, host_id)
        lock, users = self._host_turns.get(key, (asyncio.Lock(), 0))
        self._host_turns[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._host_turns[key]
            if users == 1:
                del self._host_turns[key]
            else:
                self._host_turns[key] = (lock, users - 1)

    async def _check_daily_starts(self, settings: GuildSettings, host_id: int) -> None:
        limit = settings.max_councils_per_member_per_day
        if limit is None:
            return
        starts = await self.store.council_starts(
            settings.guild_id, host_id, datetime.now(UTC) - DAY
        )
        if len(starts) >= limit:
            frees_up = starts[len(starts) - limit] + DAY
            raise UserFacingError(
                tn(
                    "replies.start.daily-limit",
                    limit,
                    when=f"<t:{math.ceil(frees_up.timestamp())}:R>",
                )
            )

    async def _check_settings(self, settings: GuildSettings, channel_id: int) -> None:
        await self._check_halt(settings.guild_id)
        if settings.allowed_channel_ids and channel_id not in settings.allowed_channel_ids:
            channels = ", ".join(f"<#{c}>" for c in settings.allowed_channel_ids)
            raise UserFacingError(t("replies.start.channel-not-allowed", channels=channels))
        active = await self.store.active_session_in_channel(channel_id)
        if active is not None:
            still = _STILL_ACTIVE.get(active.status, "replies.start.still-running")
            raise UserFacingError(t(still, session=active.id))
        await self._check_daily_budget(settings)

    async def _check_halt(self, guild_id: int) -> None:
        halt = await self.store.guild_halt(guild_id)
        if halt is not None:
            raise UserFacingError(halted_refusal(halt))

    async def _check_daily_budget(self, settings: GuildSettings) -> None:
        if settings.daily_budget_usd is None:
            return
        since = datetime.now(UTC) - timedelta(days=1)
        spent = await self.store.guild_spend_usd(settings.guild_id, since)
        if spent >= settings.daily_budget_usd:
            raise DailyBudgetSpentError(spent, settings.daily_budget_usd)

    async def start(
        self, spec: SessionSpec, presenter: Presenter | Callable[[Session], Presenter]
    ) -> SessionRun:
        """Record a new session and run it in the background."""
        run = await SessionRun.open(
            spec,
            config=self.config,
            providers=self.providers,
            store=self.store,
            presenter=(
                self._watched(presenter)
                if isinstance(presenter, Presenter)
                else _then(presenter, self._watched)
            ),
            rng=self._rng_factory(),
            screening=self.screening,
        )
        # A new council's lease is free: no other process knows its id yet.
        await self.leases.take(run.session.id)
        self._launch(run)
        return run

    async def resume(
        self,
        session: Session,
        presenter: Callable[[Session], Presenter],
        settings: GuildSettings,
    ) -> SessionRun:
        """Resume a paused or interrupted session: live in memory, or rebuilt from the store."""
        await self._check_halt(settings.guild_id)
        live = self._runs.get(session.id)
        if live is not None:
            if not live.is_paused:
                raise UserFacingError(t("replies.resume.not-paused", session=session.id))
            live.resume()
            return live
        if session.status is not SessionStatus.PAUSED and session.status is not (
            SessionStatus.RUNNING
        ):
            raise UserFacingError(t(_ENDED[session.status], session=session.id))
        if session.id in self._resuming:
            raise UserFacingError(t("replies.resume.already-resuming", session=session.id))
        # A council brought back counts against the guild's limits like a new one.
        with self._hold(
            settings, lambda limit: tn("replies.resume.at-limit", limit, session=session.id)
        ):
            self._resuming.add(session.id)
            try:
                await self._check_daily_budget(settings)
                # A process that ran it may have died moments ago: its lease is waited out.
                if not await self.leases.wait_for(session.id):
                    raise UserFacingError(t("replies.resume.elsewhere", session=session.id))
                return await self._restore(session, presenter, settings)
            finally:
                self._resuming.discard(session.id)

    async def _restore(
        self,
        session: Session,
        presenter: Callable[[Session], Presenter],
        settings: GuildSettings,
    ) -> SessionRun:
        """Rebuild the session from the store and run it; its lease is ours already."""
        try:
            record = await self.store.session_record(session.id)
            spec = spec_from_record(
                self.config,
                record,
                auto_advance=settings.auto_advance,
                pause_between_rounds_s=settings.pause_between_rounds_s,
                daily_budget_usd=settings.daily_budget_usd,
            )
            await self.store.set_session_status(session.id, SessionStatus.RUNNING)
            run = SessionRun.restore(
                record,
                spec,
                config=self.config,
                providers=self.providers,
                store=self.store,
                presenter=self._watched(presenter(session)),
                rng=self._rng_factory(),
                screening=self.screening,
            )
        except BaseException:
            await self.leases.release(session.id)
            raise
        self._launch(run)
        return run

    def _watched(self, presenter: Presenter) -> Presenter:
        """`presenter`, with the watcher (if there is one) beside it."""
        return presenter if self._watcher is None else Watched(presenter, self._watcher)

    def _launch(self, run: SessionRun) -> None:
        session_id = run.session.id
        self._runs[session_id] = run
        task = asyncio.create_task(self._run_leased(run), name=f"council-session-{session_id}")
        self._tasks[session_id] = task
        task.add_done_callback(lambda t: self._finished(session_id, t))

    def _finished(self, session_id: int, task: asyncio.Task[Session]) -> None:
        run = self._runs.pop(session_id, None)
        self._tasks.pop(session_id, None)
        if task.cancelled():
            if run is None or not run.is_abandoned:  # an abandoned one was logged already
                log.info("session %d was interrupted (shutdown)", session_id)
            return
        if (exc := task.exception()) is not None:
            log.error("session %d crashed", session_id, exc_info=exc)

    async def _run_leased(self, run: SessionRun) -> Session:
        """Run the council while renewing its lease; give the lease up when it stops here.

        Should another process take the lease over (this one stalled past its expiry), the
        council stops here at once, recording nothing: it runs there now.
        """
        session_id = run.session.id

        async def renew() -> None:
            await self.leases.keep(session_id)
            log.warning(
                "council %d: another process took its lease over; stopping here", session_id
            )
            run.abandon()

        renewing = asyncio.create_task(renew(), name=f"council-lease-{session_id}")
        try:
            return await run.run()
        finally:
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            await self.leases.release(session_id)

    async def take_over_interrupted(self, owns: Callable[[int | None], bool]) -> list[Session]:
        """Pause as interrupted every council stored as running in a guild this process owns
        (`owns(guild_id)`) that no process runs any more, so its host can resume it here;
        return those paused now.

        A council whose lease another process still holds is looked at again every renewal
        period until the lease expires (its process died) or is released (it ended there).
        """
        found = [
            s.id
            for s in await self.store.running_sessions()
            if owns(s.guild_id) and s.id not in self._runs
        ]
        paused, waiting = await self._pause_orphans(found)
        # Each connection attempt looks again at every council: the last look's list replaces
        # the one watched before.
        await self._stop_watching_orphans()
        if waiting:
            self._orphans = asyncio.create_task(self._watch_orphans(waiting), name="orphans")
        return paused

    async def _stop_watching_orphans(self) -> None:
        if self._orphans is not None:
            self._orphans.cancel()
            await asyncio.gather(self._orphans, return_exceptions=True)
            self._orphans = None

    async def _watch_orphans(self, waiting: list[int]) -> None:
        while waiting:
            await asyncio.sleep(self.leases.renew_every_s)
            try:
                paused, waiting = await self._pause_orphans(waiting)
            except Exception:
                log.warning("could not look at interrupted councils; trying again", exc_info=True)
                continue
            for session in paused:
                log.info("council %d was interrupted: its process is gone", session.id)

    async def _pause_orphans(self, session_ids: list[int]) -> tuple[list[Session], list[int]]:
        """Pause those of `session_ids` whose lease we can take; return them and the rest."""
        paused: list[Session] = []
        waiting: list[int] = []
        for session_id in session_ids:
            if session_id in self._runs:
                continue  # its host resumed it here meanwhile
            if session_id in self._resuming:
                waiting.append(session_id)  # its host is resuming it; see how that went
                continue
            if not await self.leases.take(session_id):
                waiting.append(session_id)
                continue
            self._resuming.add(session_id)
            try:
                if (session := await self.store.mark_session_interrupted(session_id)) is not None:
                    paused.append(session)
            finally:
                self._resuming.discard(session_id)
                await self.leases.release(session_id)
        return paused, waiting

    async def shutdown(self) -> None:
        """Cancel every live session without ending it, so each can be resumed later."""
        await self._stop_watching_orphans()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _then(
    make: Callable[[Session], Presenter], wrap: Callable[[Presenter], Presenter]
) -> Callable[[Session], Presenter]:
    """A presenter factory that wraps what `make` makes."""
    return lambda session: wrap(make(session))
