"""The fake's record of each rate window: what arrived in it and what it answered."""

from __future__ import annotations

import aiohttp
import discord

from tests.fakediscord import Driver, FakeDiscord, Kind
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot


async def test_each_window_records_its_requests_the_remaining_it_answered_and_refusals(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World
):
    fake_discord.expect_violation(Kind.RATE_LIMITED)
    fake_discord.rate_limits.set_limit("channel_messages", 2, 10.0)
    other = discord_driver.create_text_channel(world.guild, "other")
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    base = f"{fake_discord.api_base}/channels"
    async with aiohttp.ClientSession(headers=headers) as session:
        for channel in (world.general, world.general, other, world.general):
            async with session.post(f"{base}/{channel.id}/messages", json={"content": "x"}):
                pass

    general, second = fake_discord.rate_windows("channel_messages")
    assert (general.major, second.major) == (str(world.general.id), str(other.id))
    assert (general.limit, general.window_s) == (2, 10.0)
    assert [a.remaining for a in general.arrivals] == [1, 0, 0]
    assert [a.allowed for a in general.arrivals] == [True, True, False]
    assert general.refused == general.arrivals[2:]
    assert general.exhausted_by is general.arrivals[1]
    assert [a.entry.status for a in general.arrivals] == [200, 200, 429]
    assert general.arrivals[0].entry is fake_discord.requests("POST")[0]
    assert [a.remaining for a in second.arrivals] == [1]
    assert second.exhausted_by is None


async def test_discord_py_sends_nothing_more_in_a_window_answered_remaining_zero(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.rate_limits.set_limit("channel_messages", 2, 0.5)
    channel = tiny_bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    for text in ("one", "two", "three"):
        await channel.send(text)

    first, second = fake_discord.rate_windows("channel_messages")
    assert first.exhausted_by is first.arrivals[1]
    assert first.refused == []
    # The third message waited for the reset: the client's own limiter held it.
    assert second.arrivals[0].at_s >= first.resets_s
