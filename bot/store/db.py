"""The store's database interface, and its SQLite implementation: one aiosqlite connection.

`Database` hands out `Transaction`s; the store's methods speak only to these two, so the same
methods run on SQLite (here) and on PostgreSQL (`bot.store.postgres`). A statement is plain
SQL with `?` or `:name` parameters; where the dialects differ, a `PerDialect` holds both
versions and the transaction picks its own.

On SQLite every transaction, read or write, is taken under one `asyncio.Lock`. A single SQLite
connection has a single transaction, so a read slipped between the awaits of someone else's
write would see rows that may yet be rolled back. Lone read statements (`Database.query`) may
go to a second, read-only connection instead: in WAL mode it reads the last committed state
while the first connection writes, so a hot read (a vote click's checks) never queues behind
the writes of a busy process.
Writes open with BEGIN IMMEDIATE so that, against another connection to the same file, they
wait (up to the busy timeout) for the write lock up front instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, overload

import aiosqlite
import asyncpg

from bot.store.errors import ConstraintError

log = logging.getLogger(__name__)

SqlValue = int | float | str | bytes | None
Params = Mapping[str, SqlValue] | Sequence[SqlValue]

DRIVER_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)
"""What either database driver raises when the database itself fails (locked, unreachable,
gone); constraint breaks raise `ConstraintError` instead."""


class Dialect(StrEnum):
    """The SQL a database speaks."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


@dataclass(frozen=True, slots=True)
class PerDialect:
    """One statement written for each dialect, where SQLite and PostgreSQL differ."""

    sqlite: str
    postgresql: str

    def text(self, dialect: Dialect) -> str:
        """The version for `dialect`."""
        return self.sqlite if dialect is Dialect.SQLITE else self.postgresql


Sql = str | PerDialect
"""A statement: the same text for both dialects, or one text each."""


def sql_for(sql: Sql, dialect: Dialect) -> str:
    """The text of `sql` in `dialect`."""
    return sql if isinstance(sql, str) else sql.text(dialect)


def ordered_by_text(sql: str, column: str) -> PerDialect:
    """`sql` ORDER BY the text `column` as people read a list of names, the same on both
    databases: ASCII letters regardless of case, then by code point ("a", "B", "b", "É").

    A bare ORDER BY follows the column's collation, which differs (SQLite's BINARY or NOCASE,
    PostgreSQL's database locale or ICU): this spells the order out. Both lower() fold ASCII
    letters only (PostgreSQL's under the "C" collation), and code point order is byte order.
    """
    return PerDialect(
        sqlite=f"{sql} ORDER BY lower({column}) COLLATE BINARY, {column} COLLATE BINARY",
        postgresql=f'{sql} ORDER BY lower({column} COLLATE "C") COLLATE "C", {column} COLLATE "C"',
    )


