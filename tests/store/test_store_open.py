"""Opening, reopening and integrity: what holds for the store as a whole."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime

import pytest

from bot.council.models import (
    GuildSettings,
    Member,
    MemberRole,
    NewReply,
    NewSession,
    PersonaOverride,
    SessionStatus,
    VoteValue,
)
from bot.store import ConstraintError, SchemaTooOldError, Store, bundled_migrations


async def test_reopening_the_database_keeps_everything(location, clock):
    async with Store.open(location, now=clock) as store:
        session = await store.create_session(NewSession(topic="Persistence", guild_id=5))
        seated = [
            await _seat(store, session.id, 0, "Claude", MemberRole.CHAIR),
            await _seat(store, session.id, 1, "Gemini", MemberRole.MEMBER),
        ]
        await store.start_round(session.id, 1, question="Why?")
        await store.finish_round(session.id, 1)
        reply = await store.add_reply(
            NewReply(session_id=session.id, round_number=1, persona="Gemini", text="Because.")
        )
        await store.set_reply_messages(reply.id, [100, 101])
        await store.flag_reply(reply.id)
        await store.record_vote(reply.id, 7, VoteValue.UP)
        await store.record_vote(reply.id, 8, VoteValue.DOWN)
        question = await store.add_question(session.id, 7, "Ada", "And then?")
        await store.save_guild_settings(GuildSettings(guild_id=5, max_rounds=4))
        override = PersonaOverride(
            guild_id=5,
            persona="Claude",
            style="Brief.",
            updated_at=datetime(2025, 1, 1, tzinfo=UTC),
        )
        await store.save_persona_override(override)
        entry = await store.audit(5, 42, "session.start", session_id=session.id)
        await store.save_synthesis(session.id, "{}")
        await store.set_session_status(session.id, SessionStatus.FINISHED)
        before = await _everything(store, session.id)

    async with Store.open(location, now=clock) as store:
        after = await _everything(store, session.id)

    assert after == before
    assert after["members"] == seated
    assert after["pending"] == [question]
    assert after["overrides"] == {"Claude": override}
    assert after["audit"] == [entry]
    assert after["counts"] == {reply.id: (1, 1)}


async def _seat(store, session_id, position, persona, role):
    member = Member(
        session_id=session_id,
        position=position,
        persona=persona,
        model_key=persona.lower(),
        model="m",
        provider="p",
        role=role,
    )
    await store.add_members(session_id, [member])
    return member


async def _everything(store, session_id):
    replies = await store.replies(session_id)
    return {
        "session": await store.get_session(session_id),
        "members": await store.members(session_id),
        "rounds": await store.rounds(session_id),
        "replies": replies,
        "by_message": [await store.reply_for_message(m) for r in replies for m in r.message_ids],
        "votes": await store.votes(session_id),
        "counts": await store.vote_counts(session_id),
        "pending": await store.pending_questions(session_id),
        "settings": await store.guild_settings(5),
        "overrides": await store.persona_overrides(5),
        "audit": await store.audit_log(5),
    }


async def test_foreign_keys_are_enforced(store, make):
    with pytest.raises(ConstraintError, match="foreign key"):
        await store.add_reply(NewReply(session_id=404, round_number=1, persona="Ghost"))
    with pytest.raises(ConstraintError, match="foreign key"):
        await store.add_members(404, [make.member(404, 0, "Ghost")])
    with pytest.raises(ConstraintError, match="foreign key"):
        await store.start_round(404, 1)
    with pytest.raises(ConstraintError, match="foreign key"):
        await store.add_question(404, 1, "Ghost", "Boo?")
    with pytest.raises(ConstraintError, match="foreign key"):
        await store.audit(5, 1, "session.stop", session_id=404)

    assert await store.count_sessions() == 0
    assert await store.audit_log(5) == []


async def test_the_store_keeps_working_after_a_failed_write(store, make):
    with pytest.raises(ConstraintError):
        await store.add_reply(NewReply(session_id=404, round_number=1, persona="Ghost"))

    session = await make.session()
    assert await store.get_session(session.id) == session


async def test_a_clock_without_a_timezone_is_refused(location):
    async with Store.open(location, now=lambda: datetime(2025, 1, 1)) as store:  # noqa: DTZ001
        with pytest.raises(ValueError, match="naive datetime"):
            await store.create_session(NewSession(topic="When?"))
        assert await store.count_sessions() == 0


async def test_cancelled_writers_leave_no_open_transaction_behind(store, make):
    session = await make.session()

    async def add(index: int) -> int:
        return (await make.reply(session.id, text=f"reply {index}")).id

    tasks = [asyncio.create_task(add(i)) for i in range(60)]
    # Cancel every other task wherever it happens to be: waiting for the lock, mid-BEGIN,
    # mid-INSERT or mid-COMMIT.
    for _ in range(3):
        await asyncio.sleep(0)
    for task in tasks[::2]:
        task.cancel()
    results = await asyncio.gather(*tasks, return_exceptions=True)

    completed = {r for r in results if isinstance(r, int)}
    assert all(isinstance(r, int | asyncio.CancelledError) for r in results)
    stored = {r.id for r in await store.replies(session.id)}
    assert completed <= stored
    assert len(stored) <= len(tasks)
    # Had a cancelled task left its transaction open, this BEGIN IMMEDIATE would fail.
    later = await make.reply(session.id, text="after the storm")
    assert await store.get_reply(later.id) == later


async def test_a_read_only_store_reads_what_the_bot_wrote_and_refuses_every_write(db_path):
    async with Store.open(db_path) as store:
        entry = await store.audit(5, 42, "session.stop", detail="Too long.")
    before = db_path.read_bytes()

    async with Store.open_read_only(db_path) as reader:
        assert await reader.audit_log(5) == [entry]
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await reader.audit(5, 42, "session.start")

    assert db_path.read_bytes() == before


async def test_a_read_only_store_neither_creates_nor_migrates_a_file(db_path):
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        async with Store.open_read_only(db_path):
            pass
    assert not db_path.exists()
    assert not db_path.parent.exists()

    older = bundled_migrations()[:-1]
    async with Store.open(db_path, migrations=older):
        pass
    before = db_path.read_bytes()
    with pytest.raises(SchemaTooOldError) as refused:
        async with Store.open_read_only(db_path):
            pass
    assert str(refused.value) == (
        f"The database {db_path} has schema version {len(older)}, older than this Council's "
        f"{len(older) + 1}: run `council-bot run` once to upgrade it. The database was not changed."
    )
    assert db_path.read_bytes() == before
