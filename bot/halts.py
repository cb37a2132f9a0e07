"""Guild-wide halts: stop every council of a server at once, and start none until it is lifted.

A manager halts from Discord (`/council-admin halt`); the operator halts from the shell
(`council-bot halt`) for when Discord itself is the problem. The shell writes the halt to the
store from another process, so the bot polls the store (`Halts.start`) and stops a halted
guild's councils within `HALT_POLL_S`. Starting, convening and resuming read the store's halt
too (`SessionManager`), so they are refused as soon as it is written.
"""

from __future__ import annotations

import asyncio
import logging

from bot.council.models import GuildHalt
from bot.i18n import Text, t
from bot.sessions import SessionManager
from bot.store.db import DRIVER_ERRORS
from bot.store.store import Store

log = logging.getLogger(__name__)

REASON_MAX_CHARS = 300
"""The longest reason a halt may give (each stopped council's summary shows it)."""
HALT_POLL_S = 1.0
"""How often the bot reads the store's halts while any council runs: a halt from the shell
stops the guild's councils within about this long."""


def halt_reason(halt: GuildHalt) -> Text:
    """Why a halted council stopped, as its thread and summary say (in the council's locale)."""
    name: Text | str = halt.by_name or t("council.halt.operator")
    if halt.reason:
        return t("council.halt.stopped", name=name, reason=halt.reason)
    return t("council.halt.stopped-no-reason", name=name)


async def record_halt(
    store: Store, guild_id: int, reason: str, *, user_id: int | None, by_name: str = ""
) -> GuildHalt:
    """Halt the guild in the store and audit who did it (`user_id` None: the operator)."""
    halt = await store.halt_guild(guild_id, reason, halted_by=user_id, by_name=by_name)
    who = "" if user_id is not None else "operator (council-bot halt)"
    await store.audit(
        guild_id, user_id, "guild.halt", detail=": ".join(filter(None, (who, reason)))
    )
    return halt


async def lift_halt(store: Store, guild_id: int, *, user_id: int | None) -> GuildHalt | None:
    """Lift the guild's halt and audit who did it; None (and nothing audited) if none held."""
    lifted = await store.lift_halt(guild_id)
    if lifted is not None:
        who = "" if user_id is not None else "operator (council-bot resume-all)"
        await store.audit(guild_id, user_id, "guild.resume", detail=who)
    return lifted


class Halts:
    """Halts a guild's councils in this process, and watches the store for halts from outside."""

    def __init__(
        self, store: Store, manager: SessionManager, *, poll_s: float = HALT_POLL_S
    ) -> None:
        self.store = store
        self.manager = manager
        self.poll_s = poll_s
        self._watch: asyncio.Task[None] | None = None

    async def halt(
        self, guild_id: int, reason: str, *, user_id: int | None, by_name: str
    ) -> list[int]:
        """Halt the guild: record it, then stop its councils here; return their ids."""
        return await self._enforce(
            await record_halt(self.store, guild_id, reason, user_id=user_id, by_name=by_name)
        )

    async def check(self) -> list[int]:
        """Stop the councils running here in every halted guild; return their ids."""
        running = self.manager.guilds_running()
        if not running:
            return []
        stopped: list[int] = []
        for halt in await self.store.guild_halts():
            if halt.guild_id in running:
                stopped += await self._enforce(halt)
        return stopped

    async def _enforce(self, halt: GuildHalt) -> list[int]:
        stopped = self.manager.halt(halt.guild_id, halt_reason(halt))
        for session_id in stopped:
            await self.store.audit(
                halt.guild_id, halt.halted_by, "session.stop", session_id, "halt"
            )
        if stopped:
            log.info("guild %d halted: stopped %s", halt.guild_id, stopped)
        return stopped

    def start(self) -> None:
        """Watch the store for halts until `close` (once; a second call does nothing)."""
        if self._watch is None:
            self._watch = asyncio.create_task(self._poll(), name="council-halt-watch")
            self._watch.add_done_callback(_log_crash)

    async def close(self) -> None:
        """Stop watching."""
        if self._watch is not None:
            self._watch.cancel()
            await asyncio.gather(self._watch, return_exceptions=True)
            self._watch = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.check()
            except DRIVER_ERRORS:
                # The operator's shell may hold the write lock past the busy timeout, or the
                # PostgreSQL server may be out of reach for a moment: next time.
                log.warning("could not read the guild halts", exc_info=True)


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("the halt watch stopped", exc_info=exc)
