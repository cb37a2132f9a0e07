"""Store methods for per-guild state: host settings, persona overrides and the audit log."""

from __future__ import annotations

from bot.council.models import AuditEntry, GuildSettings, PersonaOverride
from bot.store import rows
from bot.store.base import StoreBase
from bot.store.db import SqlValue, ordered_by_text, where_all
from bot.store.errors import RecordNotFoundError


class GuildQueries(StoreBase):
    """Guild settings, persona overrides and the audit log of host actions."""

    async def guild_settings(self, guild_id: int) -> GuildSettings:
        """The guild's settings, or the defaults if its hosts never changed any.

        Raises:
            pydantic.ValidationError: the stored settings break a newer version's limits; a
                migration must fix them.
        """
        async with self._db.reading() as tx:
            row = await tx.one("SELECT * FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return GuildSettings(guild_id=guild_id) if row is None else rows.settings_from_row(row)

    async def save_guild_settings(self, settings: GuildSettings) -> None:
        """Replace the guild's settings with these."""
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO guild_settings (guild_id, settings_json, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE"
                " SET settings_json = excluded.settings_json, updated_at = excluded.updated_at",
                (settings.guild_id, rows.settings_to_json(settings), self._stamp()),
            )

    async def persona_overrides(self, guild_id: int) -> dict[str, PersonaOverride]:
        """The guild's persona overrides, by persona name."""
        async with self._db.reading() as tx:
            found = await tx.all(
                ordered_by_text("SELECT * FROM persona_overrides WHERE guild_id = ?", "persona"),
                (guild_id,),
            )
        return {row["persona"]: rows.override_from_row(row) for row in found}

    async def save_persona_override(self, override: PersonaOverride) -> None:
        """Replace the guild's override of this persona with `override`, as given."""
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO persona_overrides (guild_id, persona, display_name, avatar_url,"
                " color, style, updated_by, updated_at) VALUES (:guild_id, :persona,"
                " :display_name, :avatar_url, :color, :style, :updated_by, :updated_at)"
                " ON CONFLICT (guild_id, persona) DO UPDATE SET"
                " display_name = excluded.display_name, avatar_url = excluded.avatar_url,"
                " color = excluded.color, style = excluded.style,"
                " updated_by = excluded.updated_by, updated_at = excluded.updated_at",
                {
                    "guild_id": override.guild_id,
                    "persona": override.persona,
                    "display_name": override.display_name,
                    "avatar_url": override.avatar_url,
                    "color": override.color,
                    "style": override.style,
                    "updated_by": override.updated_by,
                    "updated_at": rows.to_db_time(override.updated_at),
                },
            )

    async def clear_persona_override(self, guild_id: int, persona: str) -> bool:
        """Drop the guild's override of this persona; True if there was one."""
        async with self._db.writing() as tx:
            deleted = await tx.run(
                "DELETE FROM persona_overrides WHERE guild_id = ? AND persona = ?",
                (guild_id, persona),
            )
        return deleted > 0

    async def audit(
        self,
        guild_id: int | None,
        user_id: int | None,
        action: str,
        session_id: int | None = None,
        detail: str = "",
    ) -> AuditEntry:
        """Record a host action, stamped now.

        Raises:
            ConstraintError: `session_id` names no session.
        """
        async with self._db.writing() as tx:
            entry_id = await tx.insert(
                "INSERT INTO audit_log (guild_id, user_id, action, session_id, detail, at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, user_id, action, session_id, detail, self._stamp()),
            )
            row = await tx.one("SELECT * FROM audit_log WHERE id = ?", (entry_id,))
        if row is None:
            raise RecordNotFoundError("audit entry", entry_id)
        return rows.audit_from_row(row)

    async def audit_log(
        self,
        guild_id: int | None,
        limit: int = 50,
        *,
        user_id: int | None = None,
        action: str | None = None,
        offset: int = 0,
    ) -> list[AuditEntry]:
        """Recorded host actions, newest first, optionally filtered.

        Args:
            guild_id: Only this guild's actions; None for every guild's (the operator's view).
            limit: At most this many (at least 1).
            user_id: Only this member's actions.
            action: Only actions of this kind, e.g. "session.stop".
            offset: Skip this many of the newest first: `limit * (page - 1)` for a page.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if offset < 0:
            raise ValueError(f"offset must not be negative, not {offset}")
        where, params = _audit_filter(guild_id, user_id, action)
        params.update(limit=limit, offset=offset)
        # `where` is assembled from constant fragments; every value is a bound parameter.
        sql = (
            f"SELECT * FROM audit_log WHERE {where}"  # noqa: S608
            " ORDER BY id DESC LIMIT :limit OFFSET :offset"
        )
        async with self._db.reading() as tx:
            found = await tx.all(sql, params)
        return [rows.audit_from_row(row) for row in found]

    async def count_audit(
        self, guild_id: int | None, *, user_id: int | None = None, action: str | None = None
    ) -> int:
        """How many recorded actions match; the filters are those of `audit_log`."""
        where, params = _audit_filter(guild_id, user_id, action)
        sql = f"SELECT COUNT(*) FROM audit_log WHERE {where}"  # noqa: S608  (as in audit_log)
        async with self._db.reading() as tx:
            row = await tx.one(sql, params)
        return 0 if row is None else int(row[0])


def _audit_filter(
    guild_id: int | None, user_id: int | None, action: str | None
) -> tuple[str, dict[str, SqlValue]]:
    """The WHERE clause and values for the given filters."""
    return where_all(
        {
            "guild_id = :guild_id": guild_id,
            "user_id = :user_id": user_id,
            "action = :action": action,
        }
    )
