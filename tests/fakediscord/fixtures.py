"""Pytest fixtures for the fake Discord (a plugin module: register it in the root conftest).

A test that provokes a rule violation on purpose declares it with
``fake_discord.expect_violation(Kind.CONTENT_TOO_LONG)``; any other violation fails the test at
teardown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakediscord.client import pointed_at
from tests.fakediscord.driver import Driver
from tests.fakediscord.server import FakeDiscord


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    """A running fake Discord with discord.py pointed at it; unexpected violations fail the test."""
    fake = FakeDiscord()
    await fake.start()
    try:
        with pointed_at(fake.api_base, fake.gateway_url):
            yield fake
    finally:
        await fake.stop()
    fail_on_unexpected_violations(fake)


def fail_on_unexpected_violations(fake: FakeDiscord) -> None:
    """Fail the test if the fake recorded a violation the test did not declare as expected."""
    unexpected = fake.unexpected_violations()
    if unexpected:
        listing = "\n  ".join(str(v) for v in unexpected)
        pytest.fail(
            f"fake Discord recorded unexpected rule violations:\n  {listing}", pytrace=False
        )


@pytest.fixture
def discord_driver(fake_discord: FakeDiscord) -> Driver:
    """The driver acting as users of `fake_discord`."""
    return Driver(fake_discord)
