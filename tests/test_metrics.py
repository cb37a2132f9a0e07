"""The metrics' parts on their own: route kinds, call outcomes, the loop-lag sampler, `/healthz`
when the store is gone, and an address that can't be listened on."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime

import httpx
import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.config import load_settings
from bot.council.events import (
    Event,
    MemberFailed,
    MemberFinished,
    RoundFinished,
    TextDelta,
    TurnKey,
    Watched,
)
from bot.council.models import Reply, ReplyKind, ReplyStatus
from bot.errors import UserFacingError
from bot.metrics import LoopLag, Metrics, RouteKind, call_outcome, route_kind, status_class
from bot.metrics_server import GatewayHealth, Health, ShardHealth, serve_metrics
from bot.store.store import Store

WEBHOOK = "/api/v10/webhooks/1234567890123456789/AbC-token_xyz"


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", WEBHOOK, RouteKind.WEBHOOK_EXECUTE),
        ("PATCH", f"{WEBHOOK}/messages/1234567890123456780", RouteKind.WEBHOOK_EDIT),
        ("DELETE", f"{WEBHOOK}/messages/1234567890123456780", RouteKind.WEBHOOK_EDIT),
        ("PATCH", f"{WEBHOOK}/messages/@original", RouteKind.INTERACTION_RESPONSE),
        ("GET", WEBHOOK, RouteKind.WEBHOOK_MANAGE),
        ("DELETE", "/api/v10/webhooks/1234567890123456789", RouteKind.WEBHOOK_MANAGE),
        ("POST", "/api/v10/channels/42/webhooks", RouteKind.WEBHOOK_MANAGE),
        ("POST", "/api/v10/interactions/99/aW50ZXJh/callback", RouteKind.INTERACTION_CALLBACK),
        ("POST", "/api/v10/channels/42/messages", RouteKind.MESSAGE),
        ("PATCH", "/api/v10/channels/42/messages/43", RouteKind.MESSAGE),
        ("POST", "/api/v10/channels/42/threads", RouteKind.THREAD),
        ("POST", "/api/v10/channels/42/messages/43/threads", RouteKind.THREAD),
        ("PUT", "/api/v10/channels/42/thread-members/@me", RouteKind.THREAD),
        ("PATCH", "/api/v10/channels/42", RouteKind.CHANNEL),
        ("GET", "/api/v10/guilds/7/channels", RouteKind.GUILD),
        ("PUT", "/api/v10/applications/5/guilds/7/commands", RouteKind.COMMANDS),
        ("PUT", "/api/v10/applications/5/commands", RouteKind.COMMANDS),
        ("GET", "/api/v10/users/@me", RouteKind.OTHER),
        ("GET", "/api/v10/gateway/bot", RouteKind.OTHER),
        # Behind a REST proxy with a prefix of its own, and without any prefix.
        ("POST", "/discord/api/v10/channels/42/messages", RouteKind.MESSAGE),
        ("POST", "/webhooks/1/tok", RouteKind.WEBHOOK_EXECUTE),
    ],
)
def test_a_request_maps_to_its_route_kind(method, path, kind):
    assert route_kind(method, path) is kind


def test_status_classes_keep_429_apart():
    assert [status_class(s) for s in (200, 204, 404, 429, 503)] == [
        "2xx",
        "2xx",
        "4xx",
        "429",
        "5xx",
    ]


def _reply(status: ReplyStatus, error_kind: str | None = None, **fields: object) -> Reply:
    return Reply.model_validate(
        {
            "id": 1,
            "session_id": 1,
            "round_number": 1,
            "persona": "Ann",
            "status": status,
            "error_kind": error_kind,
            "created_at": datetime.now(UTC),
            **fields,
        }
    )


def test_a_calls_outcome_is_ok_withheld_cancelled_or_its_error_kind():
    assert call_outcome(_reply(ReplyStatus.OK)) == "ok"
    assert call_outcome(_reply(ReplyStatus.WITHHELD, "withheld")) == "withheld"
    assert call_outcome(_reply(ReplyStatus.FAILED, "stopped")) == "cancelled"
    assert call_outcome(_reply(ReplyStatus.FAILED, "timeout")) == "timeout"
    assert call_outcome(_reply(ReplyStatus.FAILED, "empty")) == "empty"
    # A kind outside the closed set is not a new label value.
    assert call_outcome(_reply(ReplyStatus.FAILED, "something new")) == "error"


def _sample(metrics: Metrics, name: str, **labels: str) -> float:
    text = generate_latest(metrics.registry).decode()
    return next(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and s.labels == labels
    )


KEY = TurnKey(1, "Ann", ReplyKind.ANSWER)


def test_the_watch_counts_rounds_and_calls_by_provider_and_outcome():
    metrics = Metrics()
    watch = metrics.watch()
    answered = _reply(
        ReplyStatus.OK,
        input_tokens=100,
        output_tokens=40,
        cost_usd=0.25,
        latency_s=2.0,
        first_token_s=0.5,
    )
    timed_out = _reply(ReplyStatus.FAILED, "timeout", input_tokens=100, latency_s=60.0)

    watch.observe(MemberFinished(KEY, answered, "anthropic"))
    watch.observe(MemberFailed(KEY, timed_out, "timed out", "gemini"))
    watch.observe(RoundFinished(1, (answered, timed_out)))

    def calls(provider: str, outcome: str) -> float:
        return _sample(metrics, "council_model_calls_total", provider=provider, outcome=outcome)

    assert calls("anthropic", "ok") == 1
    assert calls("gemini", "timeout") == 1
    assert _sample(metrics, "council_rounds_completed_total") == 1
    tokens = "council_model_tokens_total"
    assert _sample(metrics, tokens, provider="anthropic", direction="output") == 40
    assert _sample(metrics, tokens, provider="gemini", direction="input") == 100
    assert _sample(metrics, "council_model_spend_usd_total", provider="anthropic") == 0.25
    # Only a call that streamed has a first token.
    ttft = "council_model_first_token_seconds_count"
    assert _sample(metrics, ttft, provider="anthropic") == 1
    text = generate_latest(metrics.registry).decode()
    assert 'council_model_first_token_seconds_count{provider="gemini"}' not in text


class _Recorded:
    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def handle(self, event: Event) -> None:
        self.log.append(f"shown {type(event).__name__}")

    def observe(self, event: Event) -> None:
        self.log.append(f"watched {type(event).__name__}")


async def test_a_watched_presenter_lets_the_watcher_see_each_event_first_but_the_text():
    log: list[str] = []
    watched = Watched(_Recorded(log), _Recorded(log))
    reply = _reply(ReplyStatus.OK)

    await watched.handle(TextDelta(KEY, "Hel"))
    await watched.handle(MemberFinished(KEY, reply, "local"))

    assert log == ["shown TextDelta", "watched MemberFinished", "shown MemberFinished"]


async def test_the_loop_lag_sampler_records_while_it_runs_and_stops_after():
    metrics = Metrics()
    async with LoopLag(metrics, interval_s=0.01):
        for _ in range(500):
            if _sample(metrics, "council_event_loop_lag_seconds_count"):
                break
            await asyncio.sleep(0.01)
    count = _sample(metrics, "council_event_loop_lag_seconds_count")
    assert count > 0
    await asyncio.sleep(0.05)
    assert _sample(metrics, "council_event_loop_lag_seconds_count") == count


def test_each_metrics_object_has_a_registry_of_its_own():
    first, second = Metrics(), Metrics()
    first.rounds.inc()
    assert _sample(first, "council_rounds_completed_total") == 1
    assert _sample(second, "council_rounds_completed_total") == 0


def _connected() -> GatewayHealth:
    return GatewayHealth({0: ShardHealth(is_connected=True, latency_s=float("nan"))})


async def test_healthz_is_503_when_the_store_cannot_be_reached(tmp_path):
    async with Store.open(tmp_path / "council.db") as store:
        health = Health(store, _connected)
        async with (
            serve_metrics("127.0.0.1", 0, Metrics(), health) as (host, port),
            httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
        ):
            fine = await client.get("/healthz")
    # The store is closed now; serve again over it.
    async with (
        serve_metrics("127.0.0.1", 0, Metrics(), health) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        broken = await client.get("/healthz")

    assert fine.status_code == 200
    assert fine.json()["shards"] == {"0": {"connected": True, "latency_s": None}}
    assert broken.status_code == 503
    report = broken.json()
    assert report["gateway"] == "connected"
    assert report["store"].startswith("error: ")


async def test_a_port_in_use_is_refused_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        async with Store.open(tmp_path / "council.db") as store:
            health = Health(store, _connected)
            with pytest.raises(UserFacingError) as raised:
                async with serve_metrics("127.0.0.1", port, Metrics(), health):
                    pass
    assert raised.value.message == (
        f"Can't serve metrics on 127.0.0.1:{port}: the port is in use; choose another "
        "(METRICS_PORT or --metrics-port)."
    )


def test_a_metrics_port_that_is_no_port_is_named_in_one_line(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env but this test's
    monkeypatch.setenv("METRICS_PORT", "70000")
    with pytest.raises(UserFacingError) as raised:
        load_settings()
    assert raised.value.message == (
        "METRICS_PORT must be a TCP port, a whole number from 1 to 65535, or empty for no "
        "metrics, not '70000'."
    )
