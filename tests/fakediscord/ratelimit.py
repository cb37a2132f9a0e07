"""Rate-limit buckets with Discord's headers, and injected faults (forced 429s and 5xx, held
requests).

Discord documents the global limit (50 requests per second per bot) but not per-route numbers,
so each bucket's limit and window are configurable; the defaults are close to what Discord
answers in practice.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fakediscord.server import WireEntry


@dataclass
class BucketLimit:
    """How many requests a bucket allows per window."""

    limit: int
    window_s: float


# Bucket names as used by the route table; per-bucket counters are kept per major parameter.
DEFAULT_LIMITS: dict[str, BucketLimit] = {
    "global": BucketLimit(50, 1.0),
    "channel_messages": BucketLimit(5, 5.0),
    "message_edit": BucketLimit(5, 5.0),
    "webhook": BucketLimit(5, 2.0),
    "webhook_admin": BucketLimit(30, 60.0),
    "threads": BucketLimit(10, 10.0),
    "commands": BucketLimit(10, 20.0),
    "interaction": BucketLimit(1000, 1.0),
    "default": BucketLimit(50, 1.0),
}


@dataclass
class Arrival:
    """One request counted against a window: when it arrived, whether it was let through, the
    `X-RateLimit-Remaining` it was answered with, and (once answered) its wire-log entry."""

    at_s: float
    allowed: bool
    remaining: int
    entry: WireEntry | None = None


@dataclass
class WindowLog:
    """One rate window of one bucket (per major parameter) as the fake counted it.

    Times are `time.monotonic()`. The window opens with its first request and resets
    `window_s` later; requests past `limit` inside it were refused with a 429.
    """

    bucket: str
    major: str
    limit: int
    window_s: float
    started_s: float
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def resets_s(self) -> float:
        """When the window resets."""
        return self.started_s + self.window_s

    @property
    def admitted(self) -> list[Arrival]:
        """The requests the window let through, in arrival order."""
        return [a for a in self.arrivals if a.allowed]

    @property
    def refused(self) -> list[Arrival]:
        """The requests that arrived after the window was used up (answered 429)."""
        return [a for a in self.arrivals if not a.allowed]

    @property
    def exhausted_by(self) -> Arrival | None:
        """The request answered `X-RateLimit-Remaining: 0`, if the window was used up.

        A client that honours the headers (discord.py does) sends nothing more on the bucket
        until the reset, so whatever it has to send meanwhile is held back.
        """
        return next((a for a in self.admitted if a.remaining == 0), None)


@dataclass
class _Window:
    started: float
    count: int = 0
    log: WindowLog | None = None


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may proceed, and the headers to send with its answer."""

    allowed: bool
    headers: dict[str, str]
    retry_after_s: float = 0.0
    is_global: bool = False
    # The request as its route bucket's window recorded it (None for the global check).
    arrival: Arrival | None = None


