"""The PostgreSQL fixtures: one throwaway server per test session, a fresh database per test.

Tests run one at a time, so they share one migrated database, emptied before each: much
quicker than creating (or copying) a database per test. Migration tests get empty databases
of their own (`PgServer.empty_database`). The server itself is `tests.pgserver`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.pgserver import PgServer, pg_server

__all__ = ["PgServer", "pg", "pg_or_reason", "pg_url"]


@pytest.fixture(scope="session")
def pg_or_reason() -> Iterator[PgServer | str]:
    with pg_server() as server:
        yield server


@pytest.fixture
def pg(pg_or_reason: PgServer | str) -> PgServer:
    """The session's PostgreSQL server; the test is skipped where there can be none."""
    if isinstance(pg_or_reason, str):
        pytest.skip(pg_or_reason)
    return pg_or_reason


@pytest.fixture
async def pg_url(pg: PgServer) -> str:
    """The URL of a database holding the current schema and no rows, for this test only."""
    return await pg.emptied()
