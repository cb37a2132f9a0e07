"""Council leases: one process at a time holds a council, until its lease expires."""

from __future__ import annotations

from datetime import timedelta

from bot.council.models import SessionStatus
from bot.store import Store

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


async def test_a_held_lease_is_refused_to_another_owner_until_it_expires(store: Store, make, clock):
    session = await make.session()
    assert await store.take_lease(session.id, "a", TTL_S)
    assert not await store.take_lease(session.id, "b", TTL_S)
    assert (await store.lease(session.id)).owner == "a"
    clock.current += timedelta(seconds=TTL_S)
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
