"""A run's claim on its shards in PostgreSQL outlives the loss of the connection holding it:
taken again on a new one, or the run stops when another process took a shard meanwhile."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import asyncpg
import pytest

from bot.database_url import redact
from bot.databases import claim_shards
from bot.errors import UserFacingError
from bot.shards import ShardPlan
from bot.store import Store
from bot.store.errors import ClaimLostError
from bot.store.pg_claims import SHARD_CLASS, ClaimTiming

# A lost connection is noticed by its listener; the periodic check stays out of the way.
QUICK = ClaimTiming(check_s=60.0, timeout_s=5.0, retry_waits_s=(0.0, 0.05, 0.1))
# Long enough a gap for another process to claim a shard before this one tries again.
GAP = ClaimTiming(check_s=60.0, timeout_s=5.0, retry_waits_s=(1.0,))
# Far more than any wait below needs; only reached when something is broken.
PATIENCE = 500
# A run that was to stop and did not: far longer than any stop takes.
HANG_S = 30.0


@pytest.fixture
async def admin(pg_url: str) -> AsyncIterator[asyncpg.Connection[Any]]:
    """A connection of another process, to look at and break the claim's."""
    conn = await asyncpg.connect(pg_url)
    yield conn
    await conn.close()


async def _holders(admin: asyncpg.Connection[Any]) -> dict[int, int]:
    """The process (backend pid) holding each shard."""
    rows = await admin.fetch(
        "SELECT objid, pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND objsubid = 2 AND classid = $1",
        SHARD_CLASS,
    )
    return {int(row["objid"]): int(row["pid"]) for row in rows}


async def _until(check: Callable[[], Any]) -> Any:
    for _ in range(PATIENCE):
        if found := await check():
            return found
        await asyncio.sleep(0.02)
    raise AssertionError("the database never got there")


async def _enter_when_free(
    stack: AsyncExitStack, claim: Callable[[], AbstractAsyncContextManager[None]]
) -> None:
    """Claim as soon as whoever holds the shards lets go."""
    for _ in range(PATIENCE):
        try:
            await stack.enter_async_context(claim())
            return
        except UserFacingError:
            await asyncio.sleep(0.02)
    raise AssertionError("the shards were never let go")


async def test_a_claim_whose_connection_is_killed_is_taken_again_and_still_refuses_others(
    pg_url, admin, caplog
):
    caplog.set_level(logging.WARNING, "bot.store")
    async with Store.open(pg_url) as first, Store.open(pg_url) as second:
        async with claim_shards(first, pg_url, ShardPlan((0, 1), 4), QUICK):
            old = await _holders(admin)
            assert sorted(old) == [0, 1]
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", old[0])

            async def taken_again() -> dict[int, int]:
                now = await _holders(admin)
                return now if sorted(now) == [0, 1] and now[0] != old[0] else {}

            again = await _until(taken_again)
            assert again[0] == again[1]
            with pytest.raises(UserFacingError, match="runs shard 1"):
                async with claim_shards(second, pg_url, ShardPlan((1, 2), 4)):
                    pass
            # The claim is watched on its new connection too.
            assert await admin.fetchval("SELECT pg_terminate_backend($1)", again[0])
            await _until(
                lambda: _holders_besides(admin, {old[0], again[0]}),
            )
        assert await _holders(admin) == {}
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert (
        errors == ["lost the database connection holding shards 0, 1 of 4; claiming it again"] * 2
    )


async def _holders_besides(admin: asyncpg.Connection[Any], gone: set[int]) -> bool:
    now = await _holders(admin)
    return sorted(now) == [0, 1] and not gone & set(now.values())


async def test_a_run_whose_shard_another_claimed_while_its_connection_was_down_stops(pg_url, admin):
    held = asyncio.Event()

    async def run(store: Store) -> None:
        async with claim_shards(store, pg_url, ShardPlan((0, 1), 4), GAP):
            held.set()
            await asyncio.Event().wait()

    async with Store.open(pg_url) as first, Store.open(pg_url) as second:
        running = asyncio.create_task(run(first))
        await held.wait()
        old = await _holders(admin)
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", old[1])
        async with AsyncExitStack() as stack:
            await _enter_when_free(
                stack, lambda: claim_shards(second, pg_url, ShardPlan((1, 2), 4))
            )
            with pytest.raises(UserFacingError) as stopped:
                await asyncio.wait_for(running, HANG_S)
            assert stopped.value.message == (
                f"Stopped: the connection to the database {redact(pg_url)} holding this "
                "process's shards was lost, and another `council-bot run` runs shard 1 now."
            )
            assert isinstance(stopped.value.__cause__, ClaimLostError)
            # The stopped run holds nothing; the other keeps what it claimed.
            now = await _holders(admin)
            assert sorted(now) == [1, 2]
            assert now[1] not in old.values()


async def test_a_claim_the_database_refuses_to_take_again_stops_the_run_after_its_tries(
    pg, pg_url, caplog
):
    caplog.set_level(logging.WARNING, "bot.store")
    database = pg_url.rsplit("/", 1)[1]
    # A database can't be closed to connections from a connection to itself.
    server = await asyncpg.connect(pg.url())

    async def run(store: Store) -> None:
        async with claim_shards(store, pg_url, ShardPlan((0,), 4), QUICK):
            # No new connection is let in, and every open one but this is ended.
            await server.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            await server.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
            await asyncio.Event().wait()

    async with Store.open(pg_url) as first:
        try:
            with pytest.raises(UserFacingError) as stopped:
                await asyncio.wait_for(run(first), HANG_S)
        finally:
            await server.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            await server.close()
    assert stopped.value.message == (
        f"Stopped: the connection to the database {redact(pg_url)} holding this process's "
        "shards was lost and the database stayed out of reach, so another process may run "
        "them now."
    )
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name == "bot.store.pg_claims" and r.levelno == logging.WARNING
    ]
    assert [w.split(": ", 1)[0] for w in warnings] == [
        f"can't reach the database to claim shards 0 of 4 again (try {n} of 3)" for n in (1, 2, 3)
    ]
