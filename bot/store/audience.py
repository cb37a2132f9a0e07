"""Store methods for what the audience does: votes on replies and questions between rounds."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from bot.council.models import (
    AudienceQuestion,
    GuildSettings,
    Vote,
    VoteClick,
    VoteOutcome,
    VoteTarget,
    VoteValue,
)
from bot.store import rows
from bot.store.base import StoreBase
from bot.store.db import PerDialect, Transaction
from bot.store.errors import QuestionLimitError, QuestionQuotaError, RecordNotFoundError

# A batch of clicks passes its reply ids, and its (reply, user) pairs, as one JSON array each,
# which each dialect unpacks with its own JSON functions.
_KNOWN_REPLIES = PerDialect(
    sqlite="SELECT id FROM replies WHERE id IN (SELECT value FROM json_each(?))",
    postgresql="SELECT id FROM replies"
    " WHERE id IN (SELECT value::bigint FROM json_array_elements_text(?::json))",
)
_STANDING_VOTES = PerDialect(
    sqlite="SELECT reply_id, user_id, value FROM votes WHERE (reply_id, user_id) IN"
    " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
    postgresql="SELECT reply_id, user_id, value FROM votes WHERE (reply_id, user_id) IN"
    " (SELECT (value->>0)::bigint, (value->>1)::bigint FROM json_array_elements(?::json))",
)
_VOTE_COUNTS = PerDialect(
    sqlite="SELECT reply_id, value, COUNT(*) AS n FROM votes"
    " WHERE reply_id IN (SELECT value FROM json_each(?)) GROUP BY reply_id, value",
    postgresql="SELECT reply_id, value, COUNT(*) AS n FROM votes"
    " WHERE reply_id IN (SELECT value::bigint FROM json_array_elements_text(?::json))"
    " GROUP BY reply_id, value",
)


class AudienceQueries(StoreBase):
    """Votes and audience questions."""

    async def record_vote(self, reply_id: int, user_id: int, value: VoteValue) -> VoteOutcome:
        """Apply one click of a vote button: the same value again withdraws, the other switches.

        The read and the change are one transaction, so clicks apply one at a time in arrival
        order: two identical clicks by one user at once end with no vote (on, then off).

        Raises:
            RecordNotFoundError: no such reply (a button outliving its database).
        """
        [outcome] = await self.record_votes(
            [VoteClick(reply_id=reply_id, user_id=user_id, value=value)]
        )
        if isinstance(outcome, RecordNotFoundError):
            raise outcome
        return outcome

    async def record_votes(
        self, clicks: Sequence[VoteClick]
    ) -> list[VoteOutcome | RecordNotFoundError]:
        """Apply many clicks in arrival order in one transaction, each as `record_vote` would.

        A click on a reply that does not exist gets a RecordNotFoundError in its place; the
        others still count. A few statements serve the whole batch however large it is.
        """
        replies = json.dumps(sorted({c.reply_id for c in clicks}))
        pairs = json.dumps(sorted({(c.reply_id, c.user_id) for c in clicks}))
        async with self._db.writing() as tx:
            known = {row["id"] for row in await tx.all(_KNOWN_REPLIES, (replies,))}
            standing: dict[tuple[int, int], VoteValue | None] = {
                (row["reply_id"], row["user_id"]): VoteValue(row["value"])
                for row in await tx.all(_STANDING_VOTES, (pairs,))
            }
            counts: dict[int, dict[VoteValue, int]] = {
                reply_id: dict.fromkeys(VoteValue, 0) for reply_id in known
            }
            for row in await tx.all(_VOTE_COUNTS, (replies,)):
                counts[row["reply_id"]][VoteValue(row["value"])] = row["n"]
            outcomes: list[VoteOutcome | RecordNotFoundError] = []
            for click in clicks:
                if click.reply_id not in known:
                    outcomes.append(RecordNotFoundError("reply", click.reply_id))
                    continue
                key = (click.reply_id, click.user_id)
                previous = standing.get(key)
                current = None if previous is click.value else click.value
                standing[key] = current
                tally = counts[click.reply_id]
                if previous is not None:
                    tally[previous] -= 1
                if current is not None:
                    tally[current] += 1
                outcomes.append(
                    VoteOutcome(
                        reply_id=click.reply_id,
                        previous=previous,
                        current=current,
                        up=tally[VoteValue.UP],
                        down=tally[VoteValue.DOWN],
                    )
                )
            touched = {(c.reply_id, c.user_id) for c in clicks if c.reply_id in known}
            stamp = self._stamp()
            await tx.run_many(
                "DELETE FROM votes WHERE reply_id = ? AND user_id = ?",
                [key for key in touched if standing[key] is None],
            )
            await tx.run_many(
                "INSERT INTO votes (reply_id, user_id, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (reply_id, user_id)"
                " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                [(*key, value, stamp) for key in touched if (value := standing[key]) is not None],
            )
        return outcomes

    async def vote_target(self, reply_id: int) -> VoteTarget | None:
        """What a click on this reply's vote button is judged on; None if the reply is gone.

        One statement: every click of a burst (thousands a second) reads it.
        """
        found = await self._db.query(
            "SELECT r.id AS reply_id, r.kind, r.status, r.session_id, s.guild_id,"
            " s.status AS session_status, s.ended_at, g.settings_json"
            " FROM replies AS r JOIN sessions AS s ON s.id = r.session_id"
            " LEFT JOIN guild_settings AS g ON g.guild_id = s.guild_id WHERE r.id = ?",
            (reply_id,),
        )
        if not found:
            return None
        row = found[0]
        guild_id = row["guild_id"]
        return VoteTarget(
            reply_id=row["reply_id"],
            kind=row["kind"],
            status=row["status"],
            session_id=row["session_id"],
            guild_id=guild_id,
            session_status=row["session_status"],
            ended_at=rows.from_db_time_or_none(row["ended_at"]),
            settings=GuildSettings(guild_id=guild_id or 0)
            if row["settings_json"] is None
            else rows.settings_from_row(row),
        )

    async def votes_for(self, reply_id: int) -> tuple[int, int]:
        """The reply's (up, down) counts; (0, 0) for an unknown reply."""
        async with self._db.reading() as tx:
            return await _counts(tx, reply_id)

    async def vote_counts(self, session_id: int) -> dict[int, tuple[int, int]]:
        """(up, down) for every reply of the session, by reply id, including unvoted ones."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT r.id AS reply_id,"
                " COALESCE(SUM(CASE WHEN v.value = :up THEN 1 ELSE 0 END), 0) AS up,"
                " COALESCE(SUM(CASE WHEN v.value = :down THEN 1 ELSE 0 END), 0) AS down"
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
        self,
        session_id: int,
        user_id: int | None,
        display_name: str,
        text: str,
        *,
        max_pending: int | None = None,
        max_asked: int | None = None,
        addressee: str | None = None,
    ) -> AudienceQuestion:
        """Queue an audience question for the next round boundary, to one member (`addressee`,
        a persona) or to the whole council.

        With `max_pending`, `user_id` may have at most that many unanswered questions in the
        session; with `max_asked`, at most that many questions in the session in all. The
        counts and the insert share one transaction, so quick repeats can't pass them.

        Raises:
            ConstraintError: the session does not exist.
            QuestionLimitError: the member already has `max_pending` questions waiting.
            QuestionQuotaError: the member has already asked `max_asked` questions.
        """
        async with self._db.writing() as tx:
            if max_asked is not None and user_id is not None:
                asked = await tx.one(
                    "SELECT COUNT(*) FROM audience_questions WHERE session_id = ? AND user_id = ?",
                    (session_id, user_id),
                )
                if asked is not None and int(asked[0]) >= max_asked:
                    raise QuestionQuotaError(session_id, max_asked)
            if max_pending is not None and user_id is not None:
                waiting = await tx.one(
                    "SELECT COUNT(*) FROM audience_questions"
                    " WHERE session_id = ? AND user_id = ? AND answered_in_round IS NULL",
                    (session_id, user_id),
                )
                if waiting is not None and int(waiting[0]) >= max_pending:
                    raise QuestionLimitError(session_id, max_pending)
            question_id = await tx.insert(
                "INSERT INTO audience_questions (session_id, user_id, display_name, text, asked_at,"
                " addressee) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, user_id, display_name, text, self._stamp(), addressee),
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
        "SELECT COALESCE(SUM(CASE WHEN value = :up THEN 1 ELSE 0 END), 0),"
        " COALESCE(SUM(CASE WHEN value = :down THEN 1 ELSE 0 END), 0)"
        " FROM votes WHERE reply_id = :reply",
        {"reply": reply_id, "up": VoteValue.UP, "down": VoteValue.DOWN},
    )
    return (0, 0) if row is None else (int(row[0]), int(row[1]))
