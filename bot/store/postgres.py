"""The store on PostgreSQL: a pool of asyncpg connections shared by several bot processes.

Reads take a pooled connection in a REPEATABLE READ, read-only transaction: one snapshot for
all their queries. Writes keep SQLite's semantics, one at a time across every process: each
takes one transaction-scoped advisory lock before its first statement, which the next writer
(here or in another process) waits for, as SQLite writers wait for BEGIN IMMEDIATE. Within a
process writers also queue on a lock, so a queue of writers holds one pooled connection, not
one each. The bot's write rate is low; serializing them is simple and loses nothing.

Migrations are `bot/store/migrations/postgresql/NNNN_name.sql`, twins of the SQLite ones, and
the version reached is the one row of `schema_version`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any, TypeAlias

import asyncpg

from bot.store.db import (
    DEFAULT_BUSY_TIMEOUT_S,
    Database,
    Dialect,
    Params,
    Row,
    Sql,
    SqlValue,
    Transaction,
    bindable,
    sql_for,
)
from bot.store.errors import (
    ConstraintError,
    MigrationError,
    SchemaTooNewError,
)
from bot.store.migrate import Migration, check_sequence
from bot.store.placeholders import numbered

log = logging.getLogger(__name__)

# Advisory lock keys (any bigint; these spell "COUNCILW" and "COUNCILM" in ASCII).
WRITE_LOCK = 0x434F554E43494C57
MIGRATION_LOCK = 0x434F554E43494C4D

POOL_MAX_SIZE = 10
IDLE_IN_TRANSACTION_TIMEOUT_S = 60.0

# A string: asyncpg's classes are generic only to the type checker.
Connection: TypeAlias = "asyncpg.Connection[Any] | asyncpg.pool.PoolConnectionProxy[Any]"

_CONSTRAINTS: tuple[tuple[type[asyncpg.PostgresError], str], ...] = (
    (asyncpg.ForeignKeyViolationError, "foreign key"),
    (asyncpg.UniqueViolationError, "unique"),
    (asyncpg.CheckViolationError, "check"),
    (asyncpg.NotNullViolationError, "not null"),
)


@contextmanager
def _constraints() -> Iterator[None]:
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        kind = next((name for cls, name in _CONSTRAINTS if isinstance(exc, cls)), "integrity")
        raise ConstraintError(kind, str(exc)) from exc


def _changed(status: str | None) -> int:
    """The row count of a command status such as "UPDATE 3" or "INSERT 0 1"."""
    last = (status or "").rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


class PgTransaction(Transaction):
    """A transaction on one pooled connection."""

    dialect = Dialect.POSTGRESQL

    def __init__(self, conn: asyncpg.pool.PoolConnectionProxy[Any]) -> None:
        self._conn = conn

    async def all(self, sql: Sql, params: Params = ()) -> list[Row]:
        text, args = _bound(sql_for(sql, self.dialect), params)
        with _constraints():
            return list(await self._conn.fetch(text, *args))

    async def insert(self, sql: Sql, params: Params = ()) -> int:
        text, args = _bound(f"{sql_for(sql, self.dialect)} RETURNING id", params)
        with _constraints():
            new_id = await self._conn.fetchval(text, *args)
        if new_id is None:
            raise RuntimeError(f"INSERT returned no row id: {sql}")
        return int(new_id)

    async def run(self, sql: Sql, params: Params = ()) -> int:
        text, args = _bound(sql_for(sql, self.dialect), params)
        with _constraints():
            return _changed(await self._conn.execute(text, *args))

    async def run_many(self, sql: Sql, params: Iterable[Params]) -> int:
        # executemany reports no row counts; one prepared statement run per set does.
        text = sql_for(sql, self.dialect)
        prepared = None
        total = 0
        with _constraints():
            for values in params:
                if prepared is None:
                    prepared = await self._conn.prepare(numbered(text).sql)
                await prepared.fetch(*_bound(text, values)[1])
                total += _changed(prepared.get_statusmsg())
        return total


def _bound(sql: str, params: Params) -> tuple[str, list[SqlValue]]:
    """`sql` in `$n` placeholders and the values they take, text made `storable` (as on SQLite):
    PostgreSQL refuses NUL in text, which model output may hold."""
    statement = numbered(sql)
    return statement.sql, statement.arguments(bindable(params))


class PgDatabase(Database):
    """The pool's transactions; the pool itself is closed by whoever opened it."""

    dialect = Dialect.POSTGRESQL

    def __init__(self, pool: asyncpg.Pool[Any]) -> None:
        self._pool = pool
        self._write_lock = asyncio.Lock()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        async with (
            self._pool.acquire() as conn,
            conn.transaction(isolation="repeatable_read", readonly=True),
        ):
            yield PgTransaction(conn)

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Transaction]:
        async with self._write_lock, self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
            yield PgTransaction(conn)

    async def query(self, sql: Sql, params: Params = ()) -> list[Row]:
        text, args = _bound(sql_for(sql, self.dialect), params)
        return list(await self._pool.fetch(text, *args))


