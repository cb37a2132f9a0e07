"""A server's spending limits, as its members meet them through the fake Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.council.models import GuildSettings, SessionStatus
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


async def _limit_one(harness) -> None:
    await harness.store.save_guild_settings(
        GuildSettings(
            guild_id=harness.world.guild.id, pause_between_rounds_s=0, max_concurrent_sessions=1
        )
    )


def _slow(harness, delay_s: float = 1.0) -> None:
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Slowly.", first_token_delay_s=delay_s)


async def test_two_starts_in_two_channels_at_once_cannot_pass_the_guilds_limit(harness):
    world, driver = harness.world, harness.driver
    await _limit_one(harness)
    _slow(harness)
    other = driver.create_text_channel(world.guild, "other")
    starts = await asyncio.gather(
        driver.slash(world.host, world.general, "council start", topic="One", rounds=1),
        driver.slash(world.host, other, "council start", topic="Two", rounds=1),
    )
    answers = [(await s.wait_response(timeout=10)).content for s in starts]

    assert len(driver.threads_of(world.general) + driver.threads_of(other)) == 1
    assert sum("meets in" in a for a in answers) == 1
    assert sum("already runs 1 council, its limit" in a for a in answers) == 1
    assert len(await harness.store.list_sessions(guild_id=world.guild.id, limit=5)) == 1
    await harness.wait_ended()


async def test_a_council_resumed_or_ended_after_a_restart_counts_against_the_limit(harness):
    world, driver = harness.world, harness.driver
    await _limit_one(harness)
    _slow(harness, delay_s=30)
    start = await driver.slash(world.host, world.general, "council start", topic="Old", rounds=1)
    await start.wait_ack()
    old = await harness.wait_running()
    [old_thread] = driver.threads_of(world.general)
    await harness.fake.wait_for(lambda: harness.llm.in_flight() == 4, what="the round")
    await harness.stop()
    await harness.start()  # the old council is now paused: interrupted by the restart
    await _limit_one(harness)
    other = driver.create_text_channel(world.guild, "other")
    new = await driver.slash(world.host, other, "council start", topic="New", rounds=1)
    assert "meets in" in (await new.wait_response(timeout=10)).content

    for command in ("council resume", "council end"):
        refused = await driver.slash(world.host, old_thread, command)
        text = (await refused.wait_response()).content
        assert "already runs 1 council" in text
        assert f"Council #{old.id} can resume when one of them ends" in text
    assert (await harness.store.get_session(old.id)).status is SessionStatus.PAUSED
    assert harness.bot.manager.run_for(old.id) is None


async def test_two_stops_at_once_record_the_first_and_free_the_channel(harness):
    world, driver = harness.world, harness.driver
    _slow(harness, delay_s=30)
    other_host = driver.create_member(world.guild, "cohost", permissions=Perm.MANAGE_THREADS)
    start = await driver.slash(world.host, world.general, "council start", topic="Stop", rounds=1)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    stops = await asyncio.gather(
        driver.slash(world.host, thread, "council stop"),
        driver.slash(other_host, thread, "council stop"),
    )
    for stop in stops:
        assert (await stop.wait_response()).content == "Stopped."
    ended = await harness.wait_ended()

    assert ended.id == session.id
    assert ended.status is SessionStatus.STOPPED
    assert ended.stop_reason == "Stopped by host."
    _slow(harness, delay_s=0)
    again = await driver.slash(world.host, world.general, "council start", topic="Again", rounds=1)
    assert "meets in" in (await again.wait_response(timeout=10)).content
