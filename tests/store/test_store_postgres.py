"""What is PostgreSQL's own: twin migrations, its schema version and read-only opening.

Two stores writing one database at once (as two bot processes do) are tested with every other
concurrency test, in test_store_concurrency.py, on both databases.
"""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import asyncpg
import pytest

from bot.store import (
    Dialect,
    Migration,
    MigrationError,
    SchemaTooNewError,
    SchemaTooOldError,
    Store,
    bundled_migrations,
)
from tests.pg import PgServer


def test_every_sqlite_migration_has_a_postgresql_twin_of_the_same_number_and_name():
    sqlite = [f"{m.version:04d}_{m.name}.sql" for m in bundled_migrations()]
    twins = [f"{m.version:04d}_{m.name}.sql" for m in bundled_migrations(Dialect.POSTGRESQL)]

    missing = [name for name in sqlite if name not in twins]
    assert not missing, (
        f"write the PostgreSQL twin of each SQLite migration: add "
        f"{', '.join(f'bot/store/migrations/postgresql/{name}' for name in missing)}"
    )
    assert twins == sqlite


async def test_both_schemas_have_the_same_tables_and_columns(db_path, pg: PgServer):
    async with Store.open(db_path):
        pass
    with closing(sqlite3.connect(db_path)) as lite:
        tables = [
            row[0]
            for row in lite.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        sqlite_schema = {
            table: [row[1] for row in lite.execute(f'PRAGMA table_info("{table}")')]
            for table in tables
        }
    conn = await asyncpg.connect(await pg.emptied())
    try:
        found = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name <> 'schema_version'"
            " ORDER BY table_name, ordinal_position"
        )
    finally:
        await conn.close()
    pg_schema: dict[str, list[str]] = {}
    for row in found:
        pg_schema.setdefault(row["table_name"], []).append(row["column_name"])

    assert pg_schema == sqlite_schema


async def _version(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT version FROM schema_version"))
    finally:
        await conn.close()


async def test_a_new_database_is_migrated_once_even_by_two_stores_at_once(pg: PgServer):
    async with pg.empty_database() as url:

        async def open_one() -> int:
            async with Store.open(url) as store:
                return await store.count_sessions()

        assert await asyncio.gather(open_one(), open_one()) == [0, 0]
        assert await _version(url) == len(bundled_migrations(Dialect.POSTGRESQL))


async def test_an_old_database_is_upgraded_and_a_failing_step_rolled_back(pg: PgServer):
    steps = bundled_migrations(Dialect.POSTGRESQL)
    broken = Migration(len(steps) + 1, "broken", "CREATE TABLE half_done (x INT); SELECT 1/0;")
    async with pg.empty_database() as url:
        async with Store.open(url, migrations=steps[:3]):
            pass
        assert await _version(url) == 3

        with pytest.raises(MigrationError, match="broken failed and was rolled back"):
            async with Store.open(url, migrations=[*steps, broken]):
                pass

        assert await _version(url) == len(steps)
        conn = await asyncpg.connect(url)
        try:
            assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        finally:
            await conn.close()


async def test_a_newer_database_is_refused_and_an_older_one_is_not_read(pg: PgServer):
    steps = bundled_migrations(Dialect.POSTGRESQL)
    async with pg.empty_database() as url:
        async with Store.open(url, migrations=steps[:-1]):
            pass
        with pytest.raises(SchemaTooOldError, match=f"schema version {len(steps) - 1}"):
            async with Store.open_read_only(url):
                pass
        assert await _version(url) == len(steps) - 1, "a read-only look migrates nothing"

        async with Store.open(url):
            pass
        with pytest.raises(SchemaTooNewError, match="Upgrade Council"):
            async with Store.open(url, migrations=steps[:-1]):
                pass


async def test_a_read_only_store_reads_and_refuses_every_write(pg: PgServer):
    url = await pg.emptied()
    async with Store.open(url) as store:
        entry = await store.audit(5, 42, "session.stop", detail="Too long.")

    async with Store.open_read_only(url) as reader:
        assert await reader.audit_log(5) == [entry]
        with pytest.raises(asyncpg.ReadOnlySQLTransactionError):
            await reader.audit(5, 42, "session.start")
