"""Store methods for human oversight: muted members, guild halts and per-member start counts."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from bot.council.models import GuildHalt, Session
from bot.store import rows
from bot.store.base import StoreBase, load_session
from bot.store.db import Row
from bot.store.errors import RecordNotFoundError


class OversightQueries(StoreBase):
    """What hosts and the operator set to keep councils in check."""

    async def set_muted(self, session_id: int, muted: Sequence[str]) -> Session:
        """Replace the session's muted members with `muted` (persona names).

        Raises:
            RecordNotFoundError: no such session.
        """
        async with self._db.writing() as tx:
            await tx.run(
                "UPDATE sessions SET muted_json = ? WHERE id = ?",
                (json.dumps(list(muted)), session_id),
            )
            return await load_session(tx, session_id)

    async def halt_guild(
        self, guild_id: int, reason: str, *, halted_by: int | None, by_name: str
    ) -> GuildHalt:
        """Halt the guild's councils (replacing an earlier halt's reason and author)."""
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO guild_halts (guild_id, reason, halted_by, by_name, halted_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id) DO UPDATE SET"
                " reason = excluded.reason, halted_by = excluded.halted_by,"
                " by_name = excluded.by_name, halted_at = excluded.halted_at",
                (guild_id, reason, halted_by, by_name, self._stamp()),
            )
            row = await tx.one("SELECT * FROM guild_halts WHERE guild_id = ?", (guild_id,))
        if row is None:
            raise RecordNotFoundError("guild halt", guild_id)
        return _halt(row)

    async def lift_halt(self, guild_id: int) -> GuildHalt | None:
        """Lift the guild's halt; return it, or None if the guild was not halted."""
        async with self._db.writing() as tx:
            row = await tx.one("SELECT * FROM guild_halts WHERE guild_id = ?", (guild_id,))
            await tx.run("DELETE FROM guild_halts WHERE guild_id = ?", (guild_id,))
        return None if row is None else _halt(row)

    async def guild_halt(self, guild_id: int) -> GuildHalt | None:
        """The guild's halt, if its councils are halted."""
        found = await self._db.query("SELECT * FROM guild_halts WHERE guild_id = ?", (guild_id,))
        return _halt(found[0]) if found else None

    async def guild_halts(self) -> list[GuildHalt]:
        """Every halted guild's halt (a poll: one short statement)."""
        found = await self._db.query("SELECT * FROM guild_halts ORDER BY guild_id")
        return [_halt(row) for row in found]

    async def council_starts(self, guild_id: int, host_id: int, since: datetime) -> list[datetime]:
        """When `host_id` started (or convened) each of the guild's councils since `since`,
        oldest first."""
        found = await self._db.query(
            "SELECT started_at FROM sessions WHERE host_id = ? AND guild_id = ?"
            " AND started_at >= ? ORDER BY started_at",
            (host_id, guild_id, rows.to_db_time(since)),
        )
        return [rows.from_db_time(row["started_at"]) for row in found]


def _halt(row: Row) -> GuildHalt:
    return GuildHalt(
        guild_id=row["guild_id"],
        reason=row["reason"],
        halted_by=row["halted_by"],
        by_name=row["by_name"],
        halted_at=rows.from_db_time(row["halted_at"]),
    )
