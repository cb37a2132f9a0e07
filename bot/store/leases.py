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
from bot.store.db import PerDialect
from bot.store.sessions import INTERRUPTED_REASON

log = logging.getLogger(__name__)

# The server's clock now, encoded as `rows.to_db_time` encodes times (fixed-width UTC ISO text,
# so that text comparison is time order).
_PG_UTC_NOW = "(clock_timestamp() AT TIME ZONE 'UTC')"
_PG_TEXT = '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\''
_TAKE_LEASE_SQL = (
    "INSERT INTO council_leases (session_id, owner, expires_at) VALUES (:session_id, :owner, {})"
    " ON CONFLICT (session_id) DO UPDATE"
    " SET owner = excluded.owner, expires_at = excluded.expires_at"
    " WHERE council_leases.owner = excluded.owner"
    " OR council_leases.expires_at < {}"
)
_TAKE_LEASE = PerDialect(
    sqlite=_TAKE_LEASE_SQL.format(":expires", ":now"),
    postgresql=_TAKE_LEASE_SQL.format(
        f"to_char({_PG_UTC_NOW} + make_interval(secs => :ttl_s), {_PG_TEXT})",
        f"to_char({_PG_UTC_NOW}, {_PG_TEXT})",
    ),
)


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
        On PostgreSQL "now" is the database server's clock, not this process's: processes on
        hosts whose clocks differ still agree on when a lease expires. (SQLite's processes all
        run on the machine that holds the file, and share its clock.)
        """
        now = self._now()
        async with self._db.writing() as tx:
            await tx.run(
                _TAKE_LEASE,
                {
                    "session_id": session_id,
                    "owner": owner,
                    "ttl_s": float(ttl_s),
                    "expires": rows.to_db_time(now + timedelta(seconds=ttl_s)),
                    "now": rows.to_db_time(now),
                },
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
