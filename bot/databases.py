"""Opening the operator's database from the command line.

The database is the SQLite file `COUNCIL_DB`, or the PostgreSQL database `DATABASE_URL` when
that is set (`Settings.store_location`). Every way it can't be opened (a folder, a file that is
not a database, a folder the bot may not write, a malformed URL, a server out of reach or
refusing the login, an older or newer schema) becomes one `UserFacingError` line saying what
to do. Read-only commands never create, migrate or change the database; `council-bot run`
holds a lock beside a SQLite file, or claims its shards in a PostgreSQL database, so that a
second `run` of the same shards (or of the whole bot) is refused.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

import asyncpg

from bot.database_url import redact
from bot.errors import UserFacingError
from bot.shards import ShardPlan
from bot.store.copy import CopiedTable
from bot.store.errors import ClaimLostError, MigrationError, SchemaTooOldError, ShardsTakenError
from bot.store.pg_claims import DEFAULT_TIMING, ClaimTiming
from bot.store.postgres import peek_version
from bot.store.store import Store

Location = Path | str
"""A SQLite file, or a `postgresql://` URL."""

# What asyncpg raises for a URL it can't use: a bad port, an unknown option value.
_BAD_URL = (ValueError, OverflowError, asyncpg.InterfaceError)


@asynccontextmanager
async def open_store(db: Location) -> AsyncIterator[Store]:
    """`Store.open` (creating and migrating the database as needed), failing in one line.

    Raises:
        UserFacingError: the database can't be created, opened or upgraded.
    """
    async with AsyncExitStack() as stack:
        try:
            store = await stack.enter_async_context(Store.open(db))
        except (OSError, sqlite3.Error, MigrationError, asyncpg.PostgresError, *_BAD_URL) as exc:
            if isinstance(db, str):
                raise _cant_open_postgres(db, exc) from exc
            raise _cant_open(db, exc) from exc
        yield store


@asynccontextmanager
async def open_existing_store(db: Location) -> AsyncIterator[Store]:
    """`open_store` for commands that write beside a running bot (`council-bot halt`): the
    database must already exist, since a new empty one would only mean COUNCIL_DB (or
    DATABASE_URL) is wrong.

    Raises:
        UserFacingError: there is no database at `db`, or it can't be opened or upgraded.
    """
    if isinstance(db, str):
        if await _postgres_version(db) == 0:
            raise _no_councils_postgres(db)
        async with open_store(db) as store:
            yield store
        return
    if await asyncio.to_thread(db.is_dir):
        raise _folder(db)
    if not await asyncio.to_thread(db.is_file):
        raise UserFacingError(f"There is no database at {db}: set COUNCIL_DB to Council's.")
    async with open_store(db) as store:
        yield store


@asynccontextmanager
async def open_store_read_only(db: Location) -> AsyncIterator[Store]:
    """`Store.open_read_only`: the database is never created, migrated or written.

    Raises:
        UserFacingError: there is no database at `db`, it is not Council's, its schema is
            older or newer than this Council's, or it can't be read (also while reading).
    """
    if isinstance(db, str):
        async with _open_postgres_read_only(db) as store:
            yield store
        return
    if await asyncio.to_thread(db.is_dir):
        raise _folder(db)
    if not await asyncio.to_thread(db.is_file):
        raise UserFacingError(f"There is no database at {db}: set COUNCIL_DB to Council's.")
    try:
        async with Store.open_read_only(db) as store:
            yield store
    except SchemaTooOldError as exc:
        if exc.found == 0:
            raise UserFacingError(
                f"The database {db} holds no councils (it is empty, or not Council's): "
                "set COUNCIL_DB to Council's."
            ) from exc
        raise
    except sqlite3.Error as exc:
        raise UserFacingError(f"Can't read the database {db}: {exc}.") from exc


@contextmanager
def run_lock(db: Location, shards: ShardPlan | None = None) -> Iterator[None]:
    """Hold `DB.lock` while the bot runs: two bots on one database file would each think the
    other's councils were interrupted, and both would answer every command.

    A process running some shards (`council-bot run --shards`) shares `DB.lock` and
    `DB.count-N.lock` (N its shard count) with the other shard processes, and holds
    `DB.shard-S.lock` for each of its shards alone. So processes with disjoint shards of one
    count run side by side on one SQLite file (their councils kept apart by the leases in the
    store), while two processes claiming one shard, processes with different shard counts
    (whose shards own overlapping guilds), or an unsharded `run` beside any shard process, are
    refused: both would answer some guild's commands.

    A PostgreSQL database takes no lock here: its processes claim their shards in the
    database once it is open (`claim_shards`).

    Raises:
        UserFacingError: another process holds the lock, or it can't be created.
    """
    if isinstance(db, str):
        yield
        return

    if db.is_dir():
        raise _folder(db)
    with ExitStack() as held:
        if shards is None:
            held.enter_context(_locked(db, db.with_name(f"{db.name}.lock"), exclusive=True))
        else:
            held.enter_context(_locked(db, db.with_name(f"{db.name}.lock"), exclusive=False))
            count = db.with_name(f"{db.name}.count-{shards.count}.lock")
            held.enter_context(_locked(db, count, exclusive=False))
            _refuse_other_counts(db, shards.count)
            for shard in shards.ids:
                lock = db.with_name(f"{db.name}.shard-{shard}.lock")
                held.enter_context(_locked(db, lock, exclusive=True, shard=shard))
        yield


def _refuse_other_counts(db: Path, count: int) -> None:
    """Refuse to run beside a process holding the count lock of another shard count.

    Two processes starting at once with two counts both find the other's lock held and both
    refuse: neither runs guilds the other may run too.
    """
    import fcntl

    prefix, suffix = f"{db.name}.count-", ".lock"
    for path in db.parent.iterdir():
        other = path.name.removeprefix(prefix).removesuffix(suffix)
        if not path.name.startswith(prefix) or not other.isdigit() or int(other) == count:
            continue
        with path.open("a+", encoding="ascii") as file:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise _taken(db, "COUNCIL_DB", shard_count=int(other)) from None
            fcntl.flock(file, fcntl.LOCK_UN)


@asynccontextmanager
async def claim_shards(
    store: Store,
    db: Location,
    shards: ShardPlan | None,
    timing: ClaimTiming = DEFAULT_TIMING,
) -> AsyncIterator[None]:
    """Hold this process's shards (the whole bot if `shards` is None) in the open `store` of
    `db` while the bot runs: `run_lock`'s counterpart on PostgreSQL (nothing on SQLite). A
    claim whose connection is lost is taken again (as `timing` says) or the block is ended.

    Raises:
        UserFacingError: another process runs one of the shards, the bot with another shard
            count, or unsharded; or this one is unsharded and another process runs; or the
            claim was lost while the block ran and could not be taken again (the block was
            cancelled first).
    """
    ids, count = (None, None) if shards is None else (shards.ids, shards.count)
    try:
        async with store.claim_shards(ids, count, timing):
            yield
    except ClaimLostError as exc:
        raise _lost(redact(str(db)), exc) from exc
    except ShardsTakenError as exc:
        label = redact(str(db))
        raise _taken(label, "DATABASE_URL", shard=exc.shard, shard_count=exc.shard_count) from exc


def _lost(db: str, lost: ClaimLostError) -> UserFacingError:
    """Why the bot stopped: its claim on the database `db` was lost and not taken again."""
    if lost.is_unreachable:
        return UserFacingError(
            f"Stopped: the connection to the database {db} holding this process's shards was "
            "lost and the database stayed out of reach, so another process may run them now."
        )
    if lost.shard is not None:
        other = f"runs shard {lost.shard}"
    elif lost.shard_count is not None:
        other = f"runs the bot in {lost.shard_count} shards"
    else:
        other = "is using it"
    return UserFacingError(
        f"Stopped: the connection to the database {db} holding this process's shards was lost, "
        f"and another `council-bot run` {other} now."
    )


def _taken(
    db: Location,
    setting: str,
    *,
    by: str = "",
    shard: int | None = None,
    shard_count: int | None = None,
) -> UserFacingError:
    """Why `council-bot run` can't run beside the process (`by`) already running on `db`."""
    if shard is not None:
        return UserFacingError(
            f"Another `council-bot run`{by} runs shard {shard} on the database {db}: "
            "give each process shards of its own (--shards)."
        )
    if shard_count is not None:
        return UserFacingError(
            f"Another `council-bot run`{by} runs the bot in {shard_count} shards on the "
            f"database {db}: give every process of the bot the same --shard-count."
        )
    target = "file" if setting == "COUNCIL_DB" else "database"
    return UserFacingError(
        f"Another `council-bot run`{by} is using the database {db}: stop it first, "
        f"or set {setting} to another {target}."
    )


