"""Opening the operator's database from the command line.

Every way `COUNCIL_DB` can't be opened (a folder, a file that is not a database, an older or
newer schema) becomes one `UserFacingError` line saying what to do. Read-only commands never
create, migrate or change the file.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from bot.errors import UserFacingError
from bot.store.errors import SchemaTooOldError
from bot.store.store import Store


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


def _folder(db: Path) -> UserFacingError:
    return UserFacingError(
        f"COUNCIL_DB is a folder ({db}): set it to a database file, e.g. {db / 'council.db'}."
    )
