"""Sessions, members and rounds round-trip through a real SQLite file."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest

from bot.council.models import MemberRole, NewSession, ReplyStatus, SessionStatus
from bot.store import ConstraintError, RecordNotFoundError


async def test_create_session_stores_every_field_and_starts_running(store, clock):
    new = NewSession(
        topic="Should cities ban cars?",
        format="debate",
        rounds=5,
        preset="default",
        chair="Claude",
        language="French",
        is_blind=True,
        guild_id=111,
        channel_id=222,
        thread_id=333,
        host_id=444,
        budget_tokens=50_000,
        budget_usd=1.25,
    )
    session = await store.create_session(new)

    assert session.model_dump(include=set(NewSession.model_fields)) == new.model_dump()
    assert session.status is SessionStatus.RUNNING
    assert session.started_at == clock.current
    assert session.started_at.tzinfo is UTC
    assert session.ended_at is None
    assert await store.get_session(session.id) == session


async def test_get_session_returns_none_for_an_unknown_id(store):
    assert await store.get_session(404) is None


async def test_session_ids_are_never_reused_after_a_delete(store, make, raw_sql):
    first = await make.session()
    await raw_sql("DELETE FROM sessions WHERE id = ?", (first.id,))
    second = await make.session()
    assert second.id > first.id


async def test_session_for_thread_finds_the_newest_session_in_that_thread(store, make):
    await make.session(thread_id=5)
    newer = await make.session(thread_id=5)
    await make.session(thread_id=6)

    assert await store.session_for_thread(5) == newer
    assert await store.session_for_thread(7) is None


async def test_active_session_in_channel_is_running_or_paused_and_only_this_channels(store, make):
    stopped = await make.session(channel_id=10)
    await store.set_session_status(stopped.id, SessionStatus.STOPPED)
    await make.session(channel_id=11)
    assert await store.active_session_in_channel(10) is None

    paused = await make.session(channel_id=10)
    await store.set_session_status(paused.id, SessionStatus.PAUSED)
    found = await store.active_session_in_channel(10)
    assert found is not None
    assert found.id == paused.id

    running = await make.session(channel_id=10)
    assert await store.active_session_in_channel(10) == running


async def test_list_sessions_filters_by_guild_and_status_newest_first(store, make):
    a = await make.session(guild_id=1)
    b = await make.session(guild_id=2)
    c = await make.session(guild_id=1)
    await store.set_session_status(c.id, SessionStatus.FINISHED)

    assert [s.id for s in await store.list_sessions()] == [c.id, b.id, a.id]
    assert [s.id for s in await store.list_sessions(guild_id=1)] == [c.id, a.id]
    assert [s.id for s in await store.list_sessions(guild_id=1, status=SessionStatus.RUNNING)] == [
        a.id
    ]
    assert await store.count_sessions() == 3
    assert await store.count_sessions(guild_id=1) == 2
    assert await store.count_sessions(status=SessionStatus.FINISHED) == 1
    assert await store.count_sessions(guild_id=3) == 0


async def test_list_sessions_pages_with_limit_and_before(store, make):
    ids = [(await make.session()).id for _ in range(5)]

    first_page = await store.list_sessions(limit=2)
    second_page = await store.list_sessions(limit=2, before=first_page[-1].id)
    last_page = await store.list_sessions(limit=2, before=second_page[-1].id)

    assert [s.id for s in first_page + second_page + last_page] == ids[::-1]


async def test_list_sessions_since_keeps_sessions_started_at_or_after_the_moment(store, make):
    await make.session()
    later = await make.session()
    latest = await make.session()

    since = later.started_at
    assert [s.id for s in await store.list_sessions(since=since)] == [latest.id, later.id]
    assert await store.count_sessions(since=since) == 2


async def test_list_sessions_rejects_a_limit_below_one(store):
    with pytest.raises(ValueError, match="limit"):
        await store.list_sessions(limit=0)


@pytest.mark.parametrize("status", [s for s in SessionStatus if s.is_final])
async def test_final_status_stamps_ended_at_and_keeps_the_reason(store, make, clock, status):
    session = await make.session()
    ended = await store.set_session_status(session.id, status, reason="host said so")

    assert ended.status is status
    assert ended.stop_reason == "host said so"
    assert ended.ended_at == clock.current
    assert await store.get_session(session.id) == ended


async def test_non_final_status_clears_ended_at_and_reason(store, make):
    session = await make.session()
    await store.set_session_status(session.id, SessionStatus.FAILED, reason="boom")
    resumed = await store.set_session_status(session.id, SessionStatus.RUNNING)

    assert resumed.status is SessionStatus.RUNNING
    assert resumed.ended_at is None
    assert resumed.stop_reason is None


async def test_changing_an_unknown_session_raises_record_not_found(store):
    with pytest.raises(RecordNotFoundError, match="session 99"):
        await store.set_session_status(99, SessionStatus.STOPPED)
    with pytest.raises(RecordNotFoundError):
        await store.set_session_thread(99, 1, 2)
    with pytest.raises(RecordNotFoundError):
        await store.save_synthesis(99, "{}")
    with pytest.raises(RecordNotFoundError):
        await store.set_summary_message(99, 1)


async def test_thread_synthesis_and_summary_message_are_stored(store, make):
    session = await make.session(channel_id=None)

    await store.set_session_thread(session.id, thread_id=70, channel_id=71)
    await store.save_synthesis(session.id, '{"agreed": ["yes"]}')
    updated = await store.set_summary_message(session.id, 72)

    assert (updated.thread_id, updated.channel_id) == (70, 71)
    assert updated.synthesis_json == '{"agreed": ["yes"]}'
    assert updated.summary_message_id == 72
    assert await store.session_for_thread(70) == updated


async def test_members_round_trip_in_seating_order(store, make):
    session = await make.session()
    seated = [
        make.member(session.id, 1, "DeepSeek", alias="Member B", color="#112233"),
        make.member(session.id, 0, "Claude", role=MemberRole.CHAIR, avatar_url="https://x/c.png"),
        make.member(session.id, 2, "Gemini"),
    ]
    await store.add_members(session.id, seated)

    assert await store.members(session.id) == sorted(seated, key=lambda m: m.position)
    assert await store.members(session.id + 1) == []


async def test_add_members_is_all_or_nothing(store, make):
    session = await make.session()
    clash = [make.member(session.id, 0, "Claude"), make.member(session.id, 1, "Claude")]

    with pytest.raises(ConstraintError):
        await store.add_members(session.id, clash)
    assert await store.members(session.id) == []


async def test_add_members_refuses_members_of_another_session(store, make):
    session = await make.session()
    with pytest.raises(ValueError, match="do not belong"):
        await store.add_members(session.id, [make.member(session.id + 1, 0, "Claude")])


async def test_start_round_is_idempotent_and_fills_a_missing_question_only(store, make, clock):
    session = await make.session()
    first = await store.start_round(session.id, 1)
    assert first.started_at == clock.current
    assert first.question is None

    again = await store.start_round(session.id, 1, question="What about buns?")
    assert again.started_at == first.started_at
    assert again.question == "What about buns?"

    third = await store.start_round(session.id, 1, question="Something else")
    assert third.question == "What about buns?"
    assert len(await store.rounds(session.id)) == 1


async def test_rounds_finish_record_first_message_and_list_in_order(store, make, clock):
    session = await make.session()
    await store.start_round(session.id, 2)
    await store.start_round(session.id, 1, question="Opening")
    await store.set_round_first_message(session.id, 1, 9001)
    finished = await store.finish_round(session.id, 1)
    finished_at = clock.current
    again = await store.finish_round(session.id, 1)

    assert finished.finished_at == finished_at
    assert again.finished_at == finished_at, "the first finish time stays"
    rounds = await store.rounds(session.id)
    assert [r.number for r in rounds] == [1, 2]
    assert rounds[0].first_message_id == 9001
    assert rounds[0].question == "Opening"
    assert rounds[1].finished_at is None


async def test_finishing_an_unknown_round_raises_record_not_found(store, make):
    session = await make.session()
    with pytest.raises(RecordNotFoundError, match="round 3"):
        await store.finish_round(session.id, 3)
    with pytest.raises(RecordNotFoundError):
        await store.set_round_first_message(session.id, 3, 1)


async def test_guild_spend_counts_each_reply_at_its_own_time_whenever_its_session_started(
    store, make, clock
):
    long_running = await make.session(guild_id=5)
    await make.reply(long_running.id, cost_usd=1.0)
    clock.current += timedelta(days=2)
    await make.reply(long_running.id, round_number=2, cost_usd=0.25)
    await make.reply(
        long_running.id,
        round_number=2,
        persona="Gemini",
        status=ReplyStatus.FAILED,
        error_kind="timeout",
        cost_usd=0.5,
    )
    elsewhere = await make.session(guild_id=6)
    await make.reply(elsewhere.id, cost_usd=9.0)

    since = clock.current - timedelta(days=1)
    assert await store.guild_spend_usd(5, since) == pytest.approx(0.75)
    assert await store.guild_spend_usd(6, since) == pytest.approx(9.0)
    assert await store.guild_spend_usd(7, since) == 0.0
