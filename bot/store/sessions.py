"""Store methods for sessions, their seated members and their rounds."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from bot.council.models import Member, NewSession, Round, Session, SessionStatus
from bot.i18n import t
from bot.store import rows
from bot.store.base import StoreBase, load_session
from bot.store.db import Params, SqlValue, Transaction, where_all
from bot.store.errors import RecordNotFoundError

log = logging.getLogger(__name__)

INTERRUPTED_REASON = t("council.interrupted-by-restart")
"""Why a session found running at start-up is paused, stored in the session's own locale."""


class SessionQueries(StoreBase):
    """Sessions, members and rounds."""

    async def create_session(self, new: NewSession) -> Session:
        """Store a new running session, started now."""
        async with self._db.writing() as tx:
            session_id = await tx.insert(
                "INSERT INTO sessions (guild_id, channel_id, thread_id, host_id, topic, format,"
                " rounds, preset, chair, language, locale, is_blind, budget_tokens, budget_usd,"
                " status, started_at, council_id, charter, speaking_order, end_on_agreement)"
                " VALUES (:guild_id, :channel_id,"
                " :thread_id, :host_id, :topic, :format, :rounds, :preset, :chair, :language,"
                " :locale, :is_blind, :budget_tokens, :budget_usd, :status, :started_at,"
                " :council_id, :charter, :speaking_order, :end_on_agreement)",
                {
                    "council_id": new.council_id,
                    "charter": new.charter,
                    "speaking_order": new.speaking_order,
                    "end_on_agreement": int(new.end_on_agreement),
                    "guild_id": new.guild_id,
                    "channel_id": new.channel_id,
                    "thread_id": new.thread_id,
                    "host_id": new.host_id,
                    "topic": new.topic,
                    "format": new.format,
                    "rounds": new.rounds,
                    "preset": new.preset,
                    "chair": new.chair,
                    "language": new.language,
                    "locale": new.locale,
                    "is_blind": int(new.is_blind),
                    "budget_tokens": new.budget_tokens,
                    "budget_usd": new.budget_usd,
                    "status": SessionStatus.RUNNING,
                    "started_at": self._stamp(),
                },
            )
            return await load_session(tx, session_id)

    async def get_session(self, session_id: int) -> Session | None:
        """The session with this id, if any."""
        return await self._first_session("SELECT * FROM sessions WHERE id = ?", (session_id,))

    async def session_for_thread(self, thread_id: int) -> Session | None:
        """The newest session held in this Discord thread, if any."""
        return await self._first_session(
            "SELECT * FROM sessions WHERE thread_id = ? ORDER BY id DESC LIMIT 1", (thread_id,)
        )

    async def active_session_in_channel(self, channel_id: int) -> Session | None:
        """The newest session started from this channel that is running or paused, if any."""
        return await self._first_session(
            "SELECT * FROM sessions WHERE channel_id = ? AND status IN (?, ?)"
            " ORDER BY id DESC LIMIT 1",
            (channel_id, SessionStatus.RUNNING, SessionStatus.PAUSED),
        )

    async def guild_spend_usd(self, guild_id: int, since: datetime) -> float:
        """What the guild spent since `since`, in estimated USD, by when each call was made.

        Every call counts at its own time, failed ones too, whenever its session started: a
        council that began yesterday and spoke today spent today.
        """
        # CROSS JOIN keeps replies as the outer loop: a day's replies, found by their time,
        # are far fewer than a guild's whole history, which the guild index would read.
        async with self._db.reading() as tx:
            row = await tx.one(
                "SELECT COALESCE(SUM(r.cost_usd), 0) FROM replies AS r"
                " CROSS JOIN sessions AS s"
                " WHERE r.created_at >= ? AND s.id = r.session_id AND s.guild_id = ?",
                (rows.to_db_time(since), guild_id),
            )
        return 0.0 if row is None else float(row[0])

    async def list_sessions(
        self,
        guild_id: int | None = None,
        status: SessionStatus | None = None,
        limit: int = 25,
        before: int | None = None,
        since: datetime | None = None,
    ) -> list[Session]:
        """Sessions, newest first, optionally filtered.

        Args:
            guild_id: Only this guild's sessions.
            status: Only sessions in this status.
            limit: At most this many (at least 1).
            before: Only sessions with a smaller id: pass a page's last id to get the next page.
            since: Only sessions started at or after this moment.
        """
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        where, params = _session_filter(guild_id, status, since)
        if before is not None:
            where += " AND id < :before"
            params["before"] = before
        params["limit"] = limit
        # `where` is assembled from constant fragments; every value is a bound parameter.
        sql = f"SELECT * FROM sessions WHERE {where} ORDER BY id DESC LIMIT :limit"  # noqa: S608
        async with self._db.reading() as tx:
            found = await tx.all(sql, params)
        return [rows.session_from_row(row) for row in found]

    async def count_sessions(
        self,
        guild_id: int | None = None,
        status: SessionStatus | None = None,
        since: datetime | None = None,
    ) -> int:
        """How many sessions match; the filters are those of `list_sessions`."""
        where, params = _session_filter(guild_id, status, since)
        sql = f"SELECT COUNT(*) FROM sessions WHERE {where}"  # noqa: S608  (as in list_sessions)
        async with self._db.reading() as tx:
            row = await tx.one(sql, params)
        return 0 if row is None else int(row[0])

    async def set_session_status(
        self, session_id: int, status: SessionStatus, reason: str | None = None
    ) -> Session:
        """Move a session to `status` with `reason` (None clears the old reason).

        A final status stamps `ended_at` now; any other status clears it, as when resuming.
        """
        ended_at = self._stamp() if status.is_final else None
        return await self._update_session(
            session_id,
            "UPDATE sessions SET status = ?, stop_reason = ?, ended_at = ? WHERE id = ?",
            (status, reason, ended_at, session_id),
        )

    async def set_session_thread(self, session_id: int, thread_id: int, channel_id: int) -> Session:
        """Record the thread a session is held in and the channel that thread belongs to."""
        return await self._update_session(
            session_id,
            "UPDATE sessions SET thread_id = ?, channel_id = ? WHERE id = ?",
            (thread_id, channel_id, session_id),
        )

    async def save_synthesis(self, session_id: int, synthesis_json: str) -> Session:
        """Keep the session's closing synthesis, the engine's JSON stored as given."""
        return await self._update_session(
            session_id,
            "UPDATE sessions SET synthesis_json = ? WHERE id = ?",
            (synthesis_json, session_id),
        )

    async def set_summary_message(self, session_id: int, message_id: int) -> Session:
        """Record the Discord message carrying the session's summary."""
        return await self._update_session(
            session_id,
            "UPDATE sessions SET summary_message_id = ? WHERE id = ?",
            (message_id, session_id),
        )

    async def add_members(self, session_id: int, members: Sequence[Member]) -> None:
        """Seat these members in the session, all or none.

        Raises:
            ValueError: a member belongs to another session.
            ConstraintError: no such session, or a position or persona is taken.
        """
        strays = [m.persona for m in members if m.session_id != session_id]
        if strays:
            raise ValueError(f"members {strays} do not belong to session {session_id}")
        async with self._db.writing() as tx:
            await tx.run_many(
                "INSERT INTO members (session_id, position, persona, model_key, model, provider,"
                " role, color, avatar_url, alias) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        session_id,
                        m.position,
                        m.persona,
                        m.model_key,
                        m.model,
                        m.provider,
                        m.role,
                        m.color,
                        m.avatar_url,
                        m.alias,
                    )
                    for m in members
                ],
            )

    async def members(self, session_id: int) -> list[Member]:
        """The session's members in seating order."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM members WHERE session_id = ? ORDER BY position", (session_id,)
            )
        return [rows.member_from_row(row) for row in found]

    async def start_round(self, session_id: int, number: int, question: str | None = None) -> Round:
        """Open round `number`, or return it unchanged if already open.

        A repeat call (a resumed session re-entering its round) keeps the first start time and
        only fills in the question if the round had none.
        """
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO rounds (session_id, number, question, started_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (session_id, number)"
                " DO UPDATE SET question = COALESCE(rounds.question, excluded.question)",
                (session_id, number, question, self._stamp()),
            )
            return await _load_round(tx, session_id, number)

    async def finish_round(self, session_id: int, number: int) -> Round:
        """Stamp the round finished now (the first finish time stays)."""
        return await self._update_round(
            session_id,
            number,
            "UPDATE rounds SET finished_at = COALESCE(finished_at, ?)"
            " WHERE session_id = ? AND number = ?",
            (self._stamp(), session_id, number),
        )

    async def set_round_first_message(self, session_id: int, number: int, message_id: int) -> Round:
        """Record the Discord message that opens the round (a jump target for summaries)."""
        return await self._update_round(
            session_id,
            number,
            "UPDATE rounds SET first_message_id = ? WHERE session_id = ? AND number = ?",
            (message_id, session_id, number),
        )

    async def rounds(self, session_id: int) -> list[Round]:
        """The session's rounds in order."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM rounds WHERE session_id = ? ORDER BY number", (session_id,)
            )
        return [rows.round_from_row(row) for row in found]

    async def _first_session(self, sql: str, params: Params) -> Session | None:
        async with self._db.reading() as tx:
            row = await tx.one(sql, params)
        return None if row is None else rows.session_from_row(row)

    async def _update_session(self, session_id: int, sql: str, params: Params) -> Session:
        async with self._db.writing() as tx:
            if await tx.run(sql, params) == 0:
                raise RecordNotFoundError("session", session_id)
            return await load_session(tx, session_id)

    async def _update_round(self, session_id: int, number: int, sql: str, params: Params) -> Round:
        async with self._db.writing() as tx:
            if await tx.run(sql, params) == 0:
                raise RecordNotFoundError("round", f"{number} of session {session_id}")
            return await _load_round(tx, session_id, number)


async def _load_round(tx: Transaction, session_id: int, number: int) -> Round:
    row = await tx.one(
        "SELECT * FROM rounds WHERE session_id = ? AND number = ?", (session_id, number)
    )
    if row is None:
        raise RecordNotFoundError("round", f"{number} of session {session_id}")
    return rows.round_from_row(row)


def _session_filter(
    guild_id: int | None, status: SessionStatus | None, since: datetime | None
) -> tuple[str, dict[str, SqlValue]]:
    """The WHERE clause and values for the given filters."""
    return where_all(
        {
            "guild_id = :guild_id": guild_id,
            "status = :status": status,
            "started_at >= :since": None if since is None else rows.to_db_time(since),
        }
    )
