"""The operator's `/metrics` and `/healthz`: a council run, voted on and rate-limited through the
fake Discord, read back from the Prometheus text the bot serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import discord
import discord.shard
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.council.models import ReplyKind, ReplyStatus, VoteValue
from bot.discord_ui import challenges as challenge_desk
from bot.discord_ui.health import GatewayWatch
from bot.discord_ui.views import vote_custom_id
from bot.metrics_server import Health, ShardHealth, serve_metrics
from tests.council.conftest import NAMES, make_config
from tests.council.test_challenge_run import scripted

WEBHOOK_EXECUTE = "/webhooks/{webhook_id}/{webhook_token}"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    """Every sample of the exposition, by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every sample of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


@pytest.fixture
async def served(harness) -> AsyncIterator[tuple[httpx.AsyncClient, Health, GatewayWatch]]:
    """The harness's metrics and health on a free local port, and a client for them."""
    gateway = GatewayWatch()
    gateway.client = harness.bot
    health = Health(harness.store, gateway)
    async with (
        serve_metrics("127.0.0.1", 0, harness.metrics, health) as (host, port),
        httpx.AsyncClient(base_url=f"http://{host}:{port}") as client,
    ):
        yield client, health, gateway


async def test_a_council_with_a_vote_and_a_429_is_counted_in_metrics(harness, served):
    client, _, gateway = served
    world, driver, fake = harness.world, harness.driver, harness.fake
    # Priced models, so that spend is counted too (restarted as an operator would).
    await harness.stop()
    harness.config = make_config(harness.llm, prices=(3.0, 15.0), max_tokens=2000)
    gateway.client = await harness.start()
    fake.force_429("POST", WEBHOOK_EXECUTE, times=1)

    start = await driver.slash(world.host, world.general, "council start", topic="Metrics")
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    claude = next(m for m in driver.read(thread, as_user=world.bob) if m.author_name == "Claude")
    reply = await harness.store.reply_for_message(claude.id)
    vote = await driver.click(world.bob, claude, vote_custom_id(reply.id, VoteValue.UP))
    await vote.wait_ack()

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    replies = await harness.store.replies(session.id)
    answers = [r for r in replies if r.kind is ReplyKind.ANSWER]
    assert len(answers) == len(NAMES) * 2  # the default preset: two rounds of every member
    assert all(r.status is ReplyStatus.OK for r in replies)
    assert _value(samples, "council_rounds_completed_total") == 2
    assert _value(samples, "council_councils_running") == 0
    # Every call the store recorded (the answers and the synthesis), on the one provider.
    assert _value(samples, "council_model_calls_total", provider="local", outcome="ok") == len(
        replies
    )
    assert _total(samples, "council_model_calls_total") == len(replies)
    timed = [r for r in replies if r.first_token_s is not None]
    assert timed
    assert _value(samples, "council_model_first_token_seconds_count", provider="local") == len(
        timed
    )
    assert _value(
        samples, "council_model_tokens_total", provider="local", direction="output"
    ) == sum(r.output_tokens for r in replies)
    assert _value(
        samples, "council_model_tokens_total", provider="local", direction="input"
    ) == sum(r.input_tokens for r in replies)
    spent = sum(r.cost_usd for r in replies)
    assert spent > 0
    assert _value(samples, "council_model_spend_usd_total", provider="local") == pytest.approx(
        spent
    )
    assert _value(samples, "council_discord_requests_total", route="webhook_execute", status="2xx")
    assert (
        _value(samples, "council_discord_requests_total", route="webhook_execute", status="429")
        == 1
    )
    assert _total(samples, "council_discord_rate_limited_total") == 1
    assert (
        _value(samples, "council_discord_rate_limited_total", route="webhook_execute", scope="user")
        == 1
    )
    assert _total(samples, "council_discord_requests_total", route="interaction_callback")
    assert _value(samples, "council_vote_ack_seconds_count") == 1
    # Ids and tokens never become label values.
    assert str(session.thread_id) not in response.text
    assert str(world.guild.id) not in response.text


async def test_councils_running_counts_a_live_council(harness, served):
    client, _, _ = served
    world, driver = harness.world, harness.driver
    harness.llm.script("claude-model", reply="Slowly.", first_token_delay_s=3.0)
    start = await driver.slash(world.host, world.general, "council start", topic="Live")
    await start.wait_ack()
    await harness.wait_running()

    samples = _samples((await client.get("/metrics")).text)

    assert _value(samples, "council_councils_running") == 1


