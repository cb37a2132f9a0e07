"""The Store: every read and write of Council's data, as methods named for the domain.

Open it once in `__main__` and hand it to whoever needs it::

    async with Store.open(settings.store_location) as store:
        session = await store.create_session(NewSession(topic="Is P = NP?"))

The methods are grouped by concern in sibling modules (`sessions`, `replies`, `audience`,
`guilds`); `Store` assembles them and owns opening and closing. They return the models of
`bot.council.models`, never rows. Changing a record that does not exist raises
`RecordNotFoundError`; inserting a child of a missing parent (a reply for an unknown session)
breaks a foreign key and raises `ConstraintError`. The database is a SQLite file (the embedded
default) or a PostgreSQL server that several bot processes share; see `bot.store.db` and
`bot.store.postgres` for how concurrent callers are serialized on each.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Self

from bot.council.models import SessionRecord, utcnow
from bot.database_url import is_postgres_url, redact
from bot.store import pg_claims, postgres
from bot.store.audience import AudienceQueries
from bot.store.challenges import ChallengeQueries
from bot.store.councils import CouncilQueries
from bot.store.db import (
    DEFAULT_BUSY_TIMEOUT_S,
    Dialect,
    SqliteDatabase,
    connect,
    connect_read_only,
    connect_reader,
    enforce_foreign_keys,
)
from bot.store.errors import RecordNotFoundError, SchemaTooNewError, SchemaTooOldError
from bot.store.guilds import GuildQueries
from bot.store.leases import LeaseQueries
from bot.store.member_questions import MemberQuestionQueries
from bot.store.migrate import Migration, bundled_migrations, migrate, schema_version
from bot.store.moderation import ModerationQueries
from bot.store.oversight import OversightQueries
from bot.store.replies import ReplyQueries
from bot.store.sessions import SessionQueries
from bot.store.stances import StanceQueries
from bot.store.stats import StatsQueries

log = logging.getLogger(__name__)


class Store(
    SessionQueries,
    ReplyQueries,
    AudienceQueries,
    GuildQueries,
    StatsQueries,
    StanceQueries,
    CouncilQueries,
    OversightQueries,
    ModerationQueries,
    MemberQuestionQueries,
    ChallengeQueries,
    LeaseQueries,
):
    """Council's database. Create it with `Store.open`."""

    @property
    def dialect(self) -> Dialect:
        """The SQL the database speaks: SQLite's or PostgreSQL's."""
        return self._db.dialect

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        location: Path | str,
        *,
        migrations: Sequence[Migration] | None = None,
        busy_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
        now: Callable[[], datetime] = utcnow,
    ) -> AsyncIterator[Self]:
        """Open (creating if needed) and migrate the database at `location`; close it on exit.

        Args:
            location: A `postgresql://` URL, or the SQLite file (its folder is created if
                missing).
            migrations: The schema steps to apply (in the database's dialect); the bundled ones
                unless a test says otherwise.
            busy_timeout_s: How long a write waits while another process writes the same file
                (on PostgreSQL: the same database) before it fails.
            now: The clock for every timestamp the store sets; must return aware datetimes.

        Raises:
            SchemaTooNewError: the database was written by a newer Council; it is left untouched.
            MigrationError: a migration failed and was rolled back.
            OSError, asyncpg.PostgresError, ValueError: the PostgreSQL server can't be reached,
                refuses the connection, or the URL is malformed.
        """
        if is_postgres_url(location):
            async with cls._open_postgres(
                str(location), migrations=migrations, now=now, lock_timeout_s=busy_timeout_s
            ) as store:
                yield store
            return
        path = Path(location)
        steps = bundled_migrations() if migrations is None else migrations
        conn = await connect(path, busy_timeout_s=busy_timeout_s)
        try:
            version = await migrate(conn, steps, path=str(path))
            await enforce_foreign_keys(conn)
            log.debug("opened store %s at schema version %d", path, version)
            reader = await connect_reader(path, busy_timeout_s=busy_timeout_s)
            try:
                yield cls(SqliteDatabase(conn, reader), now=now)
            finally:
                await reader.close()
        finally:
            await conn.close()

    @classmethod
    @asynccontextmanager
    async def _open_postgres(
        cls,
        url: str,
        *,
        migrations: Sequence[Migration] | None,
        now: Callable[[], datetime],
        read_only: bool = False,
        lock_timeout_s: float = DEFAULT_BUSY_TIMEOUT_S,
    ) -> AsyncIterator[Self]:
        steps = bundled_migrations(Dialect.POSTGRESQL) if migrations is None else migrations
        label = redact(url)
        pool = await postgres.open_pool(url, read_only=read_only, lock_timeout_s=lock_timeout_s)
        try:
            if read_only:
                async with pool.acquire() as conn:
                    version = await postgres.schema_version(conn)
                _check_current(label, version, len(steps))
            else:
                version = await postgres.migrate(pool, steps, label=label)
            log.debug("opened store %s at schema version %d", label, version)
            yield cls(postgres.PgDatabase(pool), now=now)
        finally:
            await pool.close()

    @classmethod
    @asynccontextmanager
    async def open_read_only(
        cls, location: Path | str, *, migrations: Sequence[Migration] | None = None
    ) -> AsyncIterator[Self]:
        """Open an existing, current database for reading only; close it on exit.

        For tools that look while the bot may be running: the database is never created or
        migrated, and any write through the store fails.

        Raises:
            sqlite3.OperationalError: there is no file at `path`, or it can't be read.
            sqlite3.DatabaseError: the file is not a SQLite database.
            SchemaTooOldError: the file needs migrations this Council would apply on `open`.
            SchemaTooNewError: the file was written by a newer Council.
            OSError, asyncpg.PostgresError, ValueError: as for `open`, on PostgreSQL.
        """
        if is_postgres_url(location):
            async with cls._open_postgres(
                str(location), migrations=migrations, now=utcnow, read_only=True
            ) as store:
                yield store
            return
        path = Path(location)
        known = len(bundled_migrations() if migrations is None else migrations)
        conn = await connect_read_only(path)
        try:
            _check_current(str(path), await schema_version(conn), known)
            yield cls(SqliteDatabase(conn))
        finally:
            await conn.close()

    @asynccontextmanager
    async def claim_shards(
        self,
        shard_ids: Sequence[int] | None,
        shard_count: int | None,
        timing: pg_claims.ClaimTiming = pg_claims.DEFAULT_TIMING,
    ) -> AsyncIterator[None]:
        """Hold, while the block runs, this process's claim to run shards `shard_ids` of
        `shard_count` (None: the whole bot, unsharded) on a PostgreSQL database, which several
        processes share: each shard is run by one process, all with one shard count, and an
        unsharded process runs alone. A process that dies lets its claim go. A claim whose
        connection is lost is taken again (as `timing` says); if it can't be, the block is
        cancelled and `ClaimLostError` raised.

        On SQLite this holds nothing: lock files beside the database, taken before it is
        opened, do the same (`bot.databases.run_lock`).

        Raises:
            ShardsTakenError: another process runs one of the shards, or the bot with another
                shard count, or unsharded; or this one is unsharded and another runs.
            ClaimLostError: the claim was lost while the block ran, and another process took
                part of it, or the database stayed out of reach.
        """
        if not isinstance(self._db, postgres.PgDatabase):
            yield
            return
        async with pg_claims.claim_shards(self._db, shard_ids, shard_count, timing):
            yield

    async def session_record(self, session_id: int) -> SessionRecord:
        """Everything stored about a session, for transcripts, summaries and exports.

        Raises:
            RecordNotFoundError: no such session.
        """
        session = await self.get_session(session_id)
        if session is None:
            raise RecordNotFoundError("session", session_id)
        return SessionRecord(
            session=session,
            members=tuple(await self.members(session_id)),
            rounds=tuple(await self.rounds(session_id)),
            replies=tuple(await self.replies(session_id)),
            questions=tuple(await self.questions(session_id)),
            votes=await self.vote_counts(session_id),
            stances=tuple(await self.stances(session_id)),
            member_questions=tuple(await self.member_questions(session_id)),
        )


def _check_current(label: str, version: int, known: int) -> None:
    """Refuse, for a read-only look, a database at another schema version than this code's."""
    if version > known:
        raise SchemaTooNewError(label, version, known)
    if version < known:
        raise SchemaTooOldError(label, version, known)