@contextmanager
def _locked(db: Path, lock: Path, *, exclusive: bool, shard: int | None = None) -> Iterator[None]:
    """Hold an flock on `lock`: exclusive (recording our pid in it), or shared."""
    import fcntl

    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        file = lock.open("a+", encoding="ascii")
    except OSError as exc:
        raise _cant_open(db, exc) from exc
    with file:
        try:
            fcntl.flock(file, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
        except BlockingIOError:
            file.seek(0)
            holder = file.read().strip()
            by = f" (process {holder})" if holder.isdigit() else ""
            raise _taken(db, "COUNCIL_DB", by=by, shard=shard) from None
        if exclusive:
            file.truncate(0)
            file.write(f"{os.getpid()}\n")
            file.flush()
        yield


def _folder(db: Path) -> UserFacingError:
    return UserFacingError(
        f"COUNCIL_DB is a folder ({db}): set it to a database file, e.g. {db / 'council.db'}."
    )


def _cant_open(db: Path, exc: BaseException) -> UserFacingError:
    if db.is_dir():
        return _folder(db)
    if isinstance(exc, MigrationError):
        return UserFacingError(
            f"Can't upgrade the database {db}: {exc}. Restore a backup, or set COUNCIL_DB to "
            "another file."
        )
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return UserFacingError(
            f"Can't create the database {db}: {exc.filename} is a file, not a folder. "
            "Set COUNCIL_DB to a file in a folder the bot may write."
        )
    if isinstance(exc, OSError):
        return UserFacingError(
            f"Can't create the database {db} ({exc.strerror}: {exc.filename}): set COUNCIL_DB "
            "to a file in a folder the bot may write."
        )
    if "not a database" in str(exc):
        return UserFacingError(
            f"{db} is not a SQLite database: set COUNCIL_DB to Council's, or to a new file."
        )
    return UserFacingError(
        f"Can't open the database {db} ({exc}): let the bot read and write it and its folder, "
        "or set COUNCIL_DB to another file."
    )


@asynccontextmanager
async def _open_postgres_read_only(url: str) -> AsyncIterator[Store]:
    try:
        async with Store.open_read_only(url) as store:
            yield store
    except SchemaTooOldError as exc:
        if exc.found == 0:
            raise _no_councils_postgres(url) from exc
        raise
    except (OSError, asyncpg.PostgresError, *_BAD_URL) as exc:
        raise _cant_open_postgres(url, exc) from exc


async def _postgres_version(url: str) -> int:
    try:
        return await peek_version(url)
    except (OSError, asyncpg.PostgresError, *_BAD_URL) as exc:
        raise _cant_open_postgres(url, exc) from exc


def _no_councils_postgres(url: str) -> UserFacingError:
    return UserFacingError(
        f"The database {redact(url)} holds no councils (it is empty, or not Council's): "
        "set DATABASE_URL to Council's."
    )


def _cant_open_postgres(url: str, exc: BaseException) -> UserFacingError:
    """One line for each way a PostgreSQL database can't be opened; never the password."""
    shown = redact(url)
    detail = _detail(url, exc)
    if isinstance(exc, MigrationError):
        return UserFacingError(
            f"Can't upgrade the database {shown}: {detail}. Restore a backup, or set "
            "DATABASE_URL to another database."
        )
    if isinstance(
        exc, asyncpg.InvalidPasswordError | asyncpg.InvalidAuthorizationSpecificationError
    ):
        return UserFacingError(
            f"PostgreSQL refused the login to {shown}: {detail}. Set the user and password in "
            "DATABASE_URL to a role that may use the database."
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return UserFacingError(
            f"The PostgreSQL server has no such database ({shown}): {detail}. Create it "
            "(createdb), or fix the database name in DATABASE_URL."
        )
    if isinstance(exc, _BAD_URL):
        return UserFacingError(
            f"DATABASE_URL is not a usable PostgreSQL URL ({shown}): {detail}. E.g. "
            "postgresql://council:secret@db.example.org:5432/council"
        )
    if isinstance(exc, OSError):
        return UserFacingError(
            f"Can't reach the PostgreSQL server of {shown} ({detail or type(exc).__name__}): "
            "start it, or fix the host and port in DATABASE_URL."
        )
    return UserFacingError(f"Can't open the database {shown}: {detail}.")


def _detail(url: str, exc: BaseException) -> str:
    """A driver's message as part of one line: it may quote the URL, password included, run
    over several lines, or end in the period the line adds."""
    return " ".join(str(exc).replace(url, redact(url)).split()).rstrip(".")


async def migrate_store(source: Path, target: str) -> list[CopiedTable]:
    """Copy the SQLite installation at `source` into the empty PostgreSQL database `target`,
    migrating the target to this Council's schema first; return each table's counts.

    Raises:
        UserFacingError: either database can't be opened, the source's schema is not this
            Council's, the target holds data already, PostgreSQL refused some of the data
            (naming the table), or the copy did not add up.
    """
    from bot.store.copy import CopyError, copy_sqlite_to_postgres

    if not await asyncio.to_thread(source.is_file):
        # Said here rather than by open_store_read_only, whose advice is about COUNCIL_DB.
        raise UserFacingError(
            f"There is no SQLite database at {source}: give --from the file of the "
            "installation to copy, as sqlite:///path/to/council.db."
        )
    async with open_store_read_only(source), open_store(target):
        pass
    try:
        return await copy_sqlite_to_postgres(source, target)
    except CopyError as exc:
        raise UserFacingError(f"Can't copy {source} into {redact(target)}: {exc}.") from exc
    except sqlite3.Error as exc:
        raise UserFacingError(f"Can't read the database {source}: {exc}.") from exc
    except asyncpg.PostgresError as exc:
        # Both databases opened a moment ago: PostgreSQL refused the copy itself.
        raise UserFacingError(
            f"The copy of {source} into {redact(target)} failed ({_detail(target, exc)}); "
            "nothing was written to it."
        ) from exc
    except (OSError, *_BAD_URL) as exc:
        raise _cant_open_postgres(target, exc) from exc
