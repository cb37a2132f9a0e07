"""The session service: starts, steers and tracks the councils running in this process.

Discord-free: cogs call it with a presenter; the console could too. Every session runs as an
owned task; a failure is logged, never lost, and shutdown cancels them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta

from bot.config import CouncilConfig
from bot.council.engine import SessionRun
from bot.council.events import Presenter
from bot.council.models import GuildSettings, Session, SessionStatus
from bot.council.spec import SessionSpec, spec_from_record
from bot.errors import UserFacingError
from bot.providers.types import Provider
from bot.store.store import Store

log = logging.getLogger(__name__)


class SessionManager:
    """Owns every running `SessionRun`, keyed by session id."""

    def __init__(
        self,
        *,
        config: CouncilConfig,
        providers: Mapping[str, Provider],
        store: Store,
        rng_factory: Callable[[], random.Random] = random.Random,
    ) -> None:
        self.config = config
        self.providers = providers
        self.store = store
        self._rng_factory = rng_factory
        self._runs: dict[int, SessionRun] = {}
        self._tasks: dict[int, asyncio.Task[Session]] = {}
        self._starting: set[int] = set()
        # Councils being started or resumed, per guild, not yet in `_runs`.
        self._claims: dict[int, int] = {}
        self._resuming: set[int] = set()

    # ------------------------------------------------------------------ lookup

    def run_for(self, session_id: int) -> SessionRun | None:
        """The live run of a session, if it runs in this process."""
        return self._runs.get(session_id)

    def running_in_guild(self, guild_id: int) -> int:
        """How many sessions of this guild are live now, or being started or resumed."""
        live = sum(1 for run in self._runs.values() if run.session.guild_id == guild_id)
        return live + self._claims.get(guild_id, 0)

    # ------------------------------------------------------------------ starting

    @contextlib.asynccontextmanager
    async def claim(self, settings: GuildSettings, channel_id: int) -> AsyncIterator[None]:
        """Hold a place for one more council of the guild in `channel_id` while it is set up.

        Refuses, with a reason the host can act on, what the guild's settings forbid. The
        checks of what runs in this process and the claim itself happen with no await between
        them, so two starts in the same instant (in one channel or two) can't both pass.
        """
        await self._check_settings(settings, channel_id)
        if channel_id in self._starting:
            raise UserFacingError("A council is already starting in this channel.")
        with self._hold(settings, "Wait for one to finish or ask an admin to raise the limit."):
            self._starting.add(channel_id)
            try:
                yield
            finally:
                self._starting.discard(channel_id)

    @contextlib.contextmanager
    def _hold(self, settings: GuildSettings, advice: str) -> Iterator[None]:
        """Count one more council of the guild until it runs, if the guild's limit allows."""
        guild_id = settings.guild_id
        if self.running_in_guild(guild_id) >= settings.max_concurrent_sessions:
            raise UserFacingError(
                f"This server already runs {settings.max_concurrent_sessions} council(s), its "
                f"limit. {advice}"
            )
        self._claims[guild_id] = self._claims.get(guild_id, 0) + 1
        try:
            yield
        finally:
            self._claims[guild_id] -= 1
            if not self._claims[guild_id]:
                del self._claims[guild_id]

    async def _check_settings(self, settings: GuildSettings, channel_id: int) -> None:
        if settings.allowed_channel_ids and channel_id not in settings.allowed_channel_ids:
            channels = ", ".join(f"<#{c}>" for c in settings.allowed_channel_ids)
            raise UserFacingError(f"Councils can't be started here. Allowed channels: {channels}.")
        active = await self.store.active_session_in_channel(channel_id)
        if active is not None:
            raise UserFacingError(
                f"Council #{active.id} is still {active.status} in this channel. "
                "End or stop it first (`/council end` or `/council stop` in its thread)."
            )
        await self._check_daily_budget(settings)

    async def _check_daily_budget(self, settings: GuildSettings) -> None:
        if settings.daily_budget_usd is None:
            return
        since = datetime.now(UTC) - timedelta(days=1)
        spent = await self.store.guild_spend_usd(settings.guild_id, since)
        if spent >= settings.daily_budget_usd:
            raise UserFacingError(
                f"This server has used its daily budget (${spent:.2f} of "
                f"${settings.daily_budget_usd:.2f} in the last 24 hours). Try again later."
            )

    async def start(
        self, spec: SessionSpec, presenter: Presenter | Callable[[Session], Presenter]
    ) -> SessionRun:
        """Record a new session and run it in the background."""
        run = await SessionRun.open(
            spec,
            config=self.config,
            providers=self.providers,
            store=self.store,
            presenter=presenter,
            rng=self._rng_factory(),
        )
        self._launch(run)
        return run

    async def resume(
        self,
        session: Session,
        presenter: Callable[[Session], Presenter],
        settings: GuildSettings,
    ) -> SessionRun:
        """Resume a paused or interrupted session: live in memory, or rebuilt from the store."""
        live = self._runs.get(session.id)
        if live is not None:
            if not live.is_paused:
                raise UserFacingError(f"Council #{session.id} is not paused.")
            live.resume()
            return live
        if session.status is not SessionStatus.PAUSED and session.status is not (
            SessionStatus.RUNNING
        ):
            raise UserFacingError(f"Council #{session.id} has {session.status}; it can't resume.")
        if session.id in self._resuming:
            raise UserFacingError(f"Council #{session.id} is already resuming.")
        # A council brought back counts against the guild's limits like a new one.
        with self._hold(settings, f"Council #{session.id} can resume when one of them ends."):
            self._resuming.add(session.id)
            try:
                await self._check_daily_budget(settings)
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
                    presenter=presenter(session),
                    rng=self._rng_factory(),
                )
                self._launch(run)
            finally:
                self._resuming.discard(session.id)
        return run

    def _launch(self, run: SessionRun) -> None:
        session_id = run.session.id
        self._runs[session_id] = run
        task = asyncio.create_task(run.run(), name=f"council-session-{session_id}")
        self._tasks[session_id] = task
        task.add_done_callback(lambda t: self._finished(session_id, t))

    def _finished(self, session_id: int, task: asyncio.Task[Session]) -> None:
        self._runs.pop(session_id, None)
        self._tasks.pop(session_id, None)
        if task.cancelled():
            log.info("session %d was interrupted (shutdown)", session_id)
            return
        if (exc := task.exception()) is not None:
            log.error("session %d crashed", session_id, exc_info=exc)

    async def shutdown(self) -> None:
        """Cancel every live session without ending it, so each can be resumed later."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
