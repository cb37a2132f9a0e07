"""Store methods for challenges: uploaded question sets, runs, and the audience's predictions."""

from __future__ import annotations

import json

from bot.council.challenge import Question, questions_from_json, questions_to_json
from bot.council.challenge_records import (
    ChallengeRecord,
    ChallengeSetInfo,
    NewChallenge,
    Prediction,
    PredictionCount,
)
from bot.council.challenge_scores import MemberAnswer, QuestionResult
from bot.store import rows
from bot.store.base import StoreBase
from bot.store.db import Row, Transaction, ordered_by_text
from bot.store.errors import RecordNotFoundError


class ChallengeQueries(StoreBase):
    """Question sets per guild, challenges, their questions and predictions."""

    async def save_challenge_set(
        self, guild_id: int, name: str, questions: tuple[Question, ...], user_id: int
    ) -> bool:
        """Keep an uploaded set under `name` in the guild, replacing one of that name; True if
        it replaced one."""
        async with self._db.writing() as tx:
            removed = await tx.run(
                "DELETE FROM challenge_sets WHERE guild_id = ? AND name = ?", (guild_id, name)
            )
            await tx.run(
                "INSERT INTO challenge_sets (guild_id, name, questions, question_count,"
                " uploaded_by, uploaded_at) VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, name, questions_to_json(questions), len(questions), user_id,
                 self._stamp()),
            )  # fmt: skip
        return removed > 0

    async def challenge_sets(self, guild_id: int) -> list[ChallengeSetInfo]:
        """The guild's uploaded sets, by name."""
        async with self._db.reading() as tx:
            found = await tx.all(
                ordered_by_text(
                    "SELECT guild_id, name, question_count, uploaded_by, uploaded_at"
                    " FROM challenge_sets WHERE guild_id = ?",
                    "name",
                ),
                (guild_id,),
            )
        return [
            ChallengeSetInfo(
                guild_id=row["guild_id"],
                name=row["name"],
                question_count=row["question_count"],
                uploaded_by=row["uploaded_by"],
                uploaded_at=rows.from_db_time(row["uploaded_at"]),
            )
            for row in found
        ]

    async def challenge_set_questions(
        self, guild_id: int, name: str
    ) -> tuple[Question, ...] | None:
        """The questions of the guild's set `name`, or None if it has none of that name."""
        async with self._db.reading() as tx:
            row = await tx.one(
                "SELECT questions FROM challenge_sets WHERE guild_id = ? AND name = ?",
                (guild_id, name),
            )
        return None if row is None else questions_from_json(row["questions"])

    async def remove_challenge_set(self, guild_id: int, name: str) -> bool:
        """Forget the guild's set `name`; False if there was none."""
        async with self._db.writing() as tx:
            removed = await tx.run(
                "DELETE FROM challenge_sets WHERE guild_id = ? AND name = ?", (guild_id, name)
            )
        return removed > 0

    async def create_challenge(self, new: NewChallenge) -> ChallengeRecord:
        """Record a challenge starting now."""
        started = self._now()
        async with self._db.writing() as tx:
            challenge_id = await tx.insert(
                "INSERT INTO challenges (guild_id, channel_id, user_id, set_name, preset, locale,"
                " questions, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (new.guild_id, new.channel_id, new.user_id, new.set_name, new.preset, new.locale,
                 questions_to_json(new.questions), rows.to_db_time(started)),
            )  # fmt: skip
        return ChallengeRecord(
            id=challenge_id,
            guild_id=new.guild_id,
            channel_id=new.channel_id,
            user_id=new.user_id,
            set_name=new.set_name,
            preset=new.preset,
            locale=new.locale,
            questions=new.questions,
            started_at=started,
        )

    async def challenge(self, challenge_id: int) -> ChallengeRecord:
        """The challenge with its posted and revealed questions.

        Raises:
            RecordNotFoundError: there is none.
        """
        async with self._db.reading() as tx:
            row = await tx.one("SELECT * FROM challenges WHERE id = ?", (challenge_id,))
            if row is None:
                raise RecordNotFoundError("challenge", challenge_id)
            return await _load(tx, row)

    async def unfinished_challenges(self) -> list[ChallengeRecord]:
        """Challenges a restart interrupted, oldest first."""
        async with self._db.reading() as tx:
            found = await tx.all("SELECT * FROM challenges WHERE ended_at IS NULL ORDER BY id")
            return [await _load(tx, row) for row in found]

    async def post_challenge_question(
        self, challenge_id: int, number: int, message_id: int
    ) -> None:
        """Record that question `number` is posted in `message_id`: predictions open."""
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO challenge_questions (challenge_id, number, message_id)"
                " VALUES (?, ?, ?)",
                (challenge_id, number, message_id),
            )

    async def record_prediction(
        self, challenge_id: int, number: int, user_id: int, prediction: Prediction
    ) -> bool:
        """Keep a member's prediction on a question, replacing their earlier one; False when
        predictions on it are closed (revealed) or it was never posted."""
        async with self._db.writing() as tx:
            question = await tx.one(
                "SELECT revealed_at FROM challenge_questions WHERE challenge_id = ? AND number = ?",
                (challenge_id, number),
            )
            if question is None or question["revealed_at"] is not None:
                return False
            await tx.run(
                "DELETE FROM challenge_predictions"
                " WHERE challenge_id = ? AND number = ? AND user_id = ?",
                (challenge_id, number, user_id),
            )
            await tx.run(
                "INSERT INTO challenge_predictions (challenge_id, number, user_id, prediction,"
                " made_at) VALUES (?, ?, ?, ?, ?)",
                (challenge_id, number, user_id, prediction, self._stamp()),
            )
        return True

    async def reveal_challenge_question(
        self, challenge_id: int, number: int, result: QuestionResult
    ) -> PredictionCount:
        """Keep a question's result and close its predictions; the predictions it had.

        Raises:
            RecordNotFoundError: the question was never posted.
        """
        async with self._db.writing() as tx:
            changed = await tx.run(
                "UPDATE challenge_questions SET result = ?, revealed_at = ?"
                " WHERE challenge_id = ? AND number = ?",
                (_result_to_json(result), self._stamp(), challenge_id, number),
            )
            if not changed:
                raise RecordNotFoundError("challenge question", challenge_id)
            counts = {
                row["prediction"]: row["n"]
                for row in await tx.all(
                    "SELECT prediction, COUNT(*) AS n FROM challenge_predictions"
                    " WHERE challenge_id = ? AND number = ? GROUP BY prediction",
                    (challenge_id, number),
                )
            }
        return PredictionCount(right=counts.get("right", 0), wrong=counts.get("wrong", 0))

    async def finish_challenge(self, challenge_id: int) -> None:
        """Record that the challenge is over (its summary is posted, or it can't go on)."""
        async with self._db.writing() as tx:
            await tx.run(
                "UPDATE challenges SET ended_at = ? WHERE id = ?", (self._stamp(), challenge_id)
            )


