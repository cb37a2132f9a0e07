"""Fixtures for the fake Discord's own tests: a small guild and the tiny bot logged in to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from tests.fakediscord import Driver, FakeDiscord
from tests.fakediscord.state import Channel, Guild, Perm, User
from tests.fakediscord_tests.tinybot import TinyBot


@dataclass
class World:
    """The guild the tests play in."""

    guild: Guild
    general: Channel
    alice: User
    bob: User


@pytest.fixture
def world(discord_driver: Driver) -> World:
    """A guild with #general, Alice (a moderator) and Bob (a plain member)."""
    guild = discord_driver.create_guild("Tiny Guild")
    general = discord_driver.create_text_channel(guild, "general")
    alice = discord_driver.create_member(guild, "alice", permissions=Perm.MANAGE_THREADS)
    bob = discord_driver.create_member(guild, "bob")
    return World(guild, general, alice, bob)


async def run_bot(fake: FakeDiscord, bot: TinyBot) -> asyncio.Task[None]:
    """Start the bot and wait until it is ready (or its task failed)."""
    task = asyncio.create_task(bot.start(fake.token))
    # The client's ready event exists once login has begun, i.e. once it made its first request.
    await fake.wait_for(lambda: fake.wire or task.done(), timeout=10, what="the bot to log in")
    ready = asyncio.ensure_future(bot.wait_until_ready())
    await asyncio.wait([ready, task], timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        ready.cancel()
        task.result()
    assert bot.is_ready(), "the bot did not become ready"
    return task


@pytest.fixture
async def tiny_bot(fake_discord: FakeDiscord, world: World) -> AsyncIterator[TinyBot]:
    """The tiny bot, logged in, commands synced, gateway ready."""
    bot = TinyBot(world.guild.id)
    task = await run_bot(fake_discord, bot)
    yield bot
    await bot.close()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=5)
