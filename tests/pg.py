"""A throwaway PostgreSQL server for the tests: one per test session, a fresh database per test.

The server runs from Debian's binaries (PATH, then /usr/lib/postgresql/*/bin) in a temporary
folder, on a free port of 127.0.0.1 with its socket in that folder, with durability off (the
data dies with the session anyway). PostgreSQL refuses to run as root, so under root (as in CI)
initdb and pg_ctl run as the `postgres` user the Debian package creates.

Tests run one at a time, so they share one migrated database, emptied before each: much
quicker than creating (or copying) a database per test. Migration tests get empty databases
of their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from bot.store import Store
from tests.ports import free_port

USER = "council"
SHARED = "council_test"


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl, or None when PostgreSQL is not installed."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


@dataclass
class PgServer:
    """A running server; `url(name)` addresses one of its databases."""

    port: int
    home: Path
    bin: Path
    run_as: str | None
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"

    async def emptied(self) -> str:
        """The URL of the session's migrated database, emptied of every row (ids restart at 1)."""
        conn = await asyncpg.connect(self.url(SHARED))
        try:
            tables = await conn.fetchval(
                "SELECT string_agg(quote_ident(tablename), ', ') FROM pg_tables"
                " WHERE schemaname = 'public' AND tablename <> 'schema_version'"
            )
            await conn.execute(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        finally:
            await conn.close()
        return self.url(SHARED)

    @contextlib.asynccontextmanager
    async def empty_database(self) -> AsyncIterator[str]:
        """A new database with no schema at all (for migration tests); yields its URL."""
        name = f"empty_{os.getpid()}_{next(self._names)}"
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        finally:
            await admin.close()
        try:
            yield self.url(name)
        finally:
            admin = await asyncpg.connect(self.url())
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await admin.close()

    def _command(self, *args: str) -> list[str]:
        if self.run_as is None:
            return list(args)
        return ["runuser", "-u", self.run_as, "--", *args]

    def start(self) -> None:
        data = self.home / "data"
        self._run(
            str(self.bin / "initdb"),
            "-D",
            str(data),
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.home} -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(data),
            "-o",
            options,
            "-l",
            str(self.home / "server.log"),
            "-w",
            "start",
        )
        asyncio.run(self._make_shared())

    def stop(self) -> None:
        data = str(self.home / "data")
        self._run(str(self.bin / "pg_ctl"), "-D", data, "-m", "immediate", "stop")

    def _run(self, *args: str) -> None:
        done = subprocess.run(  # noqa: PLW1510
            self._command(*args), capture_output=True, text=True, cwd=self.home
        )
        if done.returncode != 0:
            log = self.home / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {done.stderr or done.stdout}\n{tail}")

    async def _make_shared(self) -> None:
        admin = await asyncpg.connect(self.url())
        try:
            await admin.execute(f"CREATE DATABASE {SHARED}")
        finally:
            await admin.close()
        async with Store.open(self.url(SHARED)):
            pass


def _runner() -> tuple[str | None, str | None]:
    """Whom to run the server as (None: this user), or why it can't run."""
    if os.geteuid() != 0:
        return None, None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None, "running as root, and there is no `postgres` user to run PostgreSQL as"
    return "postgres", None


@contextlib.contextmanager
def pg_server() -> Iterator[PgServer | str]:
    """A started server, or the reason none could be started (for a skip)."""
    binaries = find_binaries()
    if binaries is None:
        yield (
            "PostgreSQL is not installed (no initdb/pg_ctl on PATH or in "
            "/usr/lib/postgresql/*/bin): apt-get install postgresql"
        )
        return
    run_as, why_not = _runner()
    if why_not is not None:
        yield why_not
        return
    home = Path(tempfile.mkdtemp(prefix="council-pg-"))
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(home, entry.pw_uid, entry.pw_gid)
    server = PgServer(port=free_port(), home=home, bin=binaries, run_as=run_as)
    try:
        server.start()
    except (OSError, RuntimeError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        yield f"could not start PostgreSQL: {exc}"
        return
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


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
