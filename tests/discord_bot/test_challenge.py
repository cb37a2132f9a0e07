"""/council challenge through the fake Discord: three questions, predictions, reveals, summary."""

from __future__ import annotations

import asyncio

from bot.discord_ui import challenges as challenge_desk
from tests.council.conftest import NAMES
from tests.council.test_challenge_run import scripted


async def _message(harness, starts: str, *, timeout: float = 15.0):
    """The first message in #general whose text starts with `starts`, once it is there."""
    world, driver = harness.world, harness.driver
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        for message in driver.read(world.general, as_user=world.bob):
            if message.content.startswith(starts):
                return message
        assert asyncio.get_running_loop().time() < deadline, f"no message {starts!r}"
        await asyncio.sleep(0.05)


async def test_a_three_question_challenge_takes_predictions_reveals_and_compares_the_arms(
    harness, monkeypatch
):
    monkeypatch.setattr(challenge_desk, "PREDICT_S", 1.5)
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=scripted(name))
    world, driver = harness.world, harness.driver
    started = await driver.slash(world.host, world.general, "council challenge", count=3)
    opening = await started.wait_response(timeout=10)
    assert opening.content.startswith(
        "🧮 **Challenge**: Claude, DeepSeek, Gemini, Llama answer 3 questions from the "
        "arithmetic set."
    )

    question = await _message(harness, "**Question 1/3:** What is the result of 16+13*25+9-11*9?")
    for user, label in ((world.bob, "It will be right"), (world.host, "It will be wrong")):
        click = await driver.click(user, question, question.button(label).custom_id)
        [reply] = await click.wait_responses()
        assert reply.is_ephemeral
    assert reply.content == "Your prediction is in: the council will be wrong."

    reveal = await _message(harness, "**Answer 1: 251**")
    assert reveal.content.splitlines()[1:] == [
        "Alone: Claude 251 ✅, DeepSeek 7 ❌, Gemini 7 ❌, Llama 7 ❌",
        "After debate: Claude 251 ✅, DeepSeek 251 ✅, Gemini 251 ✅, Llama 7 ❌",
        "Majority alone: 7; after debate: 251, so the council was right.",
        "Predictions: 1 said right, 1 said wrong; 1 guessed correctly.",
    ]
    [asked] = [m for m in driver.read(world.general, as_user=world.bob) if m.id == question.id]
    assert asked.buttons == ()  # predictions close at the reveal

    summary = await _message(harness, "🏁 **Challenge over", timeout=20)
    assert summary.content.splitlines()[1:] == [
        "Each member alone:",
        "- Claude: 3/3 (100 %, 95 % CI 44-100 %)",
        "- DeepSeek: 1/3 (33 %, 95 % CI 6-79 %)",
        "- Gemini: 1/3 (33 %, 95 % CI 6-79 %)",
        "- Llama: 0/3 (0 %, 95 % CI 0-56 %)",
        "Best member: Claude; average member: 42 %.",
        "Majority of independent answers: 2/3 (67 %, 95 % CI 21-94 %)",
        "Majority after debate: 3/3 (100 %, 95 % CI 44-100 %)",
        "Debate turned 4 answer(s) wrong to right and 1 right to wrong.",
    ]
    [entry] = await harness.store.audit_log(world.guild.id, action="challenge.start")
    assert (entry.user_id, entry.detail) == (world.host.id, "arithmetic, 3")
    assert (await _message(harness, "**Answer 3: 11**")).content.endswith(
        "Predictions: 0 said right, 0 said wrong; 0 guessed correctly."
    )


async def test_only_a_host_may_start_a_challenge(harness):
    world, driver = harness.world, harness.driver
    refused = await driver.slash(world.bob, world.general, "council challenge")
    reply = await refused.wait_response()
    assert reply.is_ephemeral
    assert "host" in reply.content
    assert harness.llm.requests_for("claude-model") == []