class Row(Protocol):
    """A result row, by column name or position (sqlite3.Row and asyncpg.Record both are)."""

    @overload
    def __getitem__(self, key: str, /) -> Any: ...
    @overload
    def __getitem__(self, key: int, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...


# What no PostgreSQL text can hold: NUL, and the lone surrogates a Python str may carry (JSON's
# "\ud800" decodes to one) but no UTF-8 text can. SQLite would keep NUL; dropping them on both
# databases keeps the stored text the same wherever it is stored.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def storable(value: SqlValue) -> SqlValue:
    """`value` as the store keeps it: text without the characters no database text can hold
    (NUL, lone surrogates); anything else unchanged."""
    if isinstance(value, str) and _UNSTORABLE.search(value):
        return _UNSTORABLE.sub("", value)
    return value


def bindable(params: Params) -> Params:
    """`params` with every text value `storable`.

    Both databases' transactions bind their parameters through this one function, so every
    statement drops the same characters: model output (replies, stances, questions) is
    untrusted text, and a NUL in it must neither fail the write on PostgreSQL nor be kept on
    SQLite only. A lookup by such text finds what was stored.
    """
    if isinstance(params, Mapping):
        return {name: storable(value) for name, value in params.items()}
    return [storable(value) for value in params]


def where_all(conditions: Mapping[str, SqlValue]) -> tuple[str, dict[str, SqlValue]]:
    """A WHERE clause joining constant fragments, each with one named parameter, and its values.

    `conditions` maps a fragment such as ``"guild_id = :guild_id"`` to its value; a None
    value leaves its fragment out (no filter), and no fragment at all matches every row.
    """
    clauses = ["1 = 1"]
    params: dict[str, SqlValue] = {}
    for fragment, value in conditions.items():
        if value is None:
            continue
        clauses.append(fragment)
        params[fragment.rsplit(":", 1)[1]] = value
    return " AND ".join(clauses), params


DEFAULT_BUSY_TIMEOUT_S = 10.0
WAL_ATTEMPTS = 20


async def connect(
    path: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> aiosqlite.Connection:
    """Open `path` (creating its folder) with the pragmas the store relies on.

    Foreign keys are left off: the migration runner wants them off and `enforce_foreign_keys`
    turns them on once the schema is current.
    """
    await asyncio.to_thread(path.parent.mkdir, parents=True, exist_ok=True)
    # isolation_level=None: the sqlite3 module must not open transactions behind our back;
    # Transaction below issues BEGIN/COMMIT itself.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute_fetchall(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        mode = await _use_wal(conn)
        if mode != "wal":
            log.warning("SQLite refused WAL journal mode for %s (got %s)", path, mode)
        # NORMAL is durable in WAL mode except for the last commits before a power cut.
        await conn.execute_fetchall("PRAGMA synchronous = NORMAL")
        await conn.execute_fetchall("PRAGMA foreign_keys = OFF")
    except BaseException:
        await conn.close()
        raise
    return conn


async def connect_read_only(path: Path) -> aiosqlite.Connection:
    """Open the existing file at `path` for reading only: SQLite refuses every write on it.

    Nothing is created or changed: no folder, no journal mode switch, no migration. SQLite may
    still add the `-wal` and `-shm` side files it needs to read a database in WAL mode.

    Raises:
        sqlite3.OperationalError: there is no such file, or it can't be read.
    """
    # A file: URI, which SQLite needs for mode=ro, must be absolute and percent-encoded.
    absolute = await asyncio.to_thread(path.resolve)
    uri = f"{absolute.as_uri()}?mode=ro"
    conn = await aiosqlite.connect(uri, uri=True, isolation_level=None)
    conn.row_factory = sqlite3.Row
    return conn


async def connect_reader(
    path: Path, *, busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S
) -> aiosqlite.Connection:
    """A second connection to the store at `path` (already open, in WAL mode) that only reads.

    `query_only` makes SQLite refuse any write on it, so nothing but lone reads can use it.
    """
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute_fetchall(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        await conn.execute_fetchall("PRAGMA query_only = ON")
    except BaseException:
        await conn.close()
        raise
    return conn


async def _use_wal(conn: aiosqlite.Connection) -> str | None:
    """Switch to WAL; return the journal mode SQLite reports afterwards."""
    for attempt in range(1, WAL_ATTEMPTS + 1):
        try:
            rows = list(await conn.execute_fetchall("PRAGMA journal_mode = WAL"))
            return str(rows[0][0]).lower() if rows else None
        except sqlite3.OperationalError as exc:
            # Two connections switching a new file at once: SQLite refuses one at once,
            # without waiting out busy_timeout (it would deadlock), so wait and ask again.
            if "locked" not in str(exc) or attempt == WAL_ATTEMPTS:
                raise
            await asyncio.sleep(0.02 * attempt)
    return None


async def enforce_foreign_keys(conn: aiosqlite.Connection) -> None:
    """Turn foreign key enforcement on (it cannot change inside a transaction)."""
    await conn.execute_fetchall("PRAGMA foreign_keys = ON")


class Transaction(ABC):
    """Statements inside one open transaction; obtained from `Database.reading/writing`.

    Raises (from every method):
        ConstraintError: the statement breaks a foreign key, unique or check constraint.
    """

    dialect: Dialect

    async def one(self, sql: Sql, params: Params = ()) -> Row | None:
        """The first row of a query, or None."""
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    @abstractmethod
    async def all(self, sql: Sql, params: Params = ()) -> list[Row]:
        """Every row of a query."""

    @abstractmethod
    async def insert(self, sql: Sql, params: Params = ()) -> int:
        """Run an INSERT into a table with an `id` key and return the new row's id."""

    @abstractmethod
    async def run(self, sql: Sql, params: Params = ()) -> int:
        """Run a statement and return how many rows it changed."""

    @abstractmethod
    async def run_many(self, sql: Sql, params: Iterable[Params]) -> int:
        """Run one statement once per parameter set; return how many rows changed in all."""


class Database(ABC):
    """Owns the transactions of one database; closed by whoever opened it."""

    dialect: Dialect

    @abstractmethod
    def reading(self) -> AbstractAsyncContextManager[Transaction]:
        """A consistent snapshot for several queries."""

    @abstractmethod
    def writing(self) -> AbstractAsyncContextManager[Transaction]:
        """One atomic write, serialized with every other write to the database: committed
        when the block ends, rolled back if it raises."""

    @abstractmethod
    async def query(self, sql: Sql, params: Params = ()) -> list[Row]:
        """The rows of one read statement, run as its own consistent snapshot."""


@contextmanager
def _constraints() -> Iterator[None]:
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConstraintError(_sqlite_constraint(str(exc)), str(exc)) from exc


def _sqlite_constraint(message: str) -> str:
    for kind in ("FOREIGN KEY", "UNIQUE", "CHECK", "NOT NULL"):
        if message.startswith(kind):
            return kind.lower()
    return "integrity"


class SqliteTransaction(Transaction):
    """A transaction on the store's aiosqlite connection."""

    dialect = Dialect.SQLITE

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def all(self, sql: Sql, params: Params = ()) -> list[Row]:
        with _constraints():
            return list(await self._conn.execute_fetchall(_sqlite(sql), bindable(params)))

    async def insert(self, sql: Sql, params: Params = ()) -> int:
        with _constraints():
            row = await self._conn.execute_insert(_sqlite(sql), bindable(params))
        if row is None:
            raise RuntimeError(f"INSERT returned no row id: {sql}")
        return int(row[0])

    async def run(self, sql: Sql, params: Params = ()) -> int:
        with _constraints():
            async with self._conn.execute(_sqlite(sql), bindable(params)) as cursor:
                return cursor.rowcount

    async def run_many(self, sql: Sql, params: Iterable[Params]) -> int:
        sets = (bindable(values) for values in params)
        with _constraints():
            async with self._conn.executemany(_sqlite(sql), sets) as cursor:
                return cursor.rowcount


def _sqlite(sql: Sql) -> str:
    return sql_for(sql, Dialect.SQLITE)


class SqliteDatabase(Database):
    """Owns the connection's transactions; the connections themselves are closed by whoever
    opened them.

    `reader`, if given, is a read-only connection to the same file (see `connect_reader`) that
    serves `query` without waiting for the lock.
    """

    dialect = Dialect.SQLITE

    def __init__(
        self, conn: aiosqlite.Connection, reader: aiosqlite.Connection | None = None
    ) -> None:
        self._conn = conn
        self._reader = reader
        self._lock = asyncio.Lock()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[Transaction]:
        """A consistent snapshot for several queries (BEGIN DEFERRED)."""
        async with self._lock, self._transaction("BEGIN DEFERRED") as tx:
            yield tx

    async def query(self, sql: Sql, params: Params = ()) -> list[Row]:
        """The rows of one read statement, which SQLite runs as its own consistent snapshot.

        On the reader connection it sees every transaction committed so far, without waiting
        for one being written. Without a reader it runs under the lock, where no other
        caller's transaction is open on the connection, so a lone statement needs no
        BEGIN/COMMIT: one round trip to aiosqlite's thread instead of three.
        """
        if self._reader is not None:
            # aiosqlite runs execute_fetchall as one call on the connection's thread, so lone
            # statements from many tasks never interleave.
            return list(await self._reader.execute_fetchall(_sqlite(sql), bindable(params)))
        async with self._lock:
            return list(await self._conn.execute_fetchall(_sqlite(sql), bindable(params)))

    @asynccontextmanager
    async def writing(self) -> AsyncIterator[Transaction]:
        """One atomic write: committed when the block ends, rolled back if it raises."""
        async with self._lock, self._transaction("BEGIN IMMEDIATE") as tx:
            yield tx

    @asynccontextmanager
    async def _transaction(self, begin: str) -> AsyncIterator[Transaction]:
        # BEGIN sits inside the try: if the caller is cancelled while BEGIN is queued, it still
        # runs on aiosqlite's thread, and the rollback queued behind it must close it again.
        # rollback() is a no-op when no transaction is open (BEGIN failed or COMMIT went through).
        try:
            await self._conn.execute_fetchall(begin)
            yield SqliteTransaction(self._conn)
            await self._conn.commit()
        except BaseException:
            await self._conn.rollback()
            raise
