"""A process of a sharded bot keeps to its share of the bot token's global REST limit."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx

from bot.app import CouncilBot
from bot.config import Settings
from bot.providers.registry import build_providers
from bot.sessions import SessionManager
from bot.store.store import Store
from tests.council.conftest import make_config
from tests.fakediscord import Driver, FakeDiscord
from tests.fakellm import FakeLLM

BURST = 8


def most_in_any_second(times: list[float]) -> int:
    """The most of `times` (seconds) that fall within one second of each other."""
    times = sorted(times)
    return max(sum(1 for t in times if start <= t < start + 1.0) for start in times)


@contextlib.asynccontextmanager
async def logged_in(
    fake: FakeDiscord, llm: FakeLLM, tmp_path, **settings: str
) -> AsyncIterator[CouncilBot]:
    """A council bot logged in to the fake (no gateway), configured by `settings`."""
    config = make_config(llm)
    async with Store.open(tmp_path / "council.db") as store, httpx.AsyncClient() as http:
        bot = CouncilBot(
            settings=Settings(discord_token=fake.token, **settings),
            config=config,
            store=store,
            manager=SessionManager(
                config=config, providers=build_providers(config, {}, http), store=store
            ),
        )
        async with bot:
            await bot.login(fake.token)
            yield bot


async def test_a_burst_of_requests_keeps_to_the_processes_share(
    fake_discord: FakeDiscord, discord_driver: Driver, fake_llm: FakeLLM, tmp_path
):
    guild = discord_driver.create_guild("Busy")
    async with logged_in(fake_discord, fake_llm, tmp_path, rest_share="5") as bot:
        await asyncio.gather(*(bot.fetch_guild(guild.id) for _ in range(BURST)))
    assert len(fake_discord.requests("GET", "/guilds/{guild_id}")) == BURST
    # Every request carried the bot token (the login's among them): all count.
    assert most_in_any_second([e.at_s for e in fake_discord.wire]) <= 5


async def test_without_a_share_an_unsharded_bot_may_use_the_whole_limit(
    fake_discord: FakeDiscord, discord_driver: Driver, fake_llm: FakeLLM, tmp_path
):
    guild = discord_driver.create_guild("Busy")
    async with logged_in(fake_discord, fake_llm, tmp_path) as bot:
        await asyncio.gather(*(bot.fetch_guild(guild.id) for _ in range(BURST)))
    assert most_in_any_second([e.at_s for e in fake_discord.wire]) > 5