async def _load(tx: Transaction, row: Row) -> ChallengeRecord:
    questions = questions_from_json(row["questions"])
    posted: dict[int, int] = {}
    results: dict[int, QuestionResult] = {}
    for asked in await tx.all(
        "SELECT number, message_id, result FROM challenge_questions WHERE challenge_id = ?"
        " ORDER BY number",
        (row["id"],),
    ):
        posted[asked["number"]] = asked["message_id"]
        if asked["result"] is not None:
            results[asked["number"]] = _result_from_json(
                questions[asked["number"] - 1], asked["result"]
            )
    return ChallengeRecord(
        id=row["id"],
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        user_id=row["user_id"],
        set_name=row["set_name"],
        preset=row["preset"],
        locale=row["locale"],
        questions=questions,
        started_at=rows.from_db_time(row["started_at"]),
        ended_at=rows.from_db_time_or_none(row["ended_at"]),
        posted=posted,
        results=results,
    )


def _result_to_json(result: QuestionResult) -> str:
    """A result's answers in seat order (JSON objects keep their keys' order)."""
    return json.dumps(
        {
            stage: {name: [said.text, said.answer] for name, said in answers.items()}
            for stage, answers in (("first", result.first), ("final", result.final))
        },
        ensure_ascii=False,
    )


def _result_from_json(question: Question, text: str) -> QuestionResult:
    data = json.loads(text)
    first, final = (
        {name: MemberAnswer(said, answer) for name, (said, answer) in data[stage].items()}
        for stage in ("first", "final")
    )
    return QuestionResult(question, first, final)
