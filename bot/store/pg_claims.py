"""The run's claim on its shards in a PostgreSQL database, kept for as long as the run lasts.

`council-bot run` processes sharing a database hold session-level advisory locks (keys of two
int4s, apart from the one-bigint keys of `bot.store.postgres`) on a connection kept for the
whole run: a process that dies, or loses its connection, lets them go with it. A claim whose
connection is lost is taken again on a new one; if another process took a shard meanwhile,
or the database stays out of reach, the run is stopped rather than left running shards that
may be another's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeAlias

import asyncpg

from bot.store.errors import ClaimLostError, ShardsTakenError
from bot.store.postgres import PgDatabase

log = logging.getLogger(__name__)

# The bot runs here: held exclusive by an unsharded process, shared by each sharded one.
RUN_CLASS: Final = 0x4352554E  # "CRUN"
# A sharded process's shard count (the key's second half): shared by the processes that agree.
COUNT_CLASS: Final = 0x43434E54  # "CCNT"
# One shard (the key's second half), held by the one process that runs it.
SHARD_CLASS: Final = 0x43534844  # "CSHD"

# What a lost server, connection or network raises while a claim is checked or taken.
_LOST: Final = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)

# A string: asyncpg's classes are generic only to the type checker.
PooledConnection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[Any]"


@dataclass(frozen=True, slots=True)
class ClaimTiming:
    """How a claim is watched and taken again.

    A closed connection is noticed at once (asyncpg's termination listener); one cut without
    a word (a network gone quiet) only when a query on it fails, so one is sent every
    `check_s`, given `timeout_s` to answer. After a loss, the claim is taken again after each
    wait of `retry_waits_s` in turn, until it is held or refused; then the run stops.
    """

    check_s: float = 30.0
    timeout_s: float = 10.0
    retry_waits_s: tuple[float, ...] = (0.0, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 30.0, 30.0, 30.0)


DEFAULT_TIMING: Final = ClaimTiming()


@asynccontextmanager
async def claim_shards(
    db: PgDatabase,
    shard_ids: Sequence[int] | None,
    shard_count: int | None,
    timing: ClaimTiming = DEFAULT_TIMING,
) -> AsyncIterator[None]:
    """Hold `shard_ids` of `shard_count` (None: the whole bot) in the database while the block
    runs, on a connection of `db`'s pool kept for it, and take the claim again should that
    connection be lost.

    Raises:
        ShardsTakenError: another process runs one of the shards, the bot with another shard
            count, or the whole bot; or this process would run the whole bot beside others.
        ClaimLostError: the claim was lost and could not be taken again; the block, which
            can't go on safely, was cancelled first.
    """
    claim = _Claim(db._pool, shard_ids, shard_count, timing)
    await claim.take()
    body = asyncio.current_task()
    assert body is not None  # an async context manager runs in a task
    cancelling = body.cancelling()
    keeper = asyncio.create_task(claim.keep(body), name="council-shard-claim")
    try:
        yield
    except asyncio.CancelledError:
        # Ended by the keeper (and nothing else): the claim is gone, and that is the reason.
        if claim.lost is not None and body.uncancel() <= cancelling:
            raise claim.lost from None
        raise
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper
        await claim.release()


class _Claim:
    """One process's claim and the connection holding it."""

    def __init__(
        self,
        pool: asyncpg.Pool[Any],
        shard_ids: Sequence[int] | None,
        shard_count: int | None,
        timing: ClaimTiming,
    ) -> None:
        self._pool = pool
        self._ids = shard_ids
        self._count = shard_count
        self._timing = timing
        self._conn: PooledConnection | None = None
        self._closed = asyncio.Event()
        self.lost: ClaimLostError | None = None

    def _what(self) -> str:
        if self._ids is None or self._count is None:
            return "the whole bot"
        return f"shards {', '.join(map(str, self._ids))} of {self._count}"

    async def take(self) -> None:
        """Take the claim on a connection of the pool, and watch that connection.

        Raises:
            ShardsTakenError: another process holds part of it (nothing is kept held).
            OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError: the database
                could not be reached.
        """
        conn = await self._pool.acquire(timeout=self._timing.timeout_s)
        try:
            await _claim(conn, self._ids, self._count)
        except BaseException:
            await self._let_go(conn)
            raise
        self._closed.clear()
        conn.add_termination_listener(self._on_closed)
        self._conn = conn

    async def keep(self, body: asyncio.Task[Any]) -> None:
        """Watch the claim for the run; when it is lost, take it again, or end `body`."""
        while True:
            await self._until_lost()
            log.error("lost the database connection holding %s; claiming it again", self._what())
            await self.release()
            try:
                await self._take_again()
            except ClaimLostError as exc:
                self.lost = exc
                body.cancel()
                return
            log.warning("claimed %s again", self._what())

    async def release(self) -> None:
        """Let go of the claim and return its connection to the pool."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(*_LOST):
                conn.remove_termination_listener(self._on_closed)
            await self._let_go(conn)

    def _on_closed(self, _conn: object) -> None:
        self._closed.set()

    async def _until_lost(self) -> None:
        """Return once the connection is closed, or fails a check."""
        conn = self._conn
        assert conn is not None
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self._timing.check_s)
                return
            try:
                await conn.fetchval("SELECT 1", timeout=self._timing.timeout_s)
            except _LOST:
                # Closed here too, so that no half-dead session lingers with the locks.
                with contextlib.suppress(*_LOST):
                    conn.terminate()
                return

    async def _take_again(self) -> None:
        """Take the claim on a new connection, trying again while the database is unreachable.

        Raises:
            ClaimLostError: another process holds part of it now, or the database stayed
                unreachable through every try.
        """
        tries = len(self._timing.retry_waits_s)
        for attempt, wait in enumerate(self._timing.retry_waits_s, start=1):
            await asyncio.sleep(wait)
            try:
                await self.take()
                return
            except ShardsTakenError as exc:
                raise ClaimLostError(shard=exc.shard, shard_count=exc.shard_count) from exc
            except _LOST as exc:
                log.warning(
                    "can't reach the database to claim %s again (try %d of %d): %s",
                    self._what(),
                    attempt,
                    tries,
                    exc or type(exc).__name__,
                )
        raise ClaimLostError(is_unreachable=True)

    async def _let_go(self, conn: PooledConnection) -> None:
        # The pool resets a returned connection too; a claim never outlives its holder. On a
        # lost connection the server has let go already.
        with contextlib.suppress(*_LOST):
            await conn.execute("SELECT pg_advisory_unlock_all()", timeout=self._timing.timeout_s)
        with contextlib.suppress(*_LOST):
            await self._pool.release(conn)


async def _claim(
    conn: PooledConnection, shard_ids: Sequence[int] | None, shard_count: int | None
) -> None:
    if shard_ids is None or shard_count is None:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, 0)", RUN_CLASS):
            raise ShardsTakenError
        return
    for key in (RUN_CLASS, 0), (COUNT_CLASS, shard_count):
        if not await conn.fetchval("SELECT pg_try_advisory_lock_shared($1, $2)", *key):
            raise ShardsTakenError  # the whole bot runs in another process
    # Counts are held shared by every process that runs with them, so another count held
    # means a process running with it. Two starting at once with two counts both see the
    # other's and both refuse: neither runs guilds the other may run too.
    other = await conn.fetchval(
        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 2"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        " AND classid = $1 AND objid <> $2 LIMIT 1",
        COUNT_CLASS,
        shard_count,
    )
    if other is not None:
        raise ShardsTakenError(shard_count=int(other))
    for shard in shard_ids:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1, $2)", SHARD_CLASS, shard):
            raise ShardsTakenError(shard=shard)
