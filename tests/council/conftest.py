"""Fixtures for engine tests: a config pointing at the fake model server, a real store."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from bot.config import CouncilConfig, parse_config
from bot.council.engine import SessionRun
from bot.council.events import Event, MemberStarted, RoundFinished, TextDelta
from bot.council.spec import build_spec, spec_from_record
from bot.providers.registry import build_providers
from bot.store.store import Store
from tests.fakellm import FakeLLM

NAMES = ("Claude", "DeepSeek", "Gemini", "Llama")


class RecordingPresenter:
    """Keeps every event, and lets a test react to one as it arrives."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self.on_event: Callable[[Event], object] | None = None

    async def handle(self, event: Event) -> None:
        self.events.append(event)
        if self.on_event is not None:
            result = self.on_event(event)
            if hasattr(result, "__await__"):
                await result  # type: ignore[misc]

    def of(self, kind: type) -> list:
        return [e for e in self.events if isinstance(e, kind)]

    def started_names(self) -> list[str]:
        return [e.turn.persona for e in self.of(MemberStarted)]

    def deltas_for(self, persona: str) -> list[str]:
        return [e.text for e in self.of(TextDelta) if e.turn.persona == persona]


def make_config(
    fake: FakeLLM, *, prices: tuple[float, float] = (0.0, 0.0), max_tokens: int = 200
) -> CouncilConfig:
    """Four personas, one model each, on the fake's OpenAI-compatible endpoint."""
    raw = {
        "providers": {
            "local": {
                "kind": "openai",
                "base_url": fake.base_url("openai"),
                "max_retries": 0,
                "timeout_s": 30,
                "max_concurrency": 8,
            }
        },
        "models": {
            name.lower(): {
                "provider": "local",
                "model": f"{name.lower()}-model",
                "max_tokens": max_tokens,
                "price_in_per_mtok": prices[0],
                "price_out_per_mtok": prices[1],
            }
            for name in NAMES
        },
        "personas": [
            {
                "name": name,
                "model": name.lower(),
                "style": f"Style number {i}.",
                "avatar_url": f"https://example.org/{name.lower()}.png",
            }
            for i, name in enumerate(NAMES)
        ],
        "presets": {
            "default": {"members": list(NAMES), "format": "parallel", "rounds": 2},
            "chaired": {"members": list(NAMES), "chair": "Claude", "format": "chaired"},
        },
    }
    return parse_config(raw, "council.toml", {})


@pytest.fixture
async def store(tmp_path) -> AsyncIterator[Store]:
    async with Store.open(tmp_path / "council.db") as opened:
        yield opened


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


class Council:
    """Builds and runs sessions against the fake server for one test."""

    def __init__(self, fake: FakeLLM, store: Store, http: httpx.AsyncClient) -> None:
        self.fake = fake
        self.store = store
        self.http = http
        self.presenter = RecordingPresenter()
        self.prices = (0.0, 0.0)

    @property
    def config(self) -> CouncilConfig:
        return make_config(self.fake, prices=self.prices)

    async def open(self, topic: str = "Should cities ban cars?", **options) -> SessionRun:
        config = self.config
        spec = build_spec(config, topic, **options)
        return await SessionRun.open(
            spec,
            config=config,
            providers=build_providers(config, {}, self.http),
            store=self.store,
            presenter=self.presenter,
            rng=random.Random(7),
        )

    async def kill_after_round(self, run: SessionRun, number: int) -> None:
        """Run `run` and cancel it, as a dying process would, once round `number` is over."""
        task = asyncio.create_task(run.run())
        self.presenter.on_event = lambda e: (
            task.cancel() if isinstance(e, RoundFinished) and e.number == number else None
        )
        await asyncio.gather(task, return_exceptions=True)

    async def restore(self, session_id: int, **spec_options) -> SessionRun:
        """Rebuild a session from the store, as the bot does after a restart."""
        record = await self.store.session_record(session_id)
        config = self.config
        return SessionRun.restore(
            record,
            spec_from_record(config, record, **spec_options),
            config=config,
            providers=build_providers(config, {}, self.http),
            store=self.store,
            presenter=self.presenter,
        )

    def script_all(self, **script) -> None:
        for name in NAMES:
            self.fake.script(f"{name.lower()}-model", **script)

    def requests(self, persona: str):
        return self.fake.requests_for(f"{persona.lower()}-model")


@pytest.fixture
def council(fake_llm: FakeLLM, store: Store, http: httpx.AsyncClient) -> Council:
    return Council(fake_llm, store, http)