async def test_healthz_is_200_while_connected_and_says_so_per_shard(harness, served):
    client, _, _ = served

    response = await client.get("/healthz")

    assert response.status_code == 200
    report = response.json()
    assert report["gateway"] == "connected"
    assert report["store"] == "ok"
    assert report["shards"]["0"]["connected"] is True
    assert set(report["check_s"]) == {"gateway", "store"}


async def test_healthz_reports_a_dropped_gateway_until_the_bot_reconnects(harness, served):
    client, health, _ = served
    seen: list[tuple[bool, dict[str, object]]] = []

    async def on_disconnect() -> None:
        # discord.py dispatches this as the connection is lost, before it reconnects.
        seen.append(await health.check())

    harness.bot.add_listener(on_disconnect)
    identified = harness.fake.gateway.resume_count + harness.fake.gateway.identify_count
    await harness.fake.gateway.drop()
    await harness.fake.wait_for(lambda: seen, what="the bot to notice the drop")
    await harness.fake.wait_for(
        lambda: (
            harness.fake.gateway.resume_count + harness.fake.gateway.identify_count > identified
        ),
        what="the bot to reconnect",
    )

    is_healthy, report = seen[0]
    assert not is_healthy
    assert report["gateway"] == "disconnected"
    assert report["store"] == "ok"
    for _ in range(100):
        response = await client.get("/healthz")
        if response.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert response.status_code == 200


async def test_healthz_is_503_once_the_bot_has_closed(harness, served):
    client, _, _ = served
    await harness.bot.close()

    response = await client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["gateway"] == "disconnected"
    assert response.json()["shards"] == {}


class _Socket:
    """A shard's gateway connection as discord.py's ShardInfo reads it."""

    def __init__(self, shard_id: int, *, is_open: bool) -> None:
        self.shard_id = shard_id
        self.open = is_open
        self.latency = 0.042

    def is_ratelimited(self) -> bool:
        return False


async def test_healthz_reports_each_shard_by_its_own_connection():
    # Shard 0 is connected; shard 1 is not yet, so the client as a whole is not ready.
    client = discord.AutoShardedClient(
        intents=discord.Intents.default(), shard_ids=[0, 1], shard_count=2
    )
    client._reconnect = True  # as connect() sets it, before it launches shards
    shards = client._AutoShardedClient__shards  # discord.py's launched shards, by id
    shards[0] = discord.shard.Shard(_Socket(0, is_open=True), client, lambda item: None)
    gateway = GatewayWatch()
    gateway.client = client  # never connected: nothing to close

    assert not client.is_ready()
    health = gateway()
    assert health.shards == {
        0: ShardHealth(is_connected=True, latency_s=0.042),
        1: ShardHealth(is_connected=False, latency_s=None),
    }
    assert not health.is_connected
    shards[1] = discord.shard.Shard(_Socket(1, is_open=True), client, lambda item: None)
    assert gateway().is_connected


async def test_a_challenges_model_calls_are_counted_as_a_councils_are(harness, served, monkeypatch):
    client, _, gateway = served
    world, driver = harness.world, harness.driver
    monkeypatch.setattr(challenge_desk, "PREDICT_S", 0.2)
    await harness.stop()
    harness.config = make_config(harness.llm, prices=(3.0, 15.0), max_tokens=2000)
    gateway.client = await harness.start()
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=scripted(name))

    started = await driver.slash(world.host, world.general, "council challenge", count=2)
    await started.wait_response(timeout=10)
    for _ in range(400):
        if any(
            m.content.startswith("🏁 **Challenge over")
            for m in driver.read(world.general, as_user=world.bob)
        ):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the challenge never ended")

    samples = _samples((await client.get("/metrics")).text)
    # Every member answers each question alone, then once more after the debate.
    calls = len(NAMES) * 2 * 2
    assert len(harness.llm.requests) == calls
    assert _value(samples, "council_model_calls_total", provider="local", outcome="ok") == calls
    assert _total(samples, "council_model_calls_total") == calls
    assert _value(samples, "council_model_first_token_seconds_count", provider="local") == calls
    assert _value(samples, "council_model_call_seconds_count", provider="local") == calls
    assert _value(samples, "council_model_tokens_total", provider="local", direction="output")
    assert _value(samples, "council_model_tokens_total", provider="local", direction="input")
    assert _value(samples, "council_model_spend_usd_total", provider="local") > 0
    # A challenge is no council: no rounds.
    assert _value(samples, "council_rounds_completed_total") == 0