def server_settings(
    *, lock_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S, read_only: bool = False
) -> dict[str, str]:
    """The session settings of every connection the store opens.

    One process frozen while it holds the write lock must not stop every write in every
    process: a statement waits for a lock (`pg_advisory_xact_lock` included) no longer than
    `lock_timeout_s`, as a SQLite writer waits out its busy timeout, then fails with
    `asyncpg.LockNotAvailableError`, a driver error like SQLite's "database is locked"; and a
    transaction left idle longer than `IDLE_IN_TRANSACTION_TIMEOUT_S` is ended by the server,
    its locks with it.
    """
    settings = {
        "application_name": "council-bot",
        # 0 would mean no limit at all to PostgreSQL; to SQLite it means not waiting.
        "lock_timeout": str(max(1, round(lock_timeout_s * 1000))),
        "idle_in_transaction_session_timeout": str(round(IDLE_IN_TRANSACTION_TIMEOUT_S * 1000)),
    }
    if read_only:
        settings["default_transaction_read_only"] = "on"
    return settings


async def open_pool(
    url: str, *, read_only: bool = False, lock_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> asyncpg.Pool[Any]:
    """A connection pool on the database at `url`, its sessions set by `server_settings`.

    Raises:
        OSError: the server can't be reached.
        asyncpg.PostgresError: the server refused (no such database or role, wrong password).
        ValueError: `url` is malformed (asyncpg's ClientConfigurationError is one).
    """
    return await asyncpg.create_pool(
        url,
        min_size=1,
        max_size=POOL_MAX_SIZE,
        server_settings=server_settings(lock_timeout_s=lock_timeout_s, read_only=read_only),
    )


async def schema_version(conn: Connection) -> int:
    """The number of the last migration applied; 0 for a database Council never opened."""
    if await conn.fetchval("SELECT to_regclass('schema_version')") is None:
        return 0
    version = await conn.fetchval("SELECT max(version) FROM schema_version")
    return 0 if version is None else int(version)


async def migrate(pool: asyncpg.Pool[Any], migrations: Sequence[Migration], *, label: str) -> int:
    """Apply every migration newer than the database, each in its own transaction; return the
    final version. Processes migrating at once take turns, and each step applies once.

    Raises:
        SchemaTooNewError: the database is at a version this list does not reach.
        MigrationError: a migration failed; it was rolled back and later ones not tried.
    """
    check_sequence(migrations)
    known = len(migrations)
    async with pool.acquire() as conn:
        current = await schema_version(conn)
        if current > known:
            raise SchemaTooNewError(label, current, known)
        for migration in migrations[current:]:
            await _apply(conn, migration, known=known, label=label)
        return await schema_version(conn)


async def _apply(
    conn: asyncpg.pool.PoolConnectionProxy[Any], migration: Migration, *, known: int, label: str
) -> None:
    name = f"{migration.version:04d}_{migration.name}"
    try:
        async with conn.transaction():
            # Processes starting together wait for one another's migrations however long they
            # take; a frozen one loses its transaction to idle_in_transaction_session_timeout.
            await conn.execute("SET LOCAL lock_timeout = 0")
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)"
            )
            # Another process may have migrated between our first look and taking the lock.
            current = await schema_version(conn)
            if current > known:
                raise SchemaTooNewError(label, current, known)
            if current >= migration.version:
                return
            if current != migration.version - 1:
                raise MigrationError(f"cannot apply {name} to a database at version {current}")
            # Without parameters asyncpg sends the whole script at once, inside this transaction.
            await conn.execute(migration.sql)
            await conn.execute("DELETE FROM schema_version")
            await conn.execute(
                "INSERT INTO schema_version (version) VALUES ($1)", migration.version
            )
    except asyncpg.PostgresError as exc:
        raise MigrationError(f"migration {name} failed and was rolled back: {exc}") from exc
    log.info("applied migration %s to %s", name, label)


async def peek_version(url: str) -> int:
    """The schema version of the database at `url` (0: Council never opened it), changing
    nothing.

    Raises:
        OSError, asyncpg.PostgresError, ValueError: as for `open_pool`.
    """
    conn = await asyncpg.connect(url, server_settings={"default_transaction_read_only": "on"})
    try:
        return await schema_version(conn)
    finally:
        await conn.close()
