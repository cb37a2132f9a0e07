"""The real Council bot logged in to the fake Discord, models on the fake servers (fixtures)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bot.__main__ import EXTENSIONS
from bot.app import CouncilBot
from bot.config import CouncilConfig, Settings
from bot.council.models import GuildSettings, Session
from bot.council.screening import ModelCheck
from bot.metrics import Metrics
from bot.providers.moderation import build_moderation_model
from bot.providers.registry import build_providers
from bot.sessions import SessionManager
from bot.store.store import Store
from tests.council.conftest import NAMES, make_config
from tests.fakediscord import Driver, FakeDiscord
from tests.fakediscord.state import Channel, Guild, Perm, User
from tests.fakellm import FakeLLM


@dataclass
class World:
    """A server with #general, a host and an audience member."""

    guild: Guild
    general: Channel
    host: User
    bob: User


@pytest.fixture
def world(discord_driver: Driver) -> World:
    guild = discord_driver.create_guild("Council Guild")
    general = discord_driver.create_text_channel(guild, "general")
    host = discord_driver.create_member(guild, "host", permissions=Perm.MANAGE_THREADS)
    bob = discord_driver.create_member(guild, "bob")
    return World(guild, general, host, bob)


class Harness:
    """Starts, stops and restarts the bot against the fakes."""

    def __init__(
        self,
        fake: FakeDiscord,
        driver: Driver,
        llm: FakeLLM,
        world: World,
        db: Path,
        http: httpx.AsyncClient,
    ) -> None:
        self.fake = fake
        self.driver = driver
        self.llm = llm
        self.world = world
        self.db = db
        self.http = http
        self.config: CouncilConfig = make_config(llm, max_tokens=2000)
        self.bot: CouncilBot | None = None
        # One registry across restarts, as one `council-bot run` process keeps.
        self.metrics = Metrics()
        self._task: asyncio.Task[None] | None = None
        self._store_cm: contextlib.AbstractAsyncContextManager[Store] | None = None
        self.store: Store | None = None

    async def start(self) -> CouncilBot:
        self._store_cm = Store.open(self.db)
        self.store = await self._store_cm.__aenter__()
        await self.store.save_guild_settings(
            GuildSettings(guild_id=self.world.guild.id, pause_between_rounds_s=0)
        )
        settings = Settings(
            discord_token=self.fake.token,
            council_dev_guild_id=self.world.guild.id,
            discord_api_base=self.fake.api_base,
            discord_gateway_url=self.fake.gateway_url,
        )
        manager = SessionManager(
            config=self.config,
            providers=build_providers(self.config, {}, self.http),
            store=self.store,
            moderation=ModelCheck.configured(
                self.config.moderation, build_moderation_model(self.config, {}, self.http)
            ),
            watcher=self.metrics.watch(),
        )
        self.metrics.count_councils(manager.running)
        bot = CouncilBot(
            settings=settings,
            config=self.config,
            store=self.store,
            manager=manager,
            extensions=EXTENSIONS,
            metrics=self.metrics,
            guild_ready_timeout=0.05,
        )
        self.bot = bot
        self._task = asyncio.create_task(bot.start(self.fake.token))
        await self.fake.wait_for(
            lambda: bot.is_ready() or self._task.done(), timeout=10, what="the bot to be ready"
        )
        if self._task.done():
            self._task.result()
        return bot

    async def stop(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(self._task, timeout=5)
        if self._store_cm is not None:
            await self._store_cm.__aexit__(None, None, None)
        self.bot = None
        self._task = None

    async def session(self) -> Session:
        sessions = await self.store.list_sessions(guild_id=self.world.guild.id, limit=1)
        return sessions[0]

    async def wait_running(self, timeout: float = 5.0) -> Session:
        """Wait until the newest session is live in the bot."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            sessions = await self.store.list_sessions(guild_id=self.world.guild.id, limit=1)
            if sessions and self.bot.manager.run_for(sessions[0].id) is not None:
                return sessions[0]
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("no council started")
            await asyncio.sleep(0.02)

    async def wait_round_finished(self, session_id: int, number: int, timeout: float = 5.0) -> None:
        """Wait until the engine has finished a round (the thread may still be catching up)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            rounds = await self.store.rounds(session_id)
            if any(r.number == number and r.finished_at for r in rounds):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"round {number} never finished")
            await asyncio.sleep(0.02)

    async def wait_ended(self, timeout: float = 15.0, *, after: int = 0) -> Session:
        """Wait for the newest session (newer than session id `after`) to post its summary."""

        async def ended() -> Session | None:
            sessions = await self.store.list_sessions(guild_id=self.world.guild.id, limit=1)
            if sessions and sessions[0].id > after and sessions[0].summary_message_id:
                return sessions[0]
            return None

        deadline = asyncio.get_running_loop().time() + timeout
        while (found := await ended()) is None:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("the council never posted its summary")
            await asyncio.sleep(0.05)
        return found


@pytest.fixture
async def harness(
    fake_discord, discord_driver, fake_llm, world, tmp_path
) -> AsyncIterator[Harness]:
    async with httpx.AsyncClient() as http:
        h = Harness(fake_discord, discord_driver, fake_llm, world, tmp_path / "council.db", http)
        for name in NAMES:
            fake_llm.script(f"{name.lower()}-model", reply=f"{name} thinks carefully. " * 3)
        await h.start()
        try:
            yield h
        finally:
            await h.stop()
