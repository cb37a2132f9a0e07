"""Council leases: one process at a time holds a council, until its lease expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.council.models import SessionStatus, utcnow
from bot.store import Store
from bot.store.rows import to_db_time
from tests.records import Make

TTL_S = 30.0


async def test_a_free_lease_is_taken_and_renewed_by_its_owner(store: Store, make, clock):
    session = await make.session()
    assert await store.take_lease(session.id, "a", TTL_S)
    first = await store.lease(session.id)
    assert first is not None
    assert first.owner == "a"
    assert await store.take_lease(session.id, "a", TTL_S)
    renewed = await store.lease(session.id)
    assert renewed is not None
    assert renewed.expires_at > first.expires_at


async def test_a_held_lease_is_refused_to_another_owner_until_it_expires(
    store: Store, make, raw_sql
):
    session = await make.session()
    assert await store.take_lease(session.id, "a", TTL_S)
    assert not await store.take_lease(session.id, "b", TTL_S)
    assert (await store.lease(session.id)).owner == "a"
    # Its time to live runs out (the stores of a PostgreSQL database read the server's clock).
    long_ago = to_db_time(datetime(2000, 1, 1, tzinfo=UTC))
    await raw_sql("UPDATE council_leases SET expires_at = ?", (long_ago,))
    assert await store.take_lease(session.id, "b", TTL_S)
    assert (await store.lease(session.id)).owner == "b"
    assert not await store.take_lease(session.id, "a", TTL_S)


async def test_releasing_frees_the_lease_but_only_for_its_owner(store: Store, make):
    session = await make.session()
    assert await store.take_lease(session.id, "a", TTL_S)
    await store.release_lease(session.id, "b")
    assert not await store.take_lease(session.id, "b", TTL_S)
    await store.release_lease(session.id, "a")
    assert await store.lease(session.id) is None
    assert await store.take_lease(session.id, "b", TTL_S)


async def test_two_stores_on_one_database_never_both_take_a_lease(
    location, make, store: Store, clock
):
    session = await make.session()
    async with Store.open(location, now=clock) as other:
        taken = [
            await store.take_lease(session.id, "a", TTL_S),
            await other.take_lease(session.id, "b", TTL_S),
        ]
    assert taken == [True, False]


async def test_on_postgresql_a_lease_expires_by_the_servers_clock_not_its_writers(pg_url):
    def behind() -> datetime:
        return utcnow() - timedelta(seconds=60)

    async with Store.open(pg_url, now=behind) as slow, Store.open(pg_url) as other:
        session = await Make(slow).session()
        assert await slow.take_lease(session.id, "slow", TTL_S)
        # Written by a host whose clock runs a minute behind, the lease still lives its 30 s.
        assert not await other.take_lease(session.id, "other", TTL_S)
        lease = await other.lease(session.id)
        assert lease is not None
        assert lease.owner == "slow"
        assert timedelta(0) < lease.expires_at - utcnow() <= timedelta(seconds=TTL_S)
        assert await slow.take_lease(session.id, "slow", TTL_S)


async def test_running_sessions_lists_only_running_ones_oldest_first(store: Store, make):
    running_a = await make.session()
    finished = await make.session()
    await store.set_session_status(finished.id, SessionStatus.FINISHED)
    running_b = await make.session(guild_id=7)
    assert [s.id for s in await store.running_sessions()] == [running_a.id, running_b.id]


async def test_marking_interrupted_pauses_a_running_council_only(store: Store, make):
    running = await make.session()
    paused = await make.session()
    await store.set_session_status(paused.id, SessionStatus.PAUSED, reason="host paused")

    interrupted = await store.mark_session_interrupted(running.id)

    assert interrupted is not None
    assert interrupted.status is SessionStatus.PAUSED
    assert interrupted.stop_reason == "interrupted by a restart"
    assert interrupted.ended_at is None
    assert await store.get_session(running.id) == interrupted
    assert await store.mark_session_interrupted(running.id) is None
    assert await store.mark_session_interrupted(paused.id) is None
    assert (await store.get_session(paused.id)).stop_reason == "host paused"


async def test_a_council_interrupted_by_a_restart_is_told_so_in_its_own_locale(store, make):
    russian = await make.session(locale="ru")
    english = await make.session(locale="en")

    for session in (russian, english):
        await store.mark_session_interrupted(session.id)

    assert (await store.get_session(russian.id)).stop_reason == "прервано перезапуском бота"
    assert (await store.get_session(english.id)).stop_reason == "interrupted by a restart"
