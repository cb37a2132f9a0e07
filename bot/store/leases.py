"""Store methods for council leases: which process runs a council, until when.

Several bot processes may share one store (one per range of shards). The process running a
council holds its lease and renews it well before it expires; another process may take a lease
over only once it has expired, so a council never runs in two processes at once, and one left by
a process that died is taken over after at most the lease's time to live.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.council.models import Session, SessionStatus
from bot.i18n import localize
from bot.store import rows
from bot.store.base import StoreBase, load_session
from bot.store.sessions import INTERRUPTED_REASON

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Lease:
    """Who runs a council (`owner`, a process's id) and until when, unless renewed."""

    session_id: int
    owner: str
    expires_at: datetime


class LeaseQueries(StoreBase):
    """Council leases, and the running councils they guard."""

    async def take_lease(self, session_id: int, owner: str, ttl_s: float) -> bool:
        """Hold the council's lease for `ttl_s` seconds from now, if it is free, expired or
        already `owner`'s (which renews it); return whether `owner` holds it now.

        One statement decides, so two processes taking the same lease at once can't both win.
        """
        now = self._now()
        expires = rows.to_db_time(now + timedelta(seconds=ttl_s))
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO council_leases (session_id, owner, expires_at) VALUES (?, ?, ?)"
                " ON CONFLICT (session_id) DO UPDATE"
                " SET owner = excluded.owner, expires_at = excluded.expires_at"
                " WHERE council_leases.owner = excluded.owner"
                " OR council_leases.expires_at < ?",
                (session_id, owner, expires, rows.to_db_time(now)),
            )
            row = await tx.one(
                "SELECT owner FROM council_leases WHERE session_id = ?", (session_id,)
            )
        return row is not None and row["owner"] == owner

    async def release_lease(self, session_id: int, owner: str) -> None:
        """Give the council's lease up, if `owner` holds it (a lease taken over stays)."""
        async with self._db.writing() as tx:
            await tx.run(
                "DELETE FROM council_leases WHERE session_id = ? AND owner = ?",
                (session_id, owner),
            )

    async def lease(self, session_id: int) -> Lease | None:
        """The council's lease, expired or not; None if no process holds one."""
        async with self._db.reading() as tx:
            row = await tx.one(
                "SELECT session_id, owner, expires_at FROM council_leases WHERE session_id = ?",
                (session_id,),
            )
        if row is None:
            return None
        return Lease(row["session_id"], row["owner"], rows.from_db_time(row["expires_at"]))

    async def running_sessions(self) -> list[Session]:
        """Every council stored as running, oldest first, wherever it runs (or ran)."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT id FROM sessions WHERE status = ? ORDER BY id", (SessionStatus.RUNNING,)
            )
            return [await load_session(tx, row["id"]) for row in found]

    async def mark_session_interrupted(self, session_id: int) -> Session | None:
        """Pause the council as interrupted, if it is still stored as running (its process is
        gone); return it paused, or None if it was not running."""
        async with self._db.writing() as tx:
            session = await load_session(tx, session_id)
            if session.status is not SessionStatus.RUNNING:
                return None
            await tx.run(
                "UPDATE sessions SET status = ?, stop_reason = ? WHERE id = ? AND status = ?",
                (
                    SessionStatus.PAUSED,
                    localize(INTERRUPTED_REASON, session.locale),
                    session_id,
                    SessionStatus.RUNNING,
                ),
            )
            return await load_session(tx, session_id)
