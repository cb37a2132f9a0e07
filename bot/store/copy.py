"""Copying a SQLite installation into an empty PostgreSQL database (`council-bot migrate-store`).

Both databases must be at this Council's schema version (the caller opens them through the
store first: the source read-only, the target migrated). Every table is copied whole, ids
included, parents before children, in one PostgreSQL transaction that also holds the store's
write lock; the identity sequences then continue after the highest id the source ever gave out
(SQLite's AUTOINCREMENT never reuses one, and persistent buttons carry ids). Each table's rows
are counted on both sides before the commit: any difference rolls the whole copy back.

Text is copied as the store writes it (`storable`): without the NUL PostgreSQL refuses. Council
names that PostgreSQL's case-insensitive names can't tell apart (SQLite's NOCASE folds ASCII
letters only) are refused before anything is copied, naming them.
"""

from __future__ import annotations

import graphlib
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bot.store.db import connect_read_only, storable
from bot.store.errors import StoreError
from bot.store.postgres import WRITE_LOCK, server_settings

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
        CopyError: the target already holds rows, a table has no twin in the target, council
            names clash once case is ignored, PostgreSQL refused a row, or the counts differ
            after the copy; nothing was written.
        sqlite3.Error, OSError, asyncpg.PostgresError: a database failed mid-way (rolled back).
    """
    lite = await connect_read_only(source)
    try:
        pg = await asyncpg.connect(target, server_settings=server_settings())
        try:
            async with pg.transaction():
                await pg.execute("SELECT pg_advisory_xact_lock($1)", WRITE_LOCK)
                tables = await _tables_in_order(lite)
                await _check_target(pg, tables)
                await _check_council_names(lite, pg, source)
                copied = [await _copy_table(lite, pg, table) for table in tables]
                await _continue_sequences(pg, tables, await _last_ids(lite))
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
            records = [tuple(storable(value) for value in row) for row in batch]
            try:
                await pg.copy_records_to_table(table, records=records, columns=columns)
            except (asyncpg.PostgresError, TypeError, ValueError) as exc:
                # A row SQLite took that PostgreSQL refuses: an orphan left while foreign keys
                # were off (the server says so), text in a number column (the driver can't
                # encode it). The operator must see which table.
                detail = " ".join(str(exc).split()).rstrip(".")
                raise CopyError(
                    f"PostgreSQL refused a row of table {table} ({detail}): fix that row in the "
                    "SQLite file and copy again; nothing was written"
                ) from exc
    [(source_rows,)] = await lite.execute_fetchall(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
    target_rows = await pg.fetchval(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608
    return CopiedTable(table, int(source_rows), int(target_rows))


async def _last_ids(lite: aiosqlite.Connection) -> dict[str, int]:
    """The highest id each AUTOINCREMENT table ever gave out, deleted rows included."""
    if not await lite.execute_fetchall(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'"
    ):
        return {}
    found = await lite.execute_fetchall("SELECT name, seq FROM sqlite_sequence")
    return {str(name): int(seq) for name, seq in found}


async def _continue_sequences(
    pg: asyncpg.Connection[Any], tables: Sequence[str], last_ids: dict[str, int]
) -> None:
    """Make each copied table's identity go on after the highest id it holds or ever gave out."""
    for table in tables:
        sequence = await pg.fetchval(
            "SELECT pg_get_serial_sequence(quote_ident($1), 'id')"
            " FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1 AND column_name = 'id'",
            table,
        )
        if sequence is not None:
            await pg.execute(
                f'SELECT setval($1, GREATEST((SELECT max(id) FROM "{table}"), $2, 0) + 1, false)',  # noqa: S608
                sequence,
                last_ids.get(table, 0),
            )


async def _check_council_names(
    lite: aiosqlite.Connection, pg: asyncpg.Connection[Any], source: Path
) -> None:
    """Refuse councils of one guild whose names differ in case alone beyond ASCII letters.

    The target's own collation judges, exactly as its unique key (guild_id, name) will.
    """
    found = await lite.execute_fetchall("SELECT id, guild_id, name FROM councils")
    if not found:
        return
    ids, guilds, names = zip(
        *((id_, guild, storable(name)) for id_, guild, name in found), strict=True
    )
    clash = await pg.fetchrow(
        "SELECT guild_id, array_agg(id ORDER BY id) AS ids,"
        ' array_agg(name COLLATE "C" ORDER BY id) AS names'
        " FROM unnest($1::bigint[], $2::bigint[], $3::text[]) AS c (id, guild_id, name)"
        " GROUP BY guild_id, name COLLATE nocase HAVING count(*) > 1 ORDER BY guild_id LIMIT 1",
        list(ids),
        list(guilds),
        list(names),
    )
    if clash is None:
        return
    named = " and ".join(
        f'"{name}" (id {id_})' for id_, name in zip(clash["ids"], clash["names"], strict=True)
    )
    # A hint for the operator, never run.
    rename = f"UPDATE councils SET name = name || ' 2' WHERE id = {clash['ids'][-1]}"  # noqa: S608
    raise CopyError(
        f"guild {clash['guild_id']} has councils {named}, names PostgreSQL holds to be the same "
        "(it ignores case in every script, SQLite only in ASCII letters): rename one in the "
        f'SQLite file, e.g. sqlite3 {shlex.quote(str(source))} "{rename}", then copy again; '
        "nothing was written"
    )
