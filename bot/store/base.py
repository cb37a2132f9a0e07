"""What the store's per-concern method groups share: the database, the clock, common loaders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from bot.council.models import Reply, Session, utcnow
from bot.store import rows
from bot.store.db import Database, Transaction
from bot.store.errors import RecordNotFoundError


class StoreBase:
    """The state behind every `Store` method; see `bot.store.store.Store`."""

    def __init__(self, db: Database, *, now: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._now = now

    def _stamp(self) -> str:
        """Now, encoded for a time column."""
        return rows.to_db_time(self._now())


async def load_session(tx: Transaction, session_id: int) -> Session:
    """The session with this id, read inside `tx`.

    Raises:
        RecordNotFoundError: there is none.
    """
    row = await tx.one("SELECT * FROM sessions WHERE id = ?", (session_id,))
    if row is None:
        raise RecordNotFoundError("session", session_id)
    return rows.session_from_row(row)


async def find_reply(tx: Transaction, reply_id: int) -> Reply | None:
    """The reply with this id and its message ids, read inside `tx`, if any."""
    row = await tx.one("SELECT * FROM replies WHERE id = ?", (reply_id,))
    if row is None:
        return None
    messages = await tx.all(
        "SELECT message_id FROM reply_messages WHERE reply_id = ? ORDER BY position", (reply_id,)
    )
    return rows.reply_from_row(row, (m["message_id"] for m in messages))


async def load_reply(tx: Transaction, reply_id: int) -> Reply:
    """`find_reply` for a reply that must exist.

    Raises:
        RecordNotFoundError: there is none.
    """
    reply = await find_reply(tx, reply_id)
    if reply is None:
        raise RecordNotFoundError("reply", reply_id)
    return reply
