"""The bot stopped (Ctrl-C, SIGTERM) just as a council ends: its summary and closing link still
go out within the grace period; what can't is one warning line, never a traceback."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from typing import Any

import pytest

from bot.council.models import SessionStatus
from bot.store.store import Store
from tests.bot_process import BotProcess, write_config
from tests.council.conftest import NAMES
from tests.fakediscord.state import Perm

MESSAGES = "/channels/{channel_id}/messages"


def _is_summary(body: Any) -> bool:
    """Whether a post is a council's summary (its embed shows the vote chart)."""
    embeds = body.get("embeds", []) if isinstance(body, dict) else []
    return any(e.get("image", {}).get("url") == "attachment://votes.png" for e in embeds)


async def _stop_while_the_summary_is_held(fake, driver, fake_llm, tmp_path, sig, env=None):
    """Run a one-round council; send `sig` while Discord holds its summary; return the bot,
    the hold, the parent channel, the host and the council's id once the bot is shutting
    down."""
    guild = driver.create_guild("Shutdown")
    general = driver.create_text_channel(guild, "general")
    host = driver.create_member(guild, "host", permissions=Perm.MANAGE_THREADS)
    write_config(tmp_path / "council.toml", fake_llm.base_url("openai"))
    for name in NAMES:
        fake_llm.script(f"{name.lower()}-model", reply=f"{name} has spoken.")
    bot = BotProcess(fake, guild.id, tmp_path, env=env)
    held = fake.hold("POST", MESSAGES, when=_is_summary)
    await bot.start()
    start = await driver.slash(host, general, "council start", topic="Stop now", rounds=1)
    await start.wait_ack(timeout=10)
    await asyncio.wait_for(held.arrived.wait(), 30)
    assert bot.process is not None
    bot.process.send_signal(sig)
    process = bot.process
    await fake.wait_for(
        lambda: process.returncode is not None or "shutting down" in bot.log_path.read_text(),
        timeout=10,
        what="the bot to start shutting down",
    )
    async with Store.open(tmp_path / "council.db") as store:
        [session] = await store.list_sessions(guild_id=guild.id, limit=1)
    return bot, held, general, host, session.id


async def _quiet_exit(bot: BotProcess, code: int) -> str:
    """Wait for the stopping bot to exit with `code`; return its log, which holds no error."""
    assert bot.process is not None
    try:
        exited = await asyncio.wait_for(bot.process.wait(), 20)
    except TimeoutError:
        raise AssertionError(f"the bot did not stop:\n{bot.log_tail()}") from None
    finally:
        await bot.stop()
    log = bot.log_path.read_text()
    assert exited == code, log
    assert "Traceback" not in log, log
    assert "AssertionError" not in log, log
    assert " ERROR " not in log, log
    return log


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 0)], ids=["ctrl-c", "sigterm"]
)
async def test_a_stop_as_a_council_ends_still_posts_its_summary_and_closing_link(
    fake_discord, discord_driver, fake_llm, tmp_path, sig, code
):
    bot, held, general, host, session_id = await _stop_while_the_summary_is_held(
        fake_discord, discord_driver, fake_llm, tmp_path, sig
    )
    held.release()
    log = await _quiet_exit(bot, code)

    closing = [m.content for m in discord_driver.read(general, as_user=host)]
    assert any(c.startswith(f"Council #{session_id} has ended: https://") for c in closing), log
    async with Store.open(tmp_path / "council.db") as store:
        stored = await store.get_session(session_id)
    assert stored.status is SessionStatus.FINISHED
    assert stored.summary_message_id is not None


async def test_a_closing_link_discord_holds_past_the_grace_period_is_one_warning_line(
    fake_discord, discord_driver, fake_llm, tmp_path
):
    bot, _, general, host, session_id = await _stop_while_the_summary_is_held(
        fake_discord,
        discord_driver,
        fake_llm,
        tmp_path,
        signal.SIGINT,
        env={"SHUTDOWN_GRACE_S": "0.2"},
    )
    log = await _quiet_exit(bot, 130)

    cut_off = [line for line in log.splitlines() if "closing link not posted" in line]
    assert len(cut_off) == 1, log
    assert re.search(
        rf"WARNING .*closing link not posted for council {session_id}: shutting down", cut_off[0]
    ), cut_off
    closing = [m.content for m in discord_driver.read(general, as_user=host)]
    assert not any("has ended" in c for c in closing)


async def test_a_council_running_at_a_stop_is_left_to_resume(
    fake_discord, discord_driver, fake_llm, tmp_path
):
    guild = discord_driver.create_guild("Interrupted")
    general = discord_driver.create_text_channel(guild, "general")
    host = discord_driver.create_member(guild, "host", permissions=Perm.MANAGE_THREADS)
    write_config(tmp_path / "council.toml", fake_llm.base_url("openai"))
    for name in NAMES:
        fake_llm.script(f"{name.lower()}-model", reply="never said", first_token_delay_s=60)
    bot = BotProcess(fake_discord, guild.id, tmp_path)
    try:
        await bot.start()
        start = await discord_driver.slash(host, general, "council start", topic="Hold", rounds=1)
        await start.wait_ack(timeout=10)
        await fake_discord.wait_for(
            lambda: fake_llm.in_flight() == len(NAMES), timeout=10, what="the round"
        )
        assert bot.process is not None
        bot.process.send_signal(signal.SIGINT)
        log = await _quiet_exit(bot, 130)
    finally:
        await bot.stop()

    assert "closing link not posted" not in log, log
    async with Store.open(tmp_path / "council.db") as store:
        [session] = await store.list_sessions(guild_id=guild.id, limit=1)
    # Left running in the store: the next process pauses it as interrupted.
    assert session.status is SessionStatus.RUNNING


async def test_a_council_asked_for_while_the_bot_shuts_down_is_refused_privately(harness, caplog):
    caplog.set_level(logging.INFO, logger="bot")
    world, driver, fake = harness.world, harness.driver, harness.fake
    held = fake.hold("POST", MESSAGES, when=_is_summary)
    start = await driver.slash(world.host, world.general, "council start", topic="One", rounds=1)
    await start.wait_ack()
    await asyncio.wait_for(held.arrived.wait(), 15)
    closing = asyncio.create_task(harness.bot.close())
    await fake.wait_for(lambda: "shutting down" in caplog.text, what="the shutdown to begin")

    other = driver.create_text_channel(world.guild, "other")
    late = await driver.slash(world.host, other, "council start", topic="Two", rounds=1)
    refusal = await late.wait_response()
    held.release()
    await closing

    assert refusal.content == "The bot is shutting down; try again once it is back."
    assert refusal.is_ephemeral
    assert driver.threads_of(other) == []
    assert any("has ended" in m.content for m in driver.read(world.general, as_user=world.bob))
