"""Rate-limit buckets with Discord's headers, and injected faults (forced 429s and 5xx).

Discord documents the global limit (50 requests per second per bot) but not per-route numbers,
so each bucket's limit and window are configurable; the defaults are close to what Discord
answers in practice.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


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
class _Window:
    started: float
    count: int = 0


@dataclass(frozen=True)
class RateDecision:
    """Whether a request may proceed, and the headers to send with its answer."""

    allowed: bool
    headers: dict[str, str]
    retry_after_s: float = 0.0
    is_global: bool = False


class RateLimiter:
    """Fixed-window counters per (bucket, major parameter), plus the global per-token window."""

    def __init__(self, limits: dict[str, BucketLimit] | None = None) -> None:
        self.limits: dict[str, BucketLimit] = dict(DEFAULT_LIMITS)
        self.limits.update(limits or {})
        self._windows: dict[tuple[str, str], _Window] = {}

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
        reset_after = max(0.0, window.started + limit.window_s - now)
        if window.count >= limit.limit:
            return False, limit, window, reset_after
        window.count += 1
        return True, limit, window, reset_after

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
        return RateDecision(ok, headers, reset_after)


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
class Faults:
    """Faults the test injected, consumed in order."""

    pending: list[Fault] = field(default_factory=list)

    def take(self, method: str, route: str, body: Any = None) -> Fault | None:
        """The fault to apply to this request, if any (and count it as used)."""
        for fault in self.pending:
            if fault.matches(method, route, body):
                fault.used += 1
                return fault
        return None
