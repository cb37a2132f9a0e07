"""Fixtures for the store tests: a real SQLite file in tmp_path and a clock the test controls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store
from tests.records import Make

START = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


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


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(db_path: Path, clock: Clock) -> AsyncIterator[Store]:
    async with Store.open(db_path, now=clock) as opened:
        yield opened


@pytest.fixture
def make(store: Store) -> Make:
    return Make(store)
