"""A server's spending limits, as its members meet them through the fake Discord."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.council.models import SessionStatus
from tests.council.conftest import NAMES, make_config
from tests.fakediscord.state import Perm


async def test_the_daily_budget_stops_a_running_council_between_rounds(harness):
    world, driver = harness.world, harness.driver
    # A tenth of a cent per token: one round of four members costs far more than five cents.
    harness.config = make_config(harness.llm, prices=(1000.0, 1000.0), max_tokens=2000)
    await harness.stop()
    await harness.start()
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    settings = await driver.slash(
        admin, world.general, "council-admin settings", daily_budget_usd=0.05
    )
    assert "per day: $0.05" in (await settings.wait_response()).content

    start = await driver.slash(world.host, world.general, "council start", topic="Tea?", rounds=3)
    await start.wait_ack()
    session = await harness.wait_ended()

    spent = await harness.store.guild_spend_usd(
        world.guild.id, datetime.now(UTC) - timedelta(days=1)
    )
    reason = (
        f"Stopped: this server has used its daily budget (${spent:.2f} of $0.05 "
        "in the last 24 hours)."
    )
    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == reason
    assert [r.number for r in await harness.store.rounds(session.id)] == [1]
    assert len(harness.llm.requests) == len(NAMES)
    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    assert len([m for m in seen if m.is_webhook]) == len(NAMES)
    assert reason in seen[-1].embeds[0]["description"]
