"""Rate limits: forced 429s the client retries, real buckets with headers, and 5xx retries."""

from __future__ import annotations

import aiohttp
import discord

from tests.fakediscord import Driver, FakeDiscord, Kind
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot

EXECUTE = "/webhooks/{webhook_id}/{webhook_token}"
MESSAGES = "/channels/{channel_id}/messages"


def _channel(bot: TinyBot, world: World) -> discord.TextChannel:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def test_webhook_429_is_retried_by_the_client(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.force_429("POST", EXECUTE, retry_after_s=0.05)
    handle = await discord_driver.slash(world.alice, world.general, "tiny start", topic="T")
    await handle.wait_response()
    # The interaction followup shares the route; keep the persona webhook's requests.
    app = str(fake_discord.application_id)
    statuses = [e.status for e in fake_discord.requests("POST", EXECUTE) if app not in e.path]
    assert statuses == [429, 200]
    [thread] = discord_driver.threads_of(world.general)
    assert len(discord_driver.read(thread, as_user=world.bob)) == 1


async def test_bot_route_429_is_retried_and_global_429_too(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.force_429("POST", MESSAGES, retry_after_s=0.05)
    fake_discord.force_429("POST", MESSAGES, retry_after_s=0.05, is_global=True)
    await _channel(tiny_bot, world).send("hello")
    statuses = [e.status for e in fake_discord.requests("POST", MESSAGES)]
    assert statuses == [429, 429, 200]
    assert fake_discord.violations == []


async def test_429_answers_carry_retry_after_via_and_a_json_body(
    fake_discord: FakeDiscord, world: World
):
    fake_discord.expect_violation(Kind.RATE_LIMITED)
    fake_discord.rate_limits.set_limit("channel_messages", 1, 10.0)
    url = f"{fake_discord.api_base}/channels/{world.general.id}/messages"
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        async with session.post(url, json={"content": "one"}) as first:
            assert first.status == 200
            assert first.headers["X-RateLimit-Remaining"] == "0"
            assert first.headers["Content-Type"] == "application/json"
        async with session.post(url, json={"content": "two"}) as second:
            assert second.status == 429
            assert second.headers["Via"]
            assert int(second.headers["Retry-After"]) >= 1
            body = await second.json()
            assert body["global"] is False
            assert 0 < body["retry_after"] <= 10
    assert len(fake_discord.violations_of(Kind.RATE_LIMITED)) == 1


async def test_client_waits_on_exhausted_bucket_headers_instead_of_hitting_429(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.rate_limits.set_limit("channel_messages", 1, 0.2)
    channel = _channel(tiny_bot, world)
    await channel.send("one")
    await channel.send("two")
    first, second = fake_discord.requests("POST", MESSAGES)
    assert (first.status, second.status) == (200, 200)
    assert second.at_s - first.at_s >= 0.15


async def test_server_error_is_retried(fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot):
    fake_discord.force_status("POST", MESSAGES, 502)
    await _channel(tiny_bot, world).send("after a hiccup")
    assert [e.status for e in fake_discord.requests("POST", MESSAGES)] == [502, 200]
