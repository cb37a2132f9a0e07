"""Staying inside Discord's rate limits before Discord has to say no.

One trace on the client's HTTP session (discord.py sends webhook requests through it too) does
two things:

- `WebhookBudgets` reads each webhook's `X-RateLimit-Remaining` and `X-RateLimit-Reset-After`,
  so the presenter can see what is left of a webhook's window before it spends a request, and
  keep the last ones for what matters most (a reply's first words and its final text).
- `GlobalPacer` spaces the requests made with the bot's token under Discord's global limit.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections import deque
from dataclasses import dataclass
from types import SimpleNamespace

import aiohttp

# Of a share of the global limit: the steady rate, and the burst that may come on top of it
# (a second holds at most burst + rate requests; the burst lets one council open at once).
# What is left (a sixth) is for jitter between a request leaving and Discord counting it:
# requests that leave a busy loop, or cross a busy network, close together are counted closer
# together than they were paced. With 35 + 6 of 50 they may bunch up by a quarter of a second
# without drawing a 429.
RATE_PART = 0.7
BURST_PART = 0.12
# Execute, edit and fetch all share one bucket per webhook; its id is the first path segment.
_WEBHOOK_PATH = re.compile(r"/webhooks/(\d+)/[^/]+")


@dataclass(frozen=True)
class Spare:
    """What a webhook may still send: `remaining` requests before its window resets."""

    remaining: int
    resets_in: float


@dataclass
class _Window:
    limit: int
    remaining: int
    resets_at: float
    in_flight: int = 0


def discord_trace(budgets: WebhookBudgets, pacer: GlobalPacer) -> aiohttp.TraceConfig:
    """The trace to give the client (`http_trace=`), observing and pacing every request."""
    trace = aiohttp.TraceConfig()
    trace.on_request_start.append(pacer.on_request_start)
    trace.on_request_start.append(budgets.on_request_start)
    trace.on_request_end.append(budgets.on_request_end)
    trace.on_request_exception.append(budgets.on_request_exception)
    return trace


class GlobalPacer:
    """Keeps requests made with the bot's token under Discord's global limit (50 a second).

    Past the limit every request in flight is refused, and discord.py gives up on a request
    after five refusals, so a burst (a hundred councils opening at once) would fail commands;
    and a bot that draws too many refusals (10,000 401, 403 or 429 answers in 10 minutes) is
    banned for a while (https://discord.com/developers/docs/topics/rate-limits#invalid-request-
    limit-aka-cloudflare-bans). Instead each request waits for a slot from a token bucket that
    never lets more than `burst + rate` go in any second. Webhook and interaction requests
    carry no bot token, aren't counted by the global limit, and never wait.

    The bucket is drawn when a request actually goes, not when it starts waiting: a loop busy
    past the slots of several waiting requests then lets at most `burst` of them go together,
    instead of all whose slots have passed.
    """

    def __init__(self, rate_per_s: float = 35.0, burst: int = 6) -> None:
        self._rate = rate_per_s
        self._burst = burst
        self._tokens = float(burst)
        self._at = time.monotonic()
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._timer: asyncio.TimerHandle | None = None

    @classmethod
    def for_share(cls, share_per_s: float) -> GlobalPacer:
        """A pacer that never sends more than `share_per_s` requests in any second: this
        process's part of the global limit when several processes share one token. The
        margins of the whole limit (a rate of 35 and a burst of 6 under 50) scale with it."""
        burst = max(1, int(share_per_s * BURST_PART))
        rate = share_per_s * RATE_PART
        if share_per_s > burst:
            # A second holds at most burst + rate requests. (A share of one or less has a
            # burst of one and requests more than a second apart, so it holds one.)
            rate = min(rate, share_per_s - burst)
        return cls(rate_per_s=rate, burst=burst)

    async def acquire(self) -> None:
        """Wait for a slot (at once while the bucket holds tokens and nobody waits)."""
        if not self._waiting and self._take():
            return
        slot: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(slot)
        self._wake_later()
        # A waiter cancelled meanwhile leaves its future cancelled, and `_release` skips it.
        await slot

    def _take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _release(self) -> None:
        """Let the first waiters go, as many as the bucket holds tokens for now."""
        self._timer = None
        while self._waiting:
            if self._waiting[0].done():
                self._waiting.popleft()
            elif self._take():
                self._waiting.popleft().set_result(None)
            else:
                break
        self._wake_later()

    def _wake_later(self) -> None:
        if self._timer is None and self._waiting:
            wait = max(0.0, (1 - self._tokens) / self._rate)
            self._timer = asyncio.get_running_loop().call_later(wait, self._release)

    async def on_request_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        """aiohttp awaits this before sending: bot-token requests wait for their slot."""
        if params.headers.get("Authorization", "").startswith("Bot "):
            await self.acquire()


class WebhookBudgets:
    """Tracks each webhook's rate-limit window from the responses the bot receives."""

    def __init__(self) -> None:
        self._windows: dict[int, _Window] = {}

    def spare(self, webhook_id: int) -> Spare | None:
        """The webhook's requests left in its window; None before Discord has said."""
        window = self._windows.get(webhook_id)
        if window is None:
            return None
        resets_in = window.resets_at - time.monotonic()
        if resets_in <= 0:
            # The window is over; a fresh one starts with the next request.
            return Spare(window.limit - window.in_flight, 0.0)
        return Spare(max(0, window.remaining - window.in_flight), resets_in)

    async def on_request_start(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestStartParams,
    ) -> None:
        if (window := self._window_of(params.url)) is not None:
            window.in_flight += 1
            # Only a request counted here is uncounted when it ends.
            context.counted = window

    async def on_request_end(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        self._uncount(context)
        webhook_id = _webhook_id(params.url)
        if webhook_id is None:
            return
        window = self._windows.get(webhook_id)
        headers = params.response.headers
        try:
            limit = int(headers["X-RateLimit-Limit"])
            remaining = int(headers["X-RateLimit-Remaining"])
            reset_after = float(headers["X-RateLimit-Reset-After"])
        except (KeyError, ValueError):
            return  # a response without bucket headers says nothing about the window
        resets_at = time.monotonic() + reset_after
        if window is None:
            self._windows[webhook_id] = _Window(limit, remaining, resets_at)
            return
        window.limit, window.remaining, window.resets_at = limit, remaining, resets_at

    async def on_request_exception(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        self._uncount(context)

    @staticmethod
    def _uncount(context: SimpleNamespace) -> None:
        window: _Window | None = getattr(context, "counted", None)
        if window is not None:
            window.in_flight -= 1
            context.counted = None

    def _window_of(self, url: object) -> _Window | None:
        webhook_id = _webhook_id(url)
        return None if webhook_id is None else self._windows.get(webhook_id)


def _webhook_id(url: object) -> int | None:
    match = _WEBHOOK_PATH.search(getattr(url, "path", ""))
    return int(match.group(1)) if match else None