class RateLimiter:
    """Fixed-window counters per (bucket, major parameter), plus the global per-token window."""

    def __init__(self, limits: dict[str, BucketLimit] | None = None) -> None:
        self.limits: dict[str, BucketLimit] = dict(DEFAULT_LIMITS)
        self.limits.update(limits or {})
        self._windows: dict[tuple[str, str], _Window] = {}
        self._history: list[WindowLog] = []

    def set_limit(self, bucket: str, limit: int, window_s: float) -> None:
        """Change a bucket's limit (tests use this to make limits easy to hit or to avoid)."""
        self.limits[bucket] = BucketLimit(limit, window_s)

    def _take(self, bucket: str, major: str) -> tuple[bool, BucketLimit, _Window, float]:
        limit = self.limits.get(bucket, self.limits["default"])
        now = time.monotonic()
        key = (bucket, major)
        window = self._windows.get(key)
        if window is None or now - window.started >= limit.window_s:
            window = self._windows[key] = _Window(started=now)
            if bucket != "global":
                window.log = WindowLog(bucket, major, limit.limit, limit.window_s, now)
                self._history.append(window.log)
        reset_after = max(0.0, window.started + limit.window_s - now)
        ok = window.count < limit.limit
        if ok:
            window.count += 1
        if window.log is not None:
            window.log.arrivals.append(Arrival(now, ok, max(0, limit.limit - window.count)))
        return ok, limit, window, reset_after

    def check_global(self, token: str) -> RateDecision:
        """The per-bot global limit; only a 429 carries headers for it."""
        ok, _, _, reset_after = self._take("global", token)
        if ok:
            return RateDecision(True, {})
        return RateDecision(
            False,
            {"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"},
            reset_after,
            is_global=True,
        )

    def check(self, bucket: str, major: str) -> RateDecision:
        """Count a request against its route bucket and build the `X-RateLimit-*` headers."""
        ok, limit, window, reset_after = self._take(bucket, major)
        headers = {
            "X-RateLimit-Limit": str(limit.limit),
            "X-RateLimit-Remaining": str(max(0, limit.limit - window.count)),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": hashlib.md5(bucket.encode(), usedforsecurity=False).hexdigest(),
        }
        if not ok:
            headers["X-RateLimit-Scope"] = "user"
        arrival = window.log.arrivals[-1] if window.log is not None else None
        return RateDecision(ok, headers, reset_after, arrival=arrival)

    def windows(self, bucket: str, major: str | None = None) -> list[WindowLog]:
        """Every window a bucket has opened (for one major parameter, or all), oldest first."""
        return [
            w for w in self._history if w.bucket == bucket and (major is None or w.major == major)
        ]


def too_many_requests_headers(retry_after_s: float) -> dict[str, str]:
    """Headers every 429 carries; discord.py retries only when `Via` is present."""
    return {"Retry-After": str(max(1, math.ceil(retry_after_s))), "Via": "1.1 google"}


@dataclass
class Fault:
    """An injected answer for the next `times` requests matching a method and route template."""

    method: str
    route: str
    status: int
    times: int
    retry_after_s: float = 0.0
    is_global: bool = False
    # For an error other than 429: Discord's JSON error code and message.
    code: int = 0
    message: str = "Internal Server Error"
    used: int = 0
    # Strike only this share of matching requests, drawn from `rng` (1.0: every one).
    rate: float = 1.0
    rng: random.Random | None = None
    # Strike only requests whose JSON body this accepts (e.g. a final edit with buttons).
    when: Callable[[Any], bool] | None = None

    def matches(self, method: str, route: str, body: Any = None) -> bool:
        """Whether this fault applies to a request."""
        if not (
            self.used < self.times and self.method in (method, "*") and self.route in (route, "*")
        ):
            return False
        if self.when is not None and not self.when(body):
            return False
        return self.rate >= 1.0 or (self.rng or random.Random()).random() < self.rate

    def clear(self) -> None:
        """Strike no more requests."""
        self.times = self.used


@dataclass
class Hold:
    """The next `times` requests matching a method and route template (and `when`, on the
    JSON body), left unanswered until `release()`: a Discord slow to answer them."""

    method: str
    route: str
    times: int = 1
    when: Callable[[Any], bool] | None = None
    used: int = 0
    # Set when a held request has arrived.
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    def matches(self, method: str, route: str, body: Any = None) -> bool:
        """Whether this hold applies to a request."""
        if not (self.used < self.times and self.method == method and self.route == route):
            return False
        return self.when is None or self.when(body)

    def release(self) -> None:
        """Answer the held requests, and hold no more."""
        self.times = self.used
        self.released.set()


@dataclass
class Faults:
    """Faults the test injected, consumed in order."""

    pending: list[Fault] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)

    def hold_for(self, method: str, route: str, body: Any = None) -> Hold | None:
        """The hold that keeps this request waiting, if any (and count it as used)."""
        for hold in self.holds:
            if hold.matches(method, route, body):
                hold.used += 1
                return hold
        return None

    def take(self, method: str, route: str, body: Any = None) -> Fault | None:
        """The fault to apply to this request, if any (and count it as used)."""
        for fault in self.pending:
            if fault.matches(method, route, body):
                fault.used += 1
                return fault
        return None
