"""Resuming a session from the store after the process died mid-way."""

from __future__ import annotations

import asyncio

import pytest

from bot.config import parse_config
from bot.council.events import RoundFinished
from bot.council.models import ReplyKind, ReplyStatus, SessionStatus
from bot.council.spec import spec_from_record
from bot.errors import UnseatedError
from tests.council.conftest import NAMES


async def test_a_session_killed_after_round_one_resumes_at_round_two_with_its_transcript(council):
    for name in NAMES:
        council.fake.script(f"{name.lower()}-model", reply=[f"{name} r1.", f"{name} r2.", "end"])
    run = await council.open(rounds=2)
    await council.kill_after_round(run, 1)
    assert (await council.store.get_session(run.session.id)).status is SessionStatus.RUNNING

    resumed = await council.restore(run.session.id)
    session = await resumed.run()

    assert session.status is SessionStatus.FINISHED
    answers = [r for r in await council.store.replies(session.id) if r.kind is ReplyKind.ANSWER]
    assert sorted((r.round_number, r.persona) for r in answers) == sorted(
        (n, name) for n in (1, 2) for name in NAMES
    )
    assert all(r.status is ReplyStatus.OK for r in answers)
    for name in NAMES:
        second = council.requests(name)[1]
        assert ("assistant", f"{name} r1.") in second.turns()
        others = [n for n in NAMES if n != name]
        assert all(f"{o}: {o} r1." in repr(second.turns()) for o in others)


async def test_a_resumed_round_asks_only_those_who_had_not_answered(council):
    council.script_all(reply="Quick.")
    council.fake.script("llama-model", reply="Slow.", first_token_delay_s=3)
    run = await council.open(rounds=1)
    task = asyncio.create_task(run.run())
    for _ in range(200):
        answered = [
            r for r in await council.store.replies(run.session.id) if r.status is ReplyStatus.OK
        ]
        if len(answered) == 3:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    council.fake.script("llama-model", reply="Now quick.")

    resumed = await council.restore(run.session.id)
    session = await resumed.run()
    assert session.status is SessionStatus.FINISHED
    for name in ("Claude", "DeepSeek", "Gemini"):
        kinds = [r for r in await council.store.replies(session.id) if r.persona == name]
        assert len([r for r in kinds if r.kind is ReplyKind.ANSWER]) == 1, name
    assert resumed.coverage() == "all 4 members answered every round"


async def test_a_question_one_member_put_to_another_survives_a_restart(council):
    council.script_all(reply="Fine.")
    council.fake.script(
        "deepseek-model", reply=["I think so. Gemini, what would you cut first?", "Agreed."]
    )
    run = await council.open(rounds=2)
    task = asyncio.create_task(run.run())

    def slow_gemini(event):
        if isinstance(event, RoundFinished) and event.number == 1:
            council.fake.script("gemini-model", reply="Too late.", first_token_delay_s=5)

    council.presenter.on_event = slow_gemini
    for _ in range(300):
        answered = await council.store.replies(run.session.id, round_number=2)
        if len([r for r in answered if r.status is ReplyStatus.OK]) == 3:
            break
        await asyncio.sleep(0.02)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    council.fake.script("gemini-model", reply="Parking, mostly.")
    council.presenter.on_event = None

    resumed = await council.restore(run.session.id)
    session = await resumed.run()

    assert session.status is SessionStatus.FINISHED
    asked_again = council.requests("Gemini")[-1]
    assert "Round 2." in asked_again.last_user_text()
    assert "DeepSeek asked: Gemini, what would you cut first?" in asked_again.last_user_text()
    assert resumed.coverage() == "all 4 members answered every round"


async def test_a_session_whose_member_lost_its_key_is_refused_naming_the_variable(council):
    council.script_all(reply="Quick.")
    run = await council.open(rounds=1)
    record = await council.store.session_record(run.session.id)
    raw = council.config.model_dump()
    raw["providers"]["solo"] = {**raw["providers"]["local"], "api_key_env": "SOLO_API_KEY"}
    raw["models"]["gemini"]["provider"] = "solo"
    keyless = parse_config(raw, "council.toml", {})
    with pytest.raises(UnseatedError) as caught:
        spec_from_record(keyless, record)
    assert caught.value.message.startswith(
        "Persona Gemini can't be seated: SOLO_API_KEY is not set."
    )
