"""Store methods for permanent councils and the sessions they remember."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot.council.models import PermanentCouncil, Session, SessionStatus
from bot.store import rows
from bot.store.base import StoreBase
from bot.store.db import Row, ordered_by_text
from bot.store.errors import RecordNotFoundError


class CouncilQueries(StoreBase):
    """Named councils per guild, and their memory."""

    async def create_council(
        self,
        guild_id: int,
        name: str,
        *,
        preset: str | None = None,
        members: Sequence[str] = (),
        chair: str | None = None,
        format: str | None = None,
        rounds: int | None = None,
        memory_sessions: int = 3,
        created_by: int | None = None,
        language: str = "",
        charter: str = "",
    ) -> PermanentCouncil:
        """Save a named council for the guild.

        Raises:
            ConstraintError: the guild already has a council of that name (any case).
        """
        async with self._db.writing() as tx:
            council_id = await tx.insert(
                "INSERT INTO councils (guild_id, name, preset, members_json, chair, format,"
                " rounds, memory_sessions, created_by, created_at, language, charter) VALUES (?, ?,"
                " ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    guild_id,
                    name,
                    preset,
                    json.dumps(list(members)),
                    chair,
                    format,
                    rounds,
                    memory_sessions,
                    created_by,
                    self._stamp(),
                    language,
                    charter,
                ),
            )
            row = await tx.one("SELECT * FROM councils WHERE id = ?", (council_id,))
        if row is None:
            raise RecordNotFoundError("council", council_id)
        return _council(row)

    async def council_named(self, guild_id: int, name: str) -> PermanentCouncil | None:
        """The guild's council with this name (any case), if any."""
        async with self._db.reading() as tx:
            row = await tx.one(
                "SELECT * FROM councils WHERE guild_id = ? AND name = ?", (guild_id, name)
            )
        return None if row is None else _council(row)

    async def councils(self, guild_id: int) -> list[PermanentCouncil]:
        """Every council the guild saved, by name."""
        async with self._db.reading() as tx:
            found = await tx.all(
                ordered_by_text("SELECT * FROM councils WHERE guild_id = ?", "name"), (guild_id,)
            )
        return [_council(row) for row in found]

    async def set_council_charter(self, council_id: int, charter: str) -> PermanentCouncil:
        """Replace the council's charter ("" for none); sessions convened later carry it."""
        async with self._db.writing() as tx:
            await tx.run("UPDATE councils SET charter = ? WHERE id = ?", (charter, council_id))
            row = await tx.one("SELECT * FROM councils WHERE id = ?", (council_id,))
        if row is None:
            raise RecordNotFoundError("council", council_id)
        return _council(row)

    async def clear_council_memory(self, council_id: int) -> PermanentCouncil:
        """Forget every session so far: later sessions start with no digest."""
        async with self._db.writing() as tx:
            await tx.run(
                "UPDATE councils SET memory_cleared_at = ? WHERE id = ?",
                (self._stamp(), council_id),
            )
            row = await tx.one("SELECT * FROM councils WHERE id = ?", (council_id,))
        if row is None:
            raise RecordNotFoundError("council", council_id)
        return _council(row)

    async def remembered_sessions(self, council: PermanentCouncil) -> list[Session]:
        """The council's latest finished sessions with a synthesis, newest first, up to its
        memory size and since its memory was last cleared."""
        cleared = rows.to_db_time(council.memory_cleared_at) if council.memory_cleared_at else ""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM sessions WHERE council_id = ? AND status = ?"
                " AND synthesis_json IS NOT NULL AND started_at >= ?"
                " ORDER BY id DESC LIMIT ?",
                (council.id, SessionStatus.FINISHED, cleared, council.memory_sessions),
            )
        return [rows.session_from_row(row) for row in found]


def _council(row: Row) -> PermanentCouncil:
    return PermanentCouncil(
        id=row["id"],
        guild_id=row["guild_id"],
        name=row["name"],
        preset=row["preset"],
        members=tuple(json.loads(row["members_json"])),
        chair=row["chair"],
        format=row["format"],
        rounds=row["rounds"],
        memory_sessions=row["memory_sessions"],
        language=row["language"],
        charter=row["charter"],
        created_by=row["created_by"],
        created_at=rows.from_db_time(row["created_at"]),
        memory_cleared_at=rows.from_db_time_or_none(row["memory_cleared_at"]),
    )
