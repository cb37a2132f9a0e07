"""Fixtures shared across the test tree."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakellm import FakeLLM

# The fake Discord's fixtures (fake_discord, discord_driver), the bot harness (world, harness)
# and the throwaway PostgreSQL server (pg, pg_url) for every test.
pytest_plugins = ["tests.fakediscord.fixtures", "tests.bot_harness", "tests.pg"]


@pytest.fixture
async def fake_llm() -> AsyncIterator[FakeLLM]:
    """A fake model server on a free local port, for this test only."""
    async with FakeLLM() as fake:
        yield fake
