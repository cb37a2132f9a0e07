"""Numbered SQL migrations, applied in order and tracked with `PRAGMA user_version`.

Files live in `bot/store/migrations/` as `NNNN_name.sql`, numbered from 0001 without gaps and
never edited once released; their PostgreSQL twins, with the same numbers and names, live in
`bot/store/migrations/postgresql/` and are run by `bot.store.postgres`. Each is applied in its
own BEGIN IMMEDIATE transaction together with the new `user_version`, so a failing migration
leaves the database exactly as it was, and two processes opening the same file at once apply
each migration only once.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

import aiosqlite

from bot.store.db import Dialect
from bot.store.errors import MigrationError, SchemaTooNewError

log = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema step: applying it moves the database from `version - 1` to `version`."""

    version: int
    name: str
    sql: str


def bundled_migrations(dialect: Dialect = Dialect.SQLITE) -> list[Migration]:
    """The migrations shipped with this package for `dialect`, in order."""
    folder = files("bot.store").joinpath("migrations")
    if dialect is Dialect.POSTGRESQL:
        folder = folder.joinpath("postgresql")
    return load_migrations(folder)


def load_migrations(directory: Traversable) -> list[Migration]:
    """Read every `NNNN_name.sql` in `directory`, checking the numbers run 1, 2, 3 ...

    Raises:
        MigrationError: a `.sql` file is misnamed, or the numbers repeat or skip.
    """
    found: list[Migration] = []
    for entry in directory.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationError(
                f"migration file {entry.name!r} is not named NNNN_lowercase_name.sql"
            )
        found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    check_sequence(found)
    return found


def check_sequence(migrations: Sequence[Migration]) -> None:
    """Refuse a migration list that does not number its steps 1, 2, 3 ... in order.

    Raises:
        MigrationError: naming the first out-of-place version.
    """
    for expected, migration in enumerate(migrations, start=1):
        if migration.version != expected:
            raise MigrationError(
                f"migration {migration.version:04d}_{migration.name} is out of sequence: "
                f"expected {expected:04d}"
            )


def split_statements(sql: str) -> list[str]:
    """Cut a script into single statements, at semicolons that end one.

    sqlite3 runs one statement per `execute`, and `executescript` would commit the migration's
    transaction first, so the runner executes the statements one by one.
    `sqlite3.complete_statement` knows about strings, comments and trigger bodies.

    Raises:
        MigrationError: the script ends with an unterminated statement.
    """
    statements: list[str] = []
    start = 0
    for end, char in enumerate(sql):
        if char == ";" and sqlite3.complete_statement(sql[start : end + 1]):
            statements.append(sql[start : end + 1].strip())
            start = end + 1
    rest = sql[start:]
    if any(line.strip() and not line.strip().startswith("--") for line in rest.splitlines()):
        raise MigrationError(f"unterminated statement at the end of the script: {rest.strip()!r}")
    return statements


async def schema_version(conn: aiosqlite.Connection) -> int:
    """The database's `user_version`: the number of the last migration applied."""
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    return int(rows[0][0])


async def migrate(
    conn: aiosqlite.Connection, migrations: Sequence[Migration], *, path: str = ""
) -> int:
    """Apply every migration newer than the database, in order; return the final version.

    `conn` must be in autocommit mode (isolation_level=None) with foreign keys off.

    Raises:
        SchemaTooNewError: the database is at a version this list does not reach.
        MigrationError: a migration failed; it was rolled back and later ones not tried.
    """
    check_sequence(migrations)
    known = len(migrations)
    current = await schema_version(conn)
    if current > known:
        raise SchemaTooNewError(path, current, known)
    for migration in migrations[current:]:
        await _apply(conn, migration, known=known, path=path)
    return await schema_version(conn)


async def _apply(
    conn: aiosqlite.Connection, migration: Migration, *, known: int, path: str
) -> None:
    label = f"{migration.version:04d}_{migration.name}"
    statements = split_statements(migration.sql)
    try:
        # Inside the try for the same reason as in db.SqliteDatabase: a cancelled BEGIN still runs.
        await conn.execute_fetchall("BEGIN IMMEDIATE")
        # Another process may have migrated between our first look and taking the write lock.
        current = await schema_version(conn)
        if current > known:
            raise SchemaTooNewError(path, current, known)
        if current >= migration.version:
            await conn.rollback()
            return
        if current != migration.version - 1:
            raise MigrationError(f"cannot apply {label} to a database at version {current}")
        for statement in statements:
            await conn.execute_fetchall(statement)
        broken = list(await conn.execute_fetchall("PRAGMA foreign_key_check"))
        if broken:
            raise MigrationError(
                f"migration {label} leaves {len(broken)} row(s) breaking foreign keys, "
                f"first in table {broken[0][0]!r}"
            )
        # PRAGMA takes no bound parameters; the version is an int from the file name.
        await conn.execute_fetchall(f"PRAGMA user_version = {int(migration.version)}")
        await conn.commit()
    except BaseException as exc:
        await conn.rollback()
        if isinstance(exc, sqlite3.Error):
            raise MigrationError(f"migration {label} failed and was rolled back: {exc}") from exc
        raise
    log.info("applied migration %s to %s", label, path or "the database")
