"""This process's hold on the councils it runs: leases in the shared store, taken and renewed.

A council runs in exactly one process. The process that starts or resumes it takes its lease
(`CouncilLeases.take`), renews it every third of the time to live while the council runs
(`keep`), and gives it up when the council stops running here (`release`). A process that
dies leaves its leases to expire; another process takes one over only then. Discord-free.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import secrets
import socket
from datetime import UTC, datetime
from pathlib import Path

from bot.store.store import Store

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 30.0
# A lease seen expiring is tried again this long after, so clocks a little apart still agree.
EXPIRY_MARGIN_S = 0.1
# An owner id's fields: host, pid, pid namespace, random.
OWNER_PARTS = 4
UNKNOWN_NAMESPACE = "-"


def new_owner_id() -> str:
    """This process's lease owner id: ``host:pid:namespace:random``. The namespace (see
    `pid_namespace`) says where the pid means this process; the random part tells a restarted
    process from the one before it that had the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{pid_namespace()}:{secrets.token_hex(4)}"


def pid_namespace() -> str:
    """The pid namespace this process runs in, as ``boot-id.inode`` (Linux): two processes with
    equal ones see the same process behind a pid. ``-`` where it can't be told.

    Neither the host name nor the pid alone will do: containers may share a host name (host
    networking, an explicit hostname) while each has pids of its own, often each a pid 1. The
    inode names a namespace among those alive on one kernel; the boot id names the kernel.
    """
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        inode = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        return UNKNOWN_NAMESPACE
    return f"{boot}.{inode}" if boot and ":" not in boot else UNKNOWN_NAMESPACE


def is_gone_here(owner: str, me: str) -> bool:
    """Whether `owner` was a process that no longer runs, judged by `me` (this process's id),
    so its leases need not be waited out.

    Only an owner on this host in this pid namespace can be judged: it is gone if its pid is
    gone, or is ours under another owner id (a previous life of this process, e.g. one that
    exec'd itself: no two live processes share a pid in one namespace). Any other owner (on
    another host, in another container, or one whose namespace is unknown) is never judged
    gone; its lease is waited out.
    """
    if owner == me:
        return False
    theirs, ours = owner.split(":"), me.split(":")
    if len(theirs) != len(ours) or len(ours) != OWNER_PARTS:
        return False
    (host, pid_text, namespace, _), (my_host, my_pid, my_namespace, _) = theirs, ours
    if host != my_host or namespace != my_namespace or namespace == UNKNOWN_NAMESPACE:
        return False
    if not pid_text.isdigit():
        return False
    if pid_text == my_pid:
        return True
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


class CouncilLeases:
    """Takes, renews and releases this process's council leases in the store."""

    def __init__(self, store: Store, *, ttl_s: float = DEFAULT_TTL_S, owner: str = "") -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.owner = owner or new_owner_id()

    @property
    def renew_every_s(self) -> float:
        """How often a held lease is renewed: three chances before it would expire."""
        return self.ttl_s / 3

    async def take(self, session_id: int) -> bool:
        """Hold the council's lease if no live process does; return whether we hold it."""
        if await self.store.take_lease(session_id, self.owner, self.ttl_s):
            return True
        lease = await self.store.lease(session_id)
        if lease is None or not is_gone_here(lease.owner, self.owner):
            return False
        # The holder died on this host: its lease would only be waited out for nothing.
        log.info(
            "council %d: taking over the lease of %s, which has exited", session_id, lease.owner
        )
        await self.store.release_lease(session_id, lease.owner)
        return await self.store.take_lease(session_id, self.owner, self.ttl_s)

    async def wait_for(self, session_id: int) -> bool:
        """`take`, waiting for a lease held by another process to expire; False if its holder
        renewed it meanwhile (it is alive and runs the council)."""
        seen = None
        while not await self.take(session_id):
            lease = await self.store.lease(session_id)
            if lease is None:
                continue  # released between our two looks
            if seen is not None and lease.expires_at > seen:
                return False
            seen = lease.expires_at
            left_s = (lease.expires_at - datetime.now(UTC)).total_seconds()
            await asyncio.sleep(min(max(left_s, 0.0), self.ttl_s) + EXPIRY_MARGIN_S)
        return True

    async def keep(self, session_id: int) -> None:
        """Renew the lease every `renew_every_s` for as long as the council runs here; return
        only if another process has taken it over (this process stalled past its expiry)."""
        # Councils started together would renew together, every interval: hundreds of writes
        # in one moment, which the event loop feels. The first renewal comes at a random point
        # of the interval, so they spread out; each lease is still renewed at least as often.
        wait = random.uniform(0, self.renew_every_s)  # noqa: S311  (spreading, not secrets)
        while True:
            await asyncio.sleep(wait)
            wait = self.renew_every_s
            try:
                if not await self.store.take_lease(session_id, self.owner, self.ttl_s):
                    return
            except Exception:
                # The store may answer next time; the lease lasts two more renewals.
                log.warning("council %d: could not renew its lease", session_id, exc_info=True)

    async def release(self, session_id: int) -> None:
        """Give the lease up (the council stopped running here)."""
        try:
            await self.store.release_lease(session_id, self.owner)
        except Exception:
            # It expires by itself; the next process waits at most its time to live.
            log.warning("council %d: could not release its lease", session_id, exc_info=True)
