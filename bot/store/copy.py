"""Copying a SQLite installation into an empty PostgreSQL database (`council-bot migrate-store`).

Both databases must be at this Council's schema version (the caller opens them through the
store first: the source read-only, the target migrated). Every table is copied whole, ids
included, parents before children, in one PostgreSQL transaction that also holds the store's
write lock; the identity sequences then continue after the highest copied id. Each table's rows
are counted on both sides before the commit: any difference rolls the whole copy back.
"""

from __future__ import annotations

import graphlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bot.store.db import connect_read_only
from bot.store.errors import StoreError
from bot.store.postgres import WRITE_LOCK

BATCH_ROWS = 5000


class CopyError(StoreError):
    """The copy was refused or did not add up; the target was left as it was."""


@dataclass(frozen=True, slots=True)
class CopiedTable:
    """How many rows one table holds in the source, and now in the target."""

    table: str
    source_rows: int
    target_rows: int


async def copy_sqlite_to_postgres(source: Path, target: str) -> list[CopiedTable]:
    """Copy every row of the SQLite file `source` into the empty PostgreSQL database `target`.

    Raises:
        CopyError: the target already holds rows, a table has no twin in the target, or the
            counts differ after the copy; nothing was written.
        sqlite3.Error, OSError, asyncpg.PostgresError: a database failed mid-way (rolled back).
    """
    lite = await connect_read_only(source)
    try:
        pg = await asyncpg.connect(target)
        try:
            async with pg.transaction():
                await pg.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                tables = await _tables_in_order(lite)
                await _check_target(pg, tables)
                copied = [await _copy_table(lite, pg, table) for table in tables]
                await _continue_sequences(pg, tables)
                wrong = [c for c in copied if c.source_rows != c.target_rows]
                if wrong:
                    raise CopyError(
                        "the copy does not add up ("
                        + ", ".join(f"{c.table}: {c.source_rows} -> {c.target_rows}" for c in wrong)
                        + "); nothing was written"
                    )
            return copied
        finally:
            await pg.close()
    finally:
        await lite.close()


async def _tables_in_order(lite: aiosqlite.Connection) -> list[str]:
    """The source's tables, each after every table its foreign keys point to."""
    names = [
        row[0]
        for row in await lite.execute_fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " ORDER BY name"
        )
    ]
    graph: dict[str, set[str]] = {}
    for name in names:
        parents = await lite.execute_fetchall(f'PRAGMA foreign_key_list("{name}")')
        graph[name] = {row[2] for row in parents if row[2] != name}
    return list(graphlib.TopologicalSorter(graph).static_order())


async def _check_target(pg: asyncpg.Connection[Any], tables: Sequence[str]) -> None:
    present = {
        row[0]
        for row in await pg.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    }
    missing = [table for table in tables if table not in present]
    if missing:
        raise CopyError(
            f"the target has no table {', '.join(missing)}: it is not at this Council's schema"
        )
    for table in tables:
        # Table names come from the source's own catalog, not from input (as below).
        if await pg.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{table}")'):  # noqa: S608
            raise CopyError(
                f"the target already holds councils' data (table {table} has rows): "
                "migrate-store copies into an empty database only"
            )


async def _copy_table(
    lite: aiosqlite.Connection, pg: asyncpg.Connection[Any], table: str
) -> CopiedTable:
    columns = [row[1] for row in await lite.execute_fetchall(f'PRAGMA table_info("{table}")')]
    listed = ", ".join(f'"{column}"' for column in columns)
    # Table and column names come from the database's own catalog, not from input.
    async with lite.execute(f'SELECT {listed} FROM "{table}"') as cursor:  # noqa: S608
        while batch := await cursor.fetchmany(BATCH_ROWS):
            await pg.copy_records_to_table(
                table, records=[tuple(row) for row in batch], columns=columns
            )
    [(source_rows,)] = await lite.execute_fetchall(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
    target_rows = await pg.fetchval(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
    return CopiedTable(table, int(source_rows), int(target_rows))


async def _continue_sequences(pg: asyncpg.Connection[Any], tables: Sequence[str]) -> None:
    """Make each copied table's identity go on after its highest id."""
    for table in tables:
        sequence = await pg.fetchval(
            "SELECT pg_get_serial_sequence(quote_ident($1), 'id')"
            " FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1 AND column_name = 'id'",
            table,
        )
        if sequence is not None:
            await pg.execute(
                f'SELECT setval($1, COALESCE((SELECT max(id) FROM "{table}"), 0) + 1, false)',  # noqa: S608
                sequence,
            )
