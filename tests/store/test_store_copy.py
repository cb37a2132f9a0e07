"""Copying a SQLite installation into PostgreSQL (`copy_sqlite_to_postgres`): rows SQLite holds
that PostgreSQL would refuse, and ids that must never come back.

The command around it (`council-bot migrate-store`) is tested in tests/test_cli_postgres.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from bot.council.models import NewReply, NewSession
from bot.store import Store
from bot.store.copy import CopyError, copy_sqlite_to_postgres
from tests.pg import PgServer

GUILD = 5


@pytest.fixture
async def target(pg: PgServer) -> AsyncIterator[str]:
    """An empty PostgreSQL database at this Council's schema."""
    async with pg.empty_database() as url:
        async with Store.open(url):
            pass
        yield url


def _sql(db: Path, sql: str, params: tuple[object, ...] = ()) -> None:
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute(sql, params)


async def _session(db: Path) -> int:
    async with Store.open(db) as store:
        return (await store.create_session(NewSession(topic="Move me", guild_id=GUILD))).id


async def test_text_holding_nul_is_copied_without_it(db_path, target):
    # SQLite keeps a NUL that PostgreSQL refuses: such a row (written before the store dropped
    # NUL itself) is copied as the store would write it today.
    session_id = await _session(db_path)
    _sql(db_path, "UPDATE sessions SET topic = ? WHERE id = ?", ("Move\x00 me", session_id))

    await copy_sqlite_to_postgres(db_path, target)

    async with Store.open(target) as copied:
        assert (await copied.get_session(session_id)).topic == "Move me"


async def test_ids_given_out_and_deleted_in_sqlite_are_not_given_out_again(db_path, target):
    session_id = await _session(db_path)
    async with Store.open(db_path) as store:
        for _ in range(3):
            await store.add_reply(NewReply(session_id=session_id, round_number=1, persona="A"))
    _sql(db_path, "DELETE FROM replies WHERE id = 3")

    await copy_sqlite_to_postgres(db_path, target)

    async with Store.open(target) as copied:
        reply = await copied.add_reply(NewReply(session_id=session_id, round_number=2, persona="A"))
    async with Store.open(db_path) as store:
        same = await store.add_reply(NewReply(session_id=session_id, round_number=2, persona="A"))
    assert reply.id == same.id == 4


async def test_council_names_differing_in_case_beyond_ascii_are_refused_by_name(db_path, target):
    # SQLite's NOCASE folds ASCII letters only: "Совет" and "совет" are two councils there, one
    # name to PostgreSQL's case-insensitive collation.
    async with Store.open(db_path) as store:
        await store.create_council(GUILD, "Совет")
        await store.create_council(GUILD, "Elders")
        await store.create_council(GUILD, "совет")
        await store.create_council(GUILD + 1, "совет")

    with pytest.raises(CopyError) as refused:
        await copy_sqlite_to_postgres(db_path, target)

    message = str(refused.value)
    assert f'guild {GUILD} has councils "Совет" (id 1) and "совет" (id 3)' in message
    assert "UPDATE councils SET name = name || ' 2' WHERE id = 3" in message
    assert "nothing was written" in message
    async with Store.open(target) as untouched:
        assert await untouched.councils(GUILD) == []


@pytest.mark.parametrize(
    ("table", "bad_row", "detail"),
    [
        # An orphan row, left while foreign keys were off, breaks the target's foreign key.
        (
            "votes",
            "INSERT INTO votes VALUES (404, 7, 'up', '2025-01-31T12:00:00+00:00')",
            r"\(reply_id\)=\(404\) is not present",
        ),
        # SQLite keeps text in an INTEGER column; no PostgreSQL bigint takes it.
        (
            "sessions",
            "UPDATE sessions SET guild_id = 'five'",
            "cannot be interpreted as an integer",
        ),
    ],
    ids=["orphan", "text-in-a-number"],
)
async def test_a_row_postgresql_refuses_stops_the_copy_naming_its_table(
    db_path, target, table, bad_row, detail
):
    await _session(db_path)
    _sql(db_path, bad_row)

    with pytest.raises(CopyError, match=rf"PostgreSQL refused a row of table {table} \(.*{detail}"):
        await copy_sqlite_to_postgres(db_path, target)

    async with Store.open(target) as untouched:
        assert await untouched.count_sessions() == 0
