"""What the operator measures: the bot's metrics in one registry, for `/metrics`.

`Metrics` owns a `CollectorRegistry` of its own (never prometheus-client's process-wide
default) and every metric in it. It is fed from three places, none of them in the core:

- `CouncilWatch`, the `Watcher` the session manager shows every council's events to, and the
  challenge desk its members' model calls: rounds, model calls by provider and outcome,
  first-token latency, tokens and spend;
- `on_discord_response` and `on_discord_failure`, hooked into the trace of the Discord
  client's HTTP session: requests and 429s by route kind;
- the vote desk (acknowledgement latency) and `LoopLag` (event-loop lag).

Label values always come from small closed sets (route kinds, outcomes, the operator's provider
names), never from ids: each label value is a time series the operator's Prometheus keeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable
from enum import StrEnum
from types import SimpleNamespace
from typing import Self

import aiohttp
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from bot.council.events import Event, MemberFailed, MemberFinished, ModelCalled, RoundFinished
from bot.council.models import Reply, ReplyStatus
from bot.errors import ProviderErrorKind

log = logging.getLogger(__name__)

# How often `LoopLag` wakes up to see how late the loop let it.
LOOP_LAG_INTERVAL_S = 0.25

_FIRST_TOKEN_BUCKETS_S = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0)
_CALL_BUCKETS_S = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0)
# Discord wants an interaction acknowledged within 3 s, so the buckets crowd below that.
_VOTE_ACK_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0)
_LOOP_LAG_BUCKETS_S = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class RouteKind(StrEnum):
    """What a Discord REST request was for, as a metric label."""

    WEBHOOK_EXECUTE = "webhook_execute"
    WEBHOOK_EDIT = "webhook_edit"
    WEBHOOK_MANAGE = "webhook_manage"
    INTERACTION_CALLBACK = "interaction_callback"
    INTERACTION_RESPONSE = "interaction_response"
    MESSAGE = "message"
    THREAD = "thread"
    CHANNEL = "channel"
    GUILD = "guild"
    COMMANDS = "commands"
    OTHER = "other"


# Matched against the path after the API version, in order; the first match wins. Ids and
# tokens are matched, never kept.
_ROUTES: tuple[tuple[str | None, re.Pattern[str], RouteKind], ...] = (
    (None, re.compile(r"/interactions/\d+/[^/]+/callback"), RouteKind.INTERACTION_CALLBACK),
    # An interaction's own reply, edited or deleted through the application's webhook.
    (None, re.compile(r"/webhooks/\d+/[^/]+/messages/@original"), RouteKind.INTERACTION_RESPONSE),
    ("POST", re.compile(r"/webhooks/\d+/[^/]+"), RouteKind.WEBHOOK_EXECUTE),
    (None, re.compile(r"/webhooks/\d+/[^/]+/messages/\d+"), RouteKind.WEBHOOK_EDIT),
    (None, re.compile(r"/webhooks/\d+(/[^/]+)?"), RouteKind.WEBHOOK_MANAGE),
    (None, re.compile(r"/channels/\d+/webhooks"), RouteKind.WEBHOOK_MANAGE),
    (None, re.compile(r"/channels/\d+/(messages/\d+/)?threads(/.*)?"), RouteKind.THREAD),
    (None, re.compile(r"/channels/\d+/thread-members(/.*)?"), RouteKind.THREAD),
    (None, re.compile(r"/channels/\d+/messages(/.*)?"), RouteKind.MESSAGE),
    (None, re.compile(r"/channels/\d+(/.*)?"), RouteKind.CHANNEL),
    (None, re.compile(r"/applications/\d+/(guilds/\d+/)?commands(/.*)?"), RouteKind.COMMANDS),
    (None, re.compile(r"/guilds/\d+(/.*)?"), RouteKind.GUILD),
)
# Whatever comes before the API version: `/api`, or a REST proxy's own prefix.
_API_PREFIX = re.compile(r"^.*?/v\d+(?=/)")


def route_kind(method: str, path: str) -> RouteKind:
    """The kind of a Discord REST request, from its method and URL path (with or without the
    `/api/v10` prefix)."""
    route = _API_PREFIX.sub("", path, count=1)
    for only, pattern, kind in _ROUTES:
        if (only is None or only == method.upper()) and pattern.fullmatch(route):
            return kind
    return RouteKind.OTHER


def status_class(status: int) -> str:
    """A response status as a label: "429" on its own, else its class ("2xx", "5xx")."""
    return "429" if status == 429 else f"{status // 100}xx"


# A failed call's outcome label is its error kind, if the kind is one of these.
_ERROR_OUTCOMES = frozenset({*ProviderErrorKind, "empty"})
# Every outcome label a model call may have.
_CALL_OUTCOMES = frozenset({*_ERROR_OUTCOMES, "ok", "withheld", "cancelled", "error"})


def call_outcome(reply: Reply) -> str:
    """A model call's outcome as a label: ok, withheld, cancelled, or the error kind."""
    if reply.status is ReplyStatus.OK:
        return "ok"
    if reply.status is ReplyStatus.WITHHELD:
        return "withheld"
    if reply.error_kind == "stopped":
        return "cancelled"
    kind = reply.error_kind or "error"
    return kind if kind in _ERROR_OUTCOMES else "error"


