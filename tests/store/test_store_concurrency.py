"""Many concurrent writers, through one Store and through two Stores on one database (a SQLite
file, or a PostgreSQL database as several bot processes share it), lose nothing; a writer
frozen while it holds the write lock holds the others up no longer than their busy timeout."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path

import asyncpg
import pytest

from bot.council.models import NewReply, NewSession, VoteValue
from bot.store import DRIVER_ERRORS, Store
from bot.store.postgres import WRITE_LOCK

VOTERS = 50
VOTED_REPLIES = 40
NEW_REPLIES = 200


async def _vote_on_all(store: Store, reply_ids: list[int], user_id: int) -> None:
    for reply_id in reply_ids:
        await store.record_vote(reply_id, user_id, VoteValue.UP)


async def _add_replies(store: Store, session_id: int, texts: list[str]) -> list[int]:
    async def add(text: str) -> int:
        reply = await store.add_reply(
            NewReply(session_id=session_id, round_number=2, persona="Llama", text=text)
        )
        return reply.id

    return list(await asyncio.gather(*(add(text) for text in texts)))


async def _seed(store: Store) -> tuple[int, list[int]]:
    session = await store.create_session(NewSession(topic="Load"))
    reply_ids = [
        (await store.add_reply(NewReply(session_id=session.id, round_number=1, persona="A"))).id
        for _ in range(VOTED_REPLIES)
    ]
    return session.id, reply_ids


async def test_fifty_voters_and_two_hundred_replies_at_once_through_one_store(store):
    session_id, voted = await _seed(store)
    texts = [f"reply {i}" for i in range(NEW_REPLIES)]

    results = await asyncio.gather(
        *(_vote_on_all(store, voted, user_id) for user_id in range(VOTERS)),
        _add_replies(store, session_id, texts),
    )

    new_ids = results[-1]
    assert len(set(new_ids)) == NEW_REPLIES
    assert await store.vote_counts(session_id) == {
        **dict.fromkeys(voted, (VOTERS, 0)),
        **dict.fromkeys(new_ids, (0, 0)),
    }
    assert len(await store.votes(session_id)) == VOTERS * VOTED_REPLIES
    late = await store.replies(session_id, round_number=2)
    assert sorted(r.text for r in late) == sorted(texts)


async def test_two_stores_on_one_database_writing_at_once_lose_nothing(location):
    async with Store.open(location) as first, Store.open(location) as second:
        session_id, voted = await _seed(first)
        half = VOTERS // 2
        texts = [f"reply {i}" for i in range(NEW_REPLIES)]

        await asyncio.gather(
            *(_vote_on_all(first, voted, user_id) for user_id in range(half)),
            *(_vote_on_all(second, voted, user_id) for user_id in range(half, VOTERS)),
            _add_replies(first, session_id, texts[::2]),
            _add_replies(second, session_id, texts[1::2]),
        )

    async with Store.open(location) as reader:
        counts = await reader.vote_counts(session_id)
        assert [counts[reply_id] for reply_id in voted] == [(VOTERS, 0)] * VOTED_REPLIES
        assert len(await reader.votes(session_id)) == VOTERS * VOTED_REPLIES
        late = await reader.replies(session_id, round_number=2)
        assert sorted(r.text for r in late) == sorted(texts)


async def test_identical_clicks_through_two_stores_at_once_toggle_on_then_off(location):
    async with Store.open(location) as first, Store.open(location) as second:
        _, [reply_id, *_] = await _seed(first)
        clicks = [
            store.record_vote(reply_id, 7, VoteValue.DOWN)
            for _ in range(10)
            for store in (first, second)
        ]

        outcomes = await asyncio.gather(*clicks)

        # Twenty toggles in some order: on, off, on, off ... ending off.
        assert sorted(o.current is None for o in outcomes) == [False] * 10 + [True] * 10
        assert await first.votes_for(reply_id) == (0, 0)
        assert await second.votes_for(reply_id) == (0, 0)


@asynccontextmanager
async def _write_lock_held(location: Path | str) -> AsyncIterator[None]:
    """Hold the database's write lock from another connection, as a process frozen mid-write
    would: SQLite's file lock, or the store's advisory lock on PostgreSQL."""
    if isinstance(location, Path):
        holder = sqlite3.connect(location, isolation_level=None)
        with closing(holder):
            holder.execute("BEGIN IMMEDIATE")
            yield
            holder.execute("ROLLBACK")
        return
    conn = await asyncpg.connect(location)
    try:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            yield
    finally:
        await conn.close()


async def test_a_write_waits_for_a_held_write_lock_no_longer_than_the_busy_timeout(location):
    async with Store.open(location) as first:
        session = await first.create_session(NewSession(topic="Frozen"))
    async with Store.open(location, busy_timeout_s=0.2) as store:
        async with _write_lock_held(location):
            # Bounded only so that a write that would wait forever fails the test instead.
            async with asyncio.timeout(10):
                with pytest.raises(DRIVER_ERRORS, match=r"locked|lock timeout"):
                    await store.add_reply(
                        NewReply(session_id=session.id, round_number=1, persona="A")
                    )
        # Nothing of the failed write was kept, and the next write goes through.
        assert await store.replies(session.id) == []
        await store.add_reply(NewReply(session_id=session.id, round_number=1, persona="A"))


async def test_a_vote_target_is_read_while_a_vote_waits_to_be_written(location):
    async with Store.open(location) as first:
        session = await first.create_session(NewSession(topic="Busy"))
        reply = await first.add_reply(NewReply(session_id=session.id, round_number=1, persona="A"))
    async with Store.open(location) as store:
        async with _write_lock_held(location):
            voting = asyncio.create_task(store.record_vote(reply.id, 7, VoteValue.UP))
            for _ in range(3):
                await asyncio.sleep(0)  # the vote is now waiting for the database's write lock
            # Bounded only so that a read queued behind the write fails the test instead.
            async with asyncio.timeout(5):
                target = await store.vote_target(reply.id)
            assert not voting.done()
        await voting
        assert await store.votes_for(reply.id) == (1, 0)
    assert target is not None
    assert target.reply_id == reply.id
