"""Challenge sets, challenges, and predictions in the store."""

from __future__ import annotations

import pytest

from bot.council.challenge import Question
from bot.council.challenge_records import NewChallenge, PredictionCount
from bot.council.challenge_scores import MemberAnswer, QuestionResult
from bot.store.errors import RecordNotFoundError

GUILD = 10
SET = (Question("2+2?", "4"), Question("Which?", "B", ("Rome", "Paris")))


async def test_a_guild_keeps_its_own_sets_and_an_upload_replaces_one_of_the_same_name(store):
    assert await store.save_challenge_set(GUILD, "trivia", SET, user_id=5) is False
    assert await store.save_challenge_set(GUILD, "trivia", SET[:1], user_id=6) is True
    await store.save_challenge_set(GUILD + 1, "other", SET, user_id=5)
    [info] = await store.challenge_sets(GUILD)
    assert (info.name, info.question_count, info.uploaded_by) == ("trivia", 1, 6)
    assert await store.challenge_set_questions(GUILD, "trivia") == SET[:1]
    assert await store.challenge_set_questions(GUILD, "other") is None
    assert await store.remove_challenge_set(GUILD, "trivia") is True
    assert await store.remove_challenge_set(GUILD, "trivia") is False
    assert await store.challenge_sets(GUILD) == []


def _result(question: Question) -> QuestionResult:
    return QuestionResult(
        question,
        {"Claude": MemberAnswer("Answer: B", "B"), "Llama": MemberAnswer("hmm", None)},
        {"Claude": MemberAnswer("Answer: B", "B"), "Llama": MemberAnswer("Answer: A", "A")},
    )


async def test_one_prediction_per_member_counts_until_the_reveal_closes_them(store):
    new = NewChallenge(GUILD, 20, 5, "trivia", "default", "ru", SET)
    challenge = await store.create_challenge(new)
    assert await store.record_prediction(challenge.id, 1, 7, "right") is False  # not posted
    await store.post_challenge_question(challenge.id, 1, 900)
    assert await store.record_prediction(challenge.id, 1, 7, "right")
    assert await store.record_prediction(challenge.id, 1, 7, "wrong")  # changed their mind
    assert await store.record_prediction(challenge.id, 1, 8, "wrong")
    assert await store.record_prediction(challenge.id, 1, 9, "right")
    counts = await store.reveal_challenge_question(challenge.id, 1, _result(SET[0]))
    assert counts == PredictionCount(right=1, wrong=2)
    assert await store.record_prediction(challenge.id, 1, 10, "right") is False  # closed
    with pytest.raises(RecordNotFoundError):
        await store.reveal_challenge_question(challenge.id, 2, _result(SET[1]))

    await store.post_challenge_question(challenge.id, 2, 901)
    [unfinished] = await store.unfinished_challenges()
    assert unfinished.questions == SET
    assert (unfinished.preset, unfinished.locale) == ("default", "ru")
    assert unfinished.posted == {1: 900, 2: 901}
    assert unfinished.results == {1: _result(SET[0])}
    assert list(unfinished.results[1].final) == ["Claude", "Llama"]
    await store.finish_challenge(challenge.id)
    assert await store.unfinished_challenges() == []
    assert (await store.challenge(challenge.id)).ended_at is not None