class Metrics:
    """Every metric the bot exports, in a registry of its own. Create one in `__main__`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.councils_running = Gauge(
            "council_councils_running", "Councils running in this process.", registry=r
        )
        self.rounds = Counter(
            "council_rounds_completed", "Council rounds played to their end.", registry=r
        )
        self.model_calls = Counter(
            "council_model_calls",
            "Model calls ended, by provider and outcome (ok, withheld, cancelled, error kind).",
            ["provider", "outcome"],
            registry=r,
        )
        self.first_token = Histogram(
            "council_model_first_token_seconds",
            "Time from a model call to its first streamed token.",
            ["provider"],
            buckets=_FIRST_TOKEN_BUCKETS_S,
            registry=r,
        )
        self.call_time = Histogram(
            "council_model_call_seconds",
            "Time a model call took, to its last token or its failure.",
            ["provider"],
            buckets=_CALL_BUCKETS_S,
            registry=r,
        )
        self.tokens = Counter(
            "council_model_tokens",
            "Tokens charged for model calls, by provider and direction (input or output).",
            ["provider", "direction"],
            registry=r,
        )
        self.spend = Counter(
            "council_model_spend_usd",
            "Estimated spend on model calls in US dollars, by provider.",
            ["provider"],
            registry=r,
        )
        self.discord_requests = Counter(
            "council_discord_requests",
            "Discord REST responses, by route kind and status class (2xx, 4xx, 429, 5xx).",
            ["route", "status"],
            registry=r,
        )
        self.discord_rate_limited = Counter(
            "council_discord_rate_limited",
            "Discord REST requests answered 429, by route kind and the limit's scope.",
            ["route", "scope"],
            registry=r,
        )
        self.discord_failures = Counter(
            "council_discord_request_failures",
            "Discord REST requests that got no response (connection lost, timed out).",
            ["route"],
            registry=r,
        )
        self.vote_ack = Histogram(
            "council_vote_ack_seconds",
            "Time from a vote click (the interaction's creation) to its acknowledgement.",
            buckets=_VOTE_ACK_BUCKETS_S,
            registry=r,
        )
        self.loop_lag = Histogram(
            "council_event_loop_lag_seconds",
            "How late the event loop woke a sleeper, sampled every quarter second.",
            buckets=_LOOP_LAG_BUCKETS_S,
            registry=r,
        )
        self.loop_lag_last = Gauge(
            "council_event_loop_lag_last_seconds",
            "The event loop's lag at the last sample.",
            registry=r,
        )

    def count_councils(self, running: Callable[[], int]) -> None:
        """Read the councils running from `running` whenever metrics are collected."""
        self.councils_running.set_function(running)

    def watch(self) -> CouncilWatch:
        """The watcher to give the session manager."""
        return CouncilWatch(self)

    def vote_acknowledged(self, seconds: float) -> None:
        """A vote click was acknowledged `seconds` after it was made."""
        # Discord's clock and ours differ by a little; a click can't be answered before it.
        self.vote_ack.observe(max(0.0, seconds))

    def trace_discord(self, trace: aiohttp.TraceConfig) -> None:
        """Count every request made through the session `trace` is given to."""
        trace.on_request_end.append(self.on_discord_response)
        trace.on_request_exception.append(self.on_discord_failure)

    async def on_discord_response(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestEndParams,
    ) -> None:
        """aiohttp calls this with each response: count it, and a 429 by its scope."""
        kind = route_kind(params.method, params.url.path)
        status = params.response.status
        self.discord_requests.labels(kind, status_class(status)).inc()
        if status == 429:
            # https://discord.com/developers/docs/topics/rate-limits#header-format
            scope = params.response.headers.get("X-RateLimit-Scope", "unknown")
            if scope not in ("user", "global", "shared"):
                scope = "unknown"
            self.discord_rate_limited.labels(kind, scope).inc()

    async def on_discord_failure(
        self,
        session: aiohttp.ClientSession,
        context: SimpleNamespace,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        """aiohttp calls this when a request got no response."""
        self.discord_failures.labels(route_kind(params.method, params.url.path)).inc()


class CouncilWatch:
    """Turns council events into metrics (a `bot.council.events.Watcher`)."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def observe(self, event: Event) -> None:
        """Count a finished round, or a model call that ended (in a session or out of one)."""
        if isinstance(event, RoundFinished):
            self.metrics.rounds.inc()
        elif isinstance(event, MemberFinished | MemberFailed):
            reply = event.reply
            self._call(
                ModelCalled(
                    event.provider,
                    call_outcome(reply),
                    reply.input_tokens,
                    reply.output_tokens,
                    reply.cost_usd,
                    reply.latency_s,
                    reply.first_token_s,
                )
            )
        elif isinstance(event, ModelCalled):
            self._call(event)

    def _call(self, call: ModelCalled) -> None:
        m, provider = self.metrics, call.provider
        outcome = call.outcome if call.outcome in _CALL_OUTCOMES else "error"
        m.model_calls.labels(provider, outcome).inc()
        if call.first_token_s is not None:
            m.first_token.labels(provider).observe(call.first_token_s)
        if call.latency_s is not None:
            m.call_time.labels(provider).observe(call.latency_s)
        m.tokens.labels(provider, "input").inc(call.input_tokens)
        m.tokens.labels(provider, "output").inc(call.output_tokens)
        m.spend.labels(provider).inc(call.cost_usd)


class LoopLag:
    """Samples the event loop's lag: sleeps `interval_s`, and records how much later than asked
    it woke. Owns its task: `async with LoopLag(metrics):` runs it for the block's duration."""

    def __init__(self, metrics: Metrics, *, interval_s: float = LOOP_LAG_INTERVAL_S) -> None:
        self.metrics = metrics
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._task = asyncio.create_task(self._sample(), name="council-loop-lag")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _sample(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            asked = loop.time() + self.interval_s
            await asyncio.sleep(self.interval_s)
            lag = max(0.0, loop.time() - asked)
            self.metrics.loop_lag.observe(lag)
            self.metrics.loop_lag_last.set(lag)
