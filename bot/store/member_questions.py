"""Store methods for the questions members put to each other."""

from __future__ import annotations

from collections.abc import Iterable

from bot.council.models import MemberQuestion, Reply
from bot.store.base import StoreBase
from bot.store.db import Row


class MemberQuestionQueries(StoreBase):
    """Questions between members: who asked whom what, and which reply answered."""

    async def add_member_question(
        self,
        session_id: int,
        asker: str,
        addressee: str,
        text: str,
        *,
        round_asked: int,
        asked_in_reply: int | None,
    ) -> MemberQuestion:
        """Record a question one member put to another in round `round_asked`."""
        async with self._db.writing() as tx:
            question_id = await tx.insert(
                "INSERT INTO member_questions (session_id, asker, addressee, text, round_asked,"
                " asked_in_reply) VALUES (?, ?, ?, ?, ?, ?)",
                (session_id, asker, addressee, text, round_asked, asked_in_reply),
            )
        return MemberQuestion(
            id=question_id,
            session_id=session_id,
            asker=asker,
            addressee=addressee,
            text=text,
            round_asked=round_asked,
            asked_in_reply=asked_in_reply,
        )

    async def mark_member_questions_answered(
        self, question_ids: Iterable[int], round_number: int, reply_id: int
    ) -> None:
        """Record that `reply_id`, in round `round_number`, answered these questions."""
        async with self._db.writing() as tx:
            for question_id in question_ids:
                await tx.run(
                    "UPDATE member_questions SET answered_in_round = ?, answer_reply_id = ?"
                    " WHERE id = ?",
                    (round_number, reply_id, question_id),
                )

    async def questions_put_in(self, reply: Reply) -> list[MemberQuestion]:
        """The questions a reply put to other members, in the order put."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM member_questions WHERE session_id = ? AND asked_in_reply = ?"
                " ORDER BY id",
                (reply.session_id, reply.id),
            )
        return [_question(row) for row in found]

    async def set_member_questions_message(
        self, question_ids: Iterable[int], message_id: int
    ) -> None:
        """Record the Discord message that shows these questions."""
        async with self._db.writing() as tx:
            await tx.run_many(
                "UPDATE member_questions SET message_id = ? WHERE id = ?",
                [(message_id, question_id) for question_id in question_ids],
            )

    async def member_questions(self, session_id: int) -> list[MemberQuestion]:
        """Every question members put to each other in the session, in the order put."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM member_questions WHERE session_id = ? ORDER BY id", (session_id,)
            )
        return [_question(row) for row in found]


def _question(row: Row) -> MemberQuestion:
    return MemberQuestion(
        id=row["id"],
        session_id=row["session_id"],
        asker=row["asker"],
        addressee=row["addressee"],
        text=row["text"],
        round_asked=row["round_asked"],
        asked_in_reply=row["asked_in_reply"],
        answered_in_round=row["answered_in_round"],
        answer_reply_id=row["answer_reply_id"],
        message_id=row["message_id"],
    )
