"""Fixtures for the store tests: a real database and a clock the test controls.

Every test that takes `store` (or `location`) runs twice: on a SQLite file in tmp_path, and on
a fresh database of the session's PostgreSQL server (skipped, with the reason, where there is
none). Tests of SQLite's own file handling take `db_path` alone and run once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.store import Dialect, Store
from bot.store.placeholders import numbered
from tests.records import Make

START = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)

RawSql = Callable[..., Awaitable[list[tuple[Any, ...]]]]


class Clock:
    """A clock that moves one second forward each time it is read, so every stamp differs."""

    def __init__(self, start: datetime = START) -> None:
        self.current = start

    def __call__(self) -> datetime:
        self.current += timedelta(seconds=1)
        return self.current


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    # A sub-folder that does not exist yet: opening must create it.
    return tmp_path / "data" / "council.db"


@pytest.fixture(params=list(Dialect), ids=[d.value for d in Dialect])
def dialect(request: pytest.FixtureRequest) -> Dialect:
    return Dialect(request.param)


@pytest.fixture
def location(dialect: Dialect, request: pytest.FixtureRequest) -> Path | str:
    """Where the test's database is: a SQLite file, or a PostgreSQL URL."""
    if dialect is Dialect.SQLITE:
        return request.getfixturevalue("db_path")
    return request.getfixturevalue("pg_url")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(location: Path | str, clock: Clock) -> AsyncIterator[Store]:
    async with Store.open(location, now=clock) as opened:
        yield opened


@pytest.fixture
def make(store: Store) -> Make:
    return Make(store)


@pytest.fixture
def raw_sql(location: Path | str) -> RawSql:
    """Run one statement (with `?` parameters) on the test's database behind the store's back;
    return its rows as tuples."""

    async def run(sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        if isinstance(location, Path):
            with closing(sqlite3.connect(location)) as conn, conn:
                return conn.execute(sql, params).fetchall()
        statement = numbered(sql)
        conn = await asyncpg.connect(location)
        try:
            found = await conn.fetch(statement.sql, *statement.arguments(params))
        finally:
            await conn.close()
        return [tuple(row) for row in found]

    return run
