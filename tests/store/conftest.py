"""Fixtures for the store tests: a real SQLite file in tmp_path and a clock the test controls."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.council.models import Member, NewReply, NewSession, Reply, Session
from bot.store import Store

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


class Make:
    """Builders for records with sensible defaults; keyword arguments override any field."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on(self, other: Store) -> Make:
        """The same builders writing through another Store."""
        return Make(other)

    async def session(self, **fields: object) -> Session:
        values: dict[str, object] = {"topic": "Is a hot dog a sandwich?", "guild_id": 1}
        values.update(fields)
        return await self.store.create_session(NewSession.model_validate(values))

    async def reply(self, session_id: int, **fields: object) -> Reply:
        values: dict[str, object] = {
            "session_id": session_id,
            "round_number": 1,
            "persona": "Claude",
            "text": "It is a taco.",
        }
        values.update(fields)
        return await self.store.add_reply(NewReply.model_validate(values))

    @staticmethod
    def member(session_id: int, position: int, persona: str, **fields: object) -> Member:
        values: dict[str, object] = {
            "session_id": session_id,
            "position": position,
            "persona": persona,
            "model_key": persona.lower(),
            "model": f"{persona.lower()}-large",
            "provider": "fake",
        }
        values.update(fields)
        return Member.model_validate(values)


@pytest.fixture
def make(store: Store) -> Make:
    return Make(store)
