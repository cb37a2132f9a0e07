"""Opening the operator's database from the command line.

Every way `COUNCIL_DB` can't be opened (a folder, a file that is not a database, a folder
the bot may not write, an older or newer schema) becomes one `UserFacingError` line saying
what to do. Read-only commands never create, migrate or change the file; `council-bot run`
holds a lock beside it so that a second `run` on the same file is refused.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from pathlib import Path

from bot.errors import UserFacingError
from bot.shards import ShardPlan
from bot.store.errors import MigrationError, SchemaTooOldError
from bot.store.store import Store


@asynccontextmanager
async def open_store(db: Path) -> AsyncIterator[Store]:
    """`Store.open` (creating and migrating the file as needed), failing in one line.

    Raises:
        UserFacingError: the database can't be created, opened or upgraded.
    """
    async with AsyncExitStack() as stack:
        try:
            store = await stack.enter_async_context(Store.open(db))
        except (OSError, sqlite3.Error, MigrationError) as exc:
            raise _cant_open(db, exc) from exc
        yield store


@asynccontextmanager
async def open_existing_store(db: Path) -> AsyncIterator[Store]:
    """`open_store` for commands that write beside a running bot (`council-bot halt`): the
    database must already exist, since a new empty one would only mean COUNCIL_DB is wrong.

    Raises:
        UserFacingError: there is no database at `db`, or it can't be opened or upgraded.
    """
    if await asyncio.to_thread(db.is_dir):
        raise _folder(db)
    if not await asyncio.to_thread(db.is_file):
        raise UserFacingError(f"There is no database at {db}: set COUNCIL_DB to Council's.")
    async with open_store(db) as store:
        yield store


@asynccontextmanager
async def open_store_read_only(db: Path) -> AsyncIterator[Store]:
    """`Store.open_read_only`: the file is never created, migrated or written.

    Raises:
        UserFacingError: there is no database at `db`, it is not Council's, its schema is
            older or newer than this Council's, or it can't be read (also while reading).
    """
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
def run_lock(db: Path, shards: ShardPlan | None = None) -> Iterator[None]:
    """Hold `DB.lock` while the bot runs: two bots on one database would each think the
    other's councils were interrupted, and both would answer every command.

    A process running some shards (`council-bot run --shards`) shares `DB.lock` with the other
    shard processes and holds `DB.shard-N.lock` for each of its shards alone. So processes with
    disjoint shards run side by side on one SQLite file (their councils kept apart by the
    leases in the store), while two processes claiming one shard, or an unsharded `run` beside
    any shard process, are refused: both would answer that shard's commands.

    Raises:
        UserFacingError: another process holds the lock, or it can't be created.
    """
    if db.is_dir():
        raise _folder(db)
    with ExitStack() as held:
        if shards is None:
            held.enter_context(_locked(db, db.with_name(f"{db.name}.lock"), exclusive=True))
        else:
            held.enter_context(_locked(db, db.with_name(f"{db.name}.lock"), exclusive=False))
            for shard in shards.ids:
                lock = db.with_name(f"{db.name}.shard-{shard}.lock")
                held.enter_context(_locked(db, lock, exclusive=True, shard=shard))
        yield


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
            if shard is not None:
                raise UserFacingError(
                    f"Another `council-bot run`{by} runs shard {shard} on the database {db}: "
                    "give each process shards of its own (--shards)."
                ) from None
            raise UserFacingError(
                f"Another `council-bot run`{by} is using the database {db}: stop it first, "
                "or set COUNCIL_DB to another file."
            ) from None
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
