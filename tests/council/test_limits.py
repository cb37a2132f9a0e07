"""Limits and control: timeouts, quorum, budget, stop, end, and audience questions."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from bot.council.engine import wall_time_reason
from bot.council.events import (
    MemberFailed,
    MemberStarted,
    RoundFinished,
    SessionPaused,
    TextDelta,
)
from bot.council.models import ReplyKind, ReplyStatus, SessionStatus
from bot.council.stance import FOOTER_INSTRUCTION
from tests.council.conftest import NAMES
from tests.fakellm import Fault


async def test_a_member_timing_out_leaves_the_round_complete_with_the_failure_recorded(council):
    council.script_all(reply="A fine answer.")
    council.fake.script("gemini-model", reply="Too late.", first_token_delay_s=5)
    run = await council.open(rounds=1, member_timeout_s=0.5)
    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    replies = await council.store.replies(session.id, round_number=1)
    by_name = {r.persona: r for r in replies if r.kind is ReplyKind.ANSWER}
    assert by_name["Gemini"].status is ReplyStatus.FAILED
    assert by_name["Gemini"].error_kind == "timeout"
    assert all(by_name[n].status is ReplyStatus.OK for n in NAMES if n != "Gemini")
    failed = council.presenter.of(MemberFailed)
    assert [(e.turn.persona, e.reason) for e in failed] == [("Gemini", "timed out")]
    assert run.coverage() == "3/4 members answered every round; Gemini timed out in round 1"
    stored = await council.store.get_session(session.id)
    assert "Gemini timed out in round 1" in stored.synthesis_json


async def test_losing_quorum_pauses_and_resume_retries_the_members_who_failed(council):
    council.script_all(reply="Fine.")
    for name in ("Claude", "DeepSeek", "Gemini"):
        council.fake.script(
            f"{name.lower()}-model",
            reply="Back again.",
            faults=[Fault.http(503)],
        )
    run = await council.open(rounds=1)
    council.presenter.on_event = lambda e: run.resume() if isinstance(e, SessionPaused) else None
    session = await run.run()

    paused = council.presenter.of(SessionPaused)
    assert len(paused) == 1
    assert "Only 1 of 4 members answered round 1" in paused[0].reason
    assert "a round needs 2" in paused[0].reason
    assert session.status is SessionStatus.FINISHED
    answers = [r for r in await council.store.replies(session.id) if r.kind is ReplyKind.ANSWER]
    ok = {r.persona for r in answers if r.status is ReplyStatus.OK}
    assert ok == set(NAMES)
    assert len(council.requests("Llama")) == 1  # answered at once, so not asked again
    assert len(council.requests("Gemini")) == 2  # failed, then retried after resume


async def test_the_budget_stops_the_session_before_a_call_that_would_exceed_it(council):
    council.prices = (1000.0, 1000.0)  # dollars per million tokens: ~$0.2 per call's worst case
    council.script_all(reply="Expensive words.")
    run = await council.open(rounds=3, budget_usd=1.0)
    session = await run.run()

    assert session.status is SessionStatus.STOPPED
    assert "would exceed the session's budget of $1.00" in session.stop_reason
    assert run.budget.spent_usd <= 1.0
    calls = len(council.fake.requests)
    assert 0 < calls < 4 * 3  # it stopped before playing every round


async def test_stop_cancels_in_flight_requests_at_once_and_leaves_the_session_consistent(council):
    council.script_all(reply="word " * 400, tokens_per_s=20)
    run = await council.open(rounds=2)
    seen_text = asyncio.Event()
    council.presenter.on_event = lambda e: seen_text.set() if isinstance(e, TextDelta) else None
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(seen_text.wait(), 5)
    stopped_at = time.monotonic()
    run.stop("Stopped by the host.")
    session = await asyncio.wait_for(task, 2)

    assert time.monotonic() - stopped_at < 0.5
    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == "Stopped by the host."
    assert await council.fake.wait_idle(2.0)
    assert all(r.disconnected for r in council.fake.requests)
    replies = await council.store.replies(session.id)
    assert {r.persona for r in replies} == set(NAMES)
    assert all(r.status is ReplyStatus.FAILED and r.error_kind == "stopped" for r in replies)
    assert any(r.text for r in replies)  # what was shown so far is kept


async def test_end_skips_the_remaining_rounds_and_synthesises_now(council):
    council.script_all(reply='{"consensus": ["Cars are loud."], "verdict": "Fewer cars."}')
    run = await council.open(rounds=5, auto_advance=False)
    council.presenter.on_event = lambda e: (
        run.end() if type(e).__name__ == "RoundFinished" else None
    )
    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    assert [r.number for r in await council.store.rounds(session.id)] == [1]
    assert run.synthesis is not None
    assert run.synthesis.verdict == "Fewer cars."


async def test_audience_questions_asked_during_a_round_land_at_the_next_round(council):
    council.script_all(reply="Answer.", first_token_delay_s=0.2)
    run = await council.open(rounds=2)
    asked = []

    async def ask_once(event):
        if isinstance(event, MemberStarted) and not asked and event.turn.round_number == 1:
            asked.append(event)
            await run.ask(42, "Ada", "What about buses?")

    council.presenter.on_event = ask_once
    await run.run()

    for name in NAMES:
        first, second = council.requests(name)[:2]
        assert "What about buses?" not in repr(first.turns())
        assert "A member of the audience, Ada, asks: What about buses?" in repr(second.turns())
    questions = await council.store.questions(run.session.id)
    assert [(q.text, q.answered_in_round) for q in questions] == [("What about buses?", 2)]


async def test_the_maximum_wall_time_stops_a_session_that_runs_too_long(council):
    council.script_all(reply="Slow.", first_token_delay_s=2)
    run = await council.open(rounds=3, max_wall_s=0.5)
    started = time.monotonic()
    session = await run.run()
    assert time.monotonic() - started < 2
    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == "Stopped: the session reached its 0.5-second limit."


async def test_pause_holds_the_next_round_until_resume(council):
    council.script_all(reply="Answer.")
    run = await council.open(rounds=2)
    council.presenter.on_event = lambda e: (
        run.pause() if type(e).__name__ == "RoundFinished" and e.number == 1 else None
    )
    task = asyncio.create_task(run.run())
    for _ in range(100):
        if council.presenter.of(SessionPaused):
            break
        await asyncio.sleep(0.02)
    assert council.presenter.of(SessionPaused)[0].reason == "Paused by the host."
    assert (await council.store.get_session(run.session.id)).status is SessionStatus.PAUSED
    assert len(council.fake.requests) == 4
    run.resume()
    session = await asyncio.wait_for(task, 5)
    assert session.status is SessionStatus.FINISHED
    assert len(await council.store.rounds(session.id)) == 2


async def _until(condition, what: str) -> None:
    for _ in range(250):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never: {what}")


async def test_a_pause_between_rounds_holds_at_once_and_resume_starts_the_next_round(council):
    council.script_all(reply="Answer.")
    # Hours between rounds: only the pause and the resume can move this council on.
    run = await council.open(rounds=2, pause_between_rounds_s=3600)
    task = asyncio.create_task(run.run())
    await _until(lambda: council.presenter.of(RoundFinished), "round 1 to finish")

    run.pause()
    await _until(lambda: council.presenter.of(SessionPaused), "the pause")
    assert (await council.store.get_session(run.session.id)).status is SessionStatus.PAUSED
    run.resume()
    session = await asyncio.wait_for(task, 5)

    assert session.status is SessionStatus.FINISHED
    assert len(await council.store.rounds(session.id)) == 2
    assert len(council.presenter.of(SessionPaused)) == 1


async def test_a_pause_asked_for_in_the_last_round_lets_the_council_end(council):
    council.script_all(reply="Answer.")
    run = await council.open(rounds=1)
    council.presenter.on_event = lambda e: run.pause() if isinstance(e, MemberStarted) else None

    session = await asyncio.wait_for(run.run(), 5)

    assert session.status is SessionStatus.FINISHED
    assert council.presenter.of(SessionPaused) == []


async def test_a_member_that_goes_quiet_mid_reply_fails_after_the_stall_timeout(council):
    council.script_all(reply="A fine answer.")
    council.fake.script(
        "gemini-model", reply="word " * 50, stall_after_tokens=3, stall_s=5, tokens_per_s=200
    )
    run = await council.open(rounds=1, member_timeout_s=30, stall_timeout_s=0.4)
    started = time.monotonic()
    session = await run.run()
    assert time.monotonic() - started < 3
    [gemini] = [r for r in await council.store.replies(session.id) if r.persona == "Gemini"]
    assert gemini.status is ReplyStatus.FAILED
    assert gemini.error_message == "Gemini went quiet for 0.4s mid-reply"
    assert gemini.text.startswith("word")


async def test_a_member_retried_after_a_lost_quorum_still_gets_the_question_put_to_it(council):
    council.script_all(reply="Fine.")
    council.fake.script("deepseek-model", reply="I think so. Gemini, what would you cut first?")
    run = await council.open(rounds=2)

    def on_event(event):
        if isinstance(event, RoundFinished) and event.number == 1:
            for name in ("Claude", "Gemini", "Llama"):
                council.fake.script(
                    f"{name.lower()}-model", reply="Back again.", faults=[Fault.http(503)]
                )
        elif isinstance(event, SessionPaused):
            run.resume()

    council.presenter.on_event = on_event
    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    assert len(council.presenter.of(SessionPaused)) == 1
    failed, retried = council.requests("Gemini")[1:]
    question = "DeepSeek asked: Gemini, what would you cut first?"
    assert question in failed.last_user_text()
    assert question in retried.last_user_text()
    # The retry is asked for the same answer, stance footer included.
    assert FOOTER_INSTRUCTION in retried.last_user_text()


async def test_a_question_to_a_member_who_failed_its_round_is_put_to_it_the_round_after(council):
    council.script_all(reply="Fine.")
    council.fake.script("deepseek-model", reply=["Gemini, what would you cut first?", "Agreed."])
    council.fake.script("gemini-model", reply="Parking.", faults=[None, Fault.http(503)])
    run = await council.open(rounds=3)
    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    assert not council.presenter.of(SessionPaused)  # three of four answered round 2
    round_three = council.requests("Gemini")[2].last_user_text()
    assert "Round 3." in round_three
    assert "DeepSeek asked: Gemini, what would you cut first?" in round_three
    assert round_three.count("DeepSeek asked:") == 1


async def test_a_quorum_pause_inside_a_round_does_not_count_against_the_wall_time(council):
    council.script_all(reply="Fine.")
    for name in ("Claude", "DeepSeek", "Gemini"):
        council.fake.script(f"{name.lower()}-model", reply="Back.", faults=[Fault.http(503)])
    run = await council.open(rounds=1, max_wall_s=1.0)
    loop = asyncio.get_running_loop()
    # Paused for longer than the whole limit: only the round's own work may count.
    council.presenter.on_event = lambda e: (
        loop.call_later(1.5, run.resume) if isinstance(e, SessionPaused) else None
    )
    session = await run.run()

    assert len(council.presenter.of(SessionPaused)) == 1
    assert session.status is SessionStatus.FINISHED, session.stop_reason
    answers = [r for r in await council.store.replies(session.id) if r.kind is ReplyKind.ANSWER]
    assert {r.persona for r in answers if r.status is ReplyStatus.OK} == set(NAMES)


async def test_the_wall_time_runs_on_when_a_round_resumes_after_a_quorum_pause(council):
    council.script_all(reply="Fine.")
    for name in ("Claude", "DeepSeek", "Gemini"):
        council.fake.script(
            f"{name.lower()}-model",
            reply="Back, slowly.",
            first_token_delay_s=5,
            faults=[Fault.http(503)],
        )
    run = await council.open(rounds=1, max_wall_s=0.8)
    council.presenter.on_event = lambda e: run.resume() if isinstance(e, SessionPaused) else None
    started = time.monotonic()
    session = await run.run()

    assert time.monotonic() - started < 3
    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == "Stopped: the session reached its 0.8-second limit."


async def test_a_host_pause_between_rounds_does_not_count_against_the_wall_time(council):
    council.script_all(reply="Answer.")
    run = await council.open(rounds=2, max_wall_s=1.0)
    loop = asyncio.get_running_loop()

    def on_event(event) -> None:
        if isinstance(event, RoundFinished) and event.number == 1:
            run.pause()
        elif isinstance(event, SessionPaused):
            loop.call_later(1.5, run.resume)

    council.presenter.on_event = on_event
    session = await run.run()

    assert council.presenter.of(SessionPaused)[0].reason == "Paused by the host."
    assert session.status is SessionStatus.FINISHED, session.stop_reason
    assert len(await council.store.rounds(session.id)) == 2


def test_the_wall_time_reason_names_seconds_under_a_minute_and_minutes_from_one():
    assert wall_time_reason(45) == "Stopped: the session reached its 45-second limit."
    assert wall_time_reason(0.5) == "Stopped: the session reached its 0.5-second limit."
    assert wall_time_reason(60) == "Stopped: the session reached its 1-minute limit."
    assert wall_time_reason(90) == "Stopped: the session reached its 1.5-minute limit."
    assert wall_time_reason(30 * 60) == "Stopped: the session reached its 30-minute limit."


async def test_a_council_stops_before_a_round_once_its_guild_is_over_the_daily_budget(council):
    council.prices = (1000.0, 1000.0)  # a tenth of a cent per token: round one costs cents
    council.script_all(reply="Costly words.")
    run = await council.open(rounds=3, guild_id=77, daily_budget_usd=0.05)
    session = await run.run()

    since = datetime.now(UTC) - timedelta(days=1)
    spent = await council.store.guild_spend_usd(77, since)
    assert spent >= 0.05
    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == (
        f"Stopped: this server has used its daily budget (${spent:.2f} of $0.05 "
        "in the last 24 hours)."
    )
    assert [r.number for r in await council.store.rounds(session.id)] == [1]
    assert len(council.fake.requests) == len(NAMES)


async def test_the_daily_budget_counts_what_the_guilds_other_councils_spent(council):
    council.prices = (1000.0, 1000.0)
    council.script_all(reply="Costly words.")
    earlier = await council.open(rounds=1, guild_id=77)
    assert (await earlier.run()).status is SessionStatus.FINISHED
    elsewhere = await council.open(rounds=1, guild_id=88, daily_budget_usd=0.05)
    assert (await elsewhere.run()).status is SessionStatus.FINISHED

    calls = len(council.fake.requests)
    run = await council.open(rounds=1, guild_id=77, daily_budget_usd=0.05)
    session = await run.run()

    assert session.status is SessionStatus.STOPPED
    assert "this server has used its daily budget" in session.stop_reason
    assert await council.store.rounds(session.id) == []
    assert len(council.fake.requests) == calls  # the new council asked nobody


async def test_a_council_resumed_from_the_store_checks_the_daily_budget_it_is_given(council):
    council.prices = (1000.0, 1000.0)
    council.script_all(reply="Costly words.")
    run = await council.open(rounds=2, guild_id=77)
    await council.kill_after_round(run, 1)

    resumed = await council.restore(run.session.id, daily_budget_usd=0.05)
    session = await resumed.run()

    assert session.status is SessionStatus.STOPPED
    assert "this server has used its daily budget" in session.stop_reason
    assert [r.number for r in await council.store.rounds(session.id)] == [1]


async def test_a_second_stop_never_cancels_the_recording_of_the_first(council, monkeypatch):
    council.script_all(reply="Slowly.", first_token_delay_s=5)
    run = await council.open(rounds=1)
    record = council.store.set_session_status
    recording = asyncio.Event()

    async def slow_record(session_id, status, reason=None):
        if status is SessionStatus.STOPPED:
            recording.set()
            await asyncio.sleep(0.3)  # a busy database: the second stop lands meanwhile
        return await record(session_id, status, reason)

    monkeypatch.setattr(council.store, "set_session_status", slow_record)
    task = asyncio.create_task(run.run())
    while len(council.presenter.of(MemberStarted)) < len(NAMES):
        await asyncio.sleep(0.01)
    run.stop("Stopped by Ann.")
    await recording.wait()
    run.stop("Stopped by Bob.")
    session = await task

    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == "Stopped by Ann."
    stored = await council.store.get_session(session.id)
    assert stored.status is SessionStatus.STOPPED


async def test_a_stop_before_the_council_begins_ends_it_without_asking_anyone(council):
    council.script_all(reply="Never.")
    run = await council.open(rounds=2)
    run.stop("Stopped by Ann.")
    session = await run.run()

    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == "Stopped by Ann."
    assert council.fake.requests == []


async def test_an_interrupted_council_is_kept_paused_with_its_reason_and_spends_no_more(council):
    council.script_all(reply="Slowly.", first_token_delay_s=5)
    run = await council.open(rounds=2, guild_id=77)
    task = asyncio.create_task(run.run())
    while len(council.presenter.of(MemberStarted)) < len(NAMES):
        await asyncio.sleep(0.01)
    run.interrupt("the thread is locked")
    run.stop("Stopped by Ann.")  # too late: the interruption is being recorded
    session = await task

    assert session.status is SessionStatus.PAUSED
    assert session.stop_reason == "Interrupted: the thread is locked."
    replies = await council.store.replies(session.id)
    assert {r.error_kind for r in replies} == {"stopped"}
    calls = len(council.fake.requests)
    await asyncio.sleep(0.3)
    assert len(council.fake.requests) == calls <= len(NAMES)  # round 2 never asked anyone
    [entry] = await council.store.audit_log(77)
    assert (entry.action, entry.user_id, entry.detail) == (
        "session.interrupt",
        None,
        "Interrupted: the thread is locked.",
    )
