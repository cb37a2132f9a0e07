"""The fixture's teardown check: unexpected violations fail, expected ones do not."""

from __future__ import annotations

import discord.http
import pytest

from tests.fakediscord import FakeDiscord, Kind
from tests.fakediscord.fixtures import fail_on_unexpected_violations


def test_unexpected_violation_fails_the_test():
    fake = FakeDiscord()
    fake.record_violation(Kind.CONTENT_TOO_LONG, "content: 2001 chars")
    with pytest.raises(pytest.fail.Exception, match="content_too_long"):
        fail_on_unexpected_violations(fake)


def test_expected_violation_passes():
    fake = FakeDiscord()
    fake.expect_violation(Kind.CONTENT_TOO_LONG)
    fake.record_violation(Kind.CONTENT_TOO_LONG, "content: 2001 chars")
    fail_on_unexpected_violations(fake)


async def test_fake_exposes_urls_in_the_settings_form(fake_discord: FakeDiscord):
    assert fake_discord.api_base.startswith("http://127.0.0.1:")
    assert fake_discord.api_base.endswith("/api/v10")
    assert fake_discord.gateway_url.startswith("ws://127.0.0.1:")
    pointed_base = discord.http.Route.BASE
    assert pointed_base == fake_discord.api_base
