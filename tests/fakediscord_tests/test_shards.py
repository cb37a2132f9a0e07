"""Sharding: IDENTIFY with [shard_id, num_shards], events routed by guild, Discord's close codes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord

from tests.fakediscord import Driver, FakeDiscord
from tests.fakediscord.gateway import (
    INTENT_GUILD_MEMBERS,
    INTENT_GUILD_MESSAGES,
    INTENT_GUILDS,
    shard_of,
)

INTENTS = INTENT_GUILDS | INTENT_GUILD_MEMBERS | INTENT_GUILD_MESSAGES
WAIT_S = 5


@contextlib.asynccontextmanager
async def identified(
    fake: FakeDiscord, shard: Any = None
) -> AsyncIterator[aiohttp.ClientWebSocketResponse]:
    """A raw gateway connection that has sent IDENTIFY (with `shard`, if given)."""
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.gateway_url) as ws,
    ):
        assert (await ws.receive_json(timeout=WAIT_S))["op"] == 10
        data: dict[str, Any] = {"token": fake.token, "intents": INTENTS, "properties": {}}
        if shard is not None:
            data["shard"] = shard
        await ws.send_json({"op": 2, "d": data})
        yield ws


async def dispatches(ws: aiohttp.ClientWebSocketResponse, count: int) -> list[dict[str, Any]]:
    """The next `count` dispatches' (event, data) as they arrive."""
    return [await ws.receive_json(timeout=WAIT_S) for _ in range(count)]


def test_guilds_created_for_a_shard_have_ids_that_route_to_it(discord_driver: Driver):
    for shard in range(4):
        guild = discord_driver.create_guild(f"Shard {shard}", shard=(shard, 4))
        assert shard_of(guild.id, 4) == shard


async def test_each_shard_is_ready_with_only_its_guilds(
    fake_discord: FakeDiscord, discord_driver: Driver
):
    even = discord_driver.create_guild("Even", shard=(0, 2))
    odd = discord_driver.create_guild("Odd", shard=(1, 2))
    async with identified(fake_discord, [1, 2]) as ws:
        ready, created = await dispatches(ws, 2)
    assert ready["t"] == "READY"
    assert ready["d"]["shard"] == [1, 2]
    assert ready["d"]["guilds"] == [{"id": str(odd.id), "unavailable": True}]
    assert created["t"] == "GUILD_CREATE"
    assert created["d"]["id"] == str(odd.id)
    assert even.id != odd.id


async def test_guild_events_reach_only_the_shard_of_their_guild(
    fake_discord: FakeDiscord, discord_driver: Driver
):
    even = discord_driver.create_guild("Even", shard=(0, 2))
    odd = discord_driver.create_guild("Odd", shard=(1, 2))
    async with identified(fake_discord, [0, 2]) as zero, identified(fake_discord, [1, 2]) as one:
        await dispatches(zero, 2)
        await dispatches(one, 2)
        for guild in (even, odd):
            member = discord_driver.create_member(guild, "bob")
            channel = discord_driver.create_text_channel(guild, "general")
            await discord_driver.send_message(member, channel, f"hello {guild.name}")
        seen_by_zero = {(p["t"], p["d"].get("guild_id")) for p in await dispatches(zero, 3)}
        seen_by_one = {(p["t"], p["d"].get("guild_id")) for p in await dispatches(one, 3)}
    assert seen_by_zero == {
        ("GUILD_MEMBER_ADD", str(even.id)),
        ("CHANNEL_CREATE", str(even.id)),
        ("MESSAGE_CREATE", str(even.id)),
    }
    assert seen_by_one == {
        ("GUILD_MEMBER_ADD", str(odd.id)),
        ("CHANNEL_CREATE", str(odd.id)),
        ("MESSAGE_CREATE", str(odd.id)),
    }


async def test_events_of_no_guild_go_to_shard_zero_only(fake_discord: FakeDiscord):
    async with identified(fake_discord, [0, 2]) as zero, identified(fake_discord, [1, 2]) as one:
        await dispatches(zero, 1)
        await dispatches(one, 1)
        fake_discord.dispatch("TYPING_START", {"channel_id": "1", "user_id": "2"})
        assert (await zero.receive_json())["t"] == "TYPING_START"
        assert [s.history[-1]["t"] for s in fake_discord.gateway.sessions.values()] == [
            "TYPING_START",
            "READY",
        ]


async def test_a_shard_outside_its_count_is_closed_with_4010(fake_discord: FakeDiscord):
    for shard in ([2, 2], [0, 0], [-1, 2], ["0", "2"], [0]):
        async with identified(fake_discord, shard) as ws:
            closing = await ws.receive(timeout=WAIT_S)
            assert closing.type == aiohttp.WSMsgType.CLOSE
            assert ws.close_code == 4010, shard
    assert fake_discord.gateway.identify_count == 0


async def test_a_session_with_too_many_guilds_is_closed_with_4011(
    fake_discord: FakeDiscord, discord_driver: Driver
):
    fake_discord.max_guilds_per_session = 1
    discord_driver.create_guild("Even", shard=(0, 2))
    discord_driver.create_guild("Odd", shard=(1, 2))
    async with identified(fake_discord) as ws:
        await ws.receive(timeout=WAIT_S)
        assert ws.close_code == 4011
    async with identified(fake_discord, [0, 2]) as ws:
        ready = await ws.receive_json(timeout=WAIT_S)
    assert ready["t"] == "READY"


async def test_gateway_bot_recommends_a_shard_per_thousand_guilds_and_tells_the_concurrency(
    fake_discord: FakeDiscord, discord_driver: Driver
):
    fake_discord.max_concurrency = 16
    for number in range(1001):
        fake_discord.create_guild(f"Guild {number}")
    client = discord.Client(intents=discord.Intents.default())
    await client.login(fake_discord.token)
    try:
        shards, url, limit = await client.http.get_bot_gateway()
    finally:
        await client.close()
    assert shards == 2
    assert url == fake_discord.gateway_url
    assert limit["max_concurrency"] == 16
    assert limit["remaining"] <= limit["total"]


class _QuickShards(discord.AutoShardedClient):
    """Identifies every shard at once: the fake does not enforce the 5 s identify spacing."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """No wait."""


async def test_an_auto_sharded_client_runs_its_shards_and_sees_only_their_guilds(
    fake_discord: FakeDiscord, discord_driver: Driver
):
    mine = [discord_driver.create_guild(f"Mine {n}", shard=(n, 4)) for n in (1, 2)]
    discord_driver.create_guild("Not mine", shard=(3, 4))
    client = _QuickShards(intents=discord.Intents.default(), shard_ids=[1, 2], shard_count=4)
    await client.login(fake_discord.token)
    task = discord.utils.MISSING
    try:
        task = asyncio.create_task(client.connect())
        await fake_discord.wait_for(client.is_ready, timeout=10, what="both shards ready")
        assert sorted(g.id for g in client.guilds) == sorted(g.id for g in mine)
        assert {g.shard_id for g in client.guilds} == {1, 2}
        assert sorted(s.shard for s in fake_discord.gateway.sessions.values()) == [(1, 4), (2, 4)]
    finally:
        await client.close()
        if task is not discord.utils.MISSING:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
