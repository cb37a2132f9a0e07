"""A challenge against the fake model server: scripted accuracy and scripted changes of mind."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.council.challenge import Question, arithmetic_questions
from bot.council.challenge_run import contenders_for, run_challenge
from bot.council.challenge_scores import score_challenge
from bot.errors import UserFacingError
from bot.providers.registry import build_providers
from tests.council.conftest import NAMES, make_config
from tests.fakellm import RecordedRequest

QUESTIONS = arithmetic_questions(3)  # answers 251, 198 and 11
WRONG = "Let me see: 1+2 = 3, so the answer is 7."

# What each member says, per question: (alone, after debate); None: the right answer.
SCRIPT: dict[str, list[tuple[str | None, str | None]]] = {
    "Claude": [(None, None), (None, None), (None, None)],
    "DeepSeek": [(WRONG, None), (WRONG, WRONG), (None, None)],
    "Gemini": [(WRONG, None), (None, WRONG), (WRONG, WRONG)],
    "Llama": [(WRONG, WRONG), (WRONG, None), ("I would rather not say.", None)],
}


def scripted(name: str) -> Callable[[RecordedRequest], str]:
    def reply(request: RecordedRequest) -> str:
        question = request.turns()[0][1]
        number = next(i for i, q in enumerate(QUESTIONS) if q.prompt == question)
        # One turn: answering alone; three (question, own reply, the others'): the debate.
        said = SCRIPT[name][number][0 if len(request.turns()) == 1 else 1]
        return said or f"Working it out step by step.\n\nAnswer: **{QUESTIONS[number].answer}**"

    return reply


async def test_the_arms_and_changes_of_mind_come_out_of_a_scripted_challenge(fake_llm, http):
    for name in NAMES:
        fake_llm.script(f"{name.lower()}-model", reply=scripted(name))
    config = make_config(fake_llm)
    contenders = contenders_for(config, build_providers(config, {}, http), None)
    heard: list[int] = []

    async def on_result(number, result):
        heard.append(number)

    results = await run_challenge(QUESTIONS, contenders, on_result=on_result)
    assert heard == [1, 2, 3]
    assert [r.first["Llama"].answer for r in results] == ["7", "7", None]
    score = score_challenge(results, NAMES)
    assert {n: a.correct for n, a in score.members.items()} == {
        "Claude": 3,
        "DeepSeek": 1,
        "Gemini": 1,
        "Llama": 0,
    }
    # Alone: Q1 one right against three 7s; Q2 a 2-2 tie goes to Claude's right answer;
    # Q3 two right, one 7, one unread.
    assert score.majority_independent.correct == 2
    # After debate: Q1 three right; Q2 a tie again, Claude first; Q3 three right.
    assert score.majority_debate.correct == 3
    assert (score.wrong_to_right, score.right_to_wrong) == (4, 1)
    assert [(u.question, u.member, u.stage) for u in score.unparsed] == [(3, "Llama", "first")]


async def test_the_debate_shows_each_member_the_others_answers_not_its_own(fake_llm, http):
    for name in NAMES:
        fake_llm.script(f"{name.lower()}-model", reply=f"{name} says: Answer: 12")
    config = make_config(fake_llm)
    contenders = contenders_for(config, build_providers(config, {}, http), None)
    question = Question("Which is bigger?", "B", ("11", "12"))
    [result] = await run_challenge([question], contenders)
    assert result.first["Claude"].answer == "B"  # 12 is the second choice
    first, debate = fake_llm.requests_for("claude-model")
    assert first.last_user_text() == "Which is bigger?\n\nA) 11\nB) 12"
    assert "letter of one choice" in first.system_text()
    prompt = debate.last_user_text()
    assert "DeepSeek: DeepSeek says" in prompt
    assert "Llama: Llama says" in prompt
    assert "Claude says" not in prompt
    assert debate.turns()[1] == ("assistant", "Claude says: Answer: 12")


async def test_an_unknown_preset_is_refused(fake_llm, http):
    config = make_config(fake_llm)
    with pytest.raises(UserFacingError, match="nope"):
        contenders_for(config, build_providers(config, {}, http), "nope")
