"""Store methods for what the audience does: votes on replies and questions between rounds."""

from __future__ import annotations

from collections.abc import Iterable

from bot.council.models import AudienceQuestion, Vote, VoteOutcome, VoteValue
from bot.store import rows
from bot.store.base import StoreBase
from bot.store.db import Transaction
from bot.store.errors import RecordNotFoundError


class AudienceQueries(StoreBase):
    """Votes and audience questions."""

    async def record_vote(self, reply_id: int, user_id: int, value: VoteValue) -> VoteOutcome:
        """Apply one click of a vote button: the same value again withdraws, the other switches.

        The read and the change are one transaction, so clicks apply one at a time in arrival
        order: two identical clicks by one user at once end with no vote (on, then off).

        Raises:
            RecordNotFoundError: no such reply (a button outliving its database).
        """
        async with self._db.writing() as tx:
            if await tx.one("SELECT 1 FROM replies WHERE id = ?", (reply_id,)) is None:
                raise RecordNotFoundError("reply", reply_id)
            row = await tx.one(
                "SELECT value FROM votes WHERE reply_id = ? AND user_id = ?", (reply_id, user_id)
            )
            previous = None if row is None else VoteValue(row["value"])
            current: VoteValue | None
            if previous == value:
                await tx.run(
                    "DELETE FROM votes WHERE reply_id = ? AND user_id = ?", (reply_id, user_id)
                )
                current = None
            else:
                await tx.run(
                    "INSERT INTO votes (reply_id, user_id, value, updated_at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (reply_id, user_id)"
                    " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (reply_id, user_id, value, self._stamp()),
                )
                current = value
            up, down = await _counts(tx, reply_id)
        return VoteOutcome(reply_id=reply_id, previous=previous, current=current, up=up, down=down)

    async def votes_for(self, reply_id: int) -> tuple[int, int]:
        """The reply's (up, down) counts; (0, 0) for an unknown reply."""
        async with self._db.reading() as tx:
            return await _counts(tx, reply_id)

    async def vote_counts(self, session_id: int) -> dict[int, tuple[int, int]]:
        """(up, down) for every reply of the session, by reply id, including unvoted ones."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT r.id AS reply_id,"
                " COALESCE(SUM(v.value = :up), 0) AS up, COALESCE(SUM(v.value = :down), 0) AS down"
                " FROM replies AS r LEFT JOIN votes AS v ON v.reply_id = r.id"
                " WHERE r.session_id = :session GROUP BY r.id ORDER BY r.id",
                {"session": session_id, "up": VoteValue.UP, "down": VoteValue.DOWN},
            )
        return {row["reply_id"]: (row["up"], row["down"]) for row in found}

    async def votes(self, session_id: int) -> list[Vote]:
        """Every current vote on the session's replies, by reply then voter."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT v.* FROM votes AS v JOIN replies AS r ON r.id = v.reply_id"
                " WHERE r.session_id = ? ORDER BY v.reply_id, v.user_id",
                (session_id,),
            )
        return [rows.vote_from_row(row) for row in found]

    async def add_question(
        self, session_id: int, user_id: int | None, display_name: str, text: str
    ) -> AudienceQuestion:
        """Queue an audience question for the next round boundary.

        Raises:
            sqlite3.IntegrityError: the session does not exist.
        """
        async with self._db.writing() as tx:
            question_id = await tx.insert(
                "INSERT INTO audience_questions (session_id, user_id, display_name, text, asked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (session_id, user_id, display_name, text, self._stamp()),
            )
            row = await tx.one("SELECT * FROM audience_questions WHERE id = ?", (question_id,))
        if row is None:
            raise RecordNotFoundError("audience question", question_id)
        return rows.question_from_row(row)

    async def questions(self, session_id: int) -> list[AudienceQuestion]:
        """Every question asked in the session, answered or not, oldest first."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM audience_questions WHERE session_id = ? ORDER BY id", (session_id,)
            )
        return [rows.question_from_row(row) for row in found]

    async def pending_questions(self, session_id: int) -> list[AudienceQuestion]:
        """The session's unanswered questions, oldest first."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM audience_questions"
                " WHERE session_id = ? AND answered_in_round IS NULL ORDER BY id",
                (session_id,),
            )
        return [rows.question_from_row(row) for row in found]

    async def mark_questions_answered(self, question_ids: Iterable[int], round_number: int) -> int:
        """Mark these questions answered in `round_number`; return how many were still pending.

        A question already answered keeps its first round.
        """
        async with self._db.writing() as tx:
            return await tx.run_many(
                "UPDATE audience_questions SET answered_in_round = ?"
                " WHERE id = ? AND answered_in_round IS NULL",
                [(round_number, question_id) for question_id in question_ids],
            )


async def _counts(tx: Transaction, reply_id: int) -> tuple[int, int]:
    row = await tx.one(
        "SELECT COALESCE(SUM(value = :up), 0), COALESCE(SUM(value = :down), 0)"
        " FROM votes WHERE reply_id = :reply",
        {"reply": reply_id, "up": VoteValue.UP, "down": VoteValue.DOWN},
    )
    return (0, 0) if row is None else (int(row[0]), int(row[1]))
