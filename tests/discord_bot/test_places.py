"""Where a council can meet: a forum post, an existing thread; and losing its thread."""

from __future__ import annotations

import asyncio
import os
import sys

from bot.council.models import SessionStatus
from tests.council.conftest import NAMES


async def test_a_council_started_for_a_forum_becomes_a_forum_post(harness):
    world, driver = harness.world, harness.driver
    forum = driver.create_forum_channel(world.guild, "debates")
    start = await driver.slash(
        world.host, world.general, "council start", topic="Forum topic", rounds=1, in_channel=forum
    )
    await start.wait_ack()
    session = await harness.wait_ended()
    [post] = driver.threads_of(forum)
    assert post.name == "Forum topic"
    assert session.thread_id == post.id
    seen = driver.read(post, as_user=world.bob)
    assert seen[0].embeds[0]["title"].endswith("Forum topic")
    assert {m.author_name for m in seen if m.is_webhook} == set(NAMES)
    assert f"<#{post.id}>" in (await start.wait_response()).content


async def test_a_council_started_inside_a_thread_runs_in_that_thread(harness):
    world, driver = harness.world, harness.driver
    thread = driver.create_thread(world.general, "ongoing chat", owner=world.host)
    start = await driver.slash(world.host, thread, "council start", topic="In here", rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()
    assert session.thread_id == thread.id
    assert driver.threads_of(world.general) == [thread]
    seen = driver.read(thread, as_user=world.bob)
    assert seen[0].embeds[0]["title"].endswith("In here")
    personas = [m for m in seen if m.is_webhook and m.buttons]
    assert sorted(m.author_name for m in personas) == sorted(NAMES)
    assert seen[-1].embeds[0]["title"] == f"Council #{session.id}: summary"


async def test_deleting_the_thread_stops_the_council_with_a_note_in_the_channel(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 100, tokens_per_s=40)
    start = await driver.slash(world.host, world.general, "council start", topic="Gone", rounds=3)
    await start.wait_ack()
    await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    await fake.wait_for(
        lambda: any("word" in m.content for m in driver.read(thread, as_user=world.host)),
        what="streaming",
    )
    fake.expect_violation("unknown_channel", "unknown_message")
    driver.delete_channel(thread)
    notes = await fake.wait_for(
        lambda: [
            m for m in driver.read(world.general, as_user=world.bob) if "stopped" in m.content
        ],
        what="the note in the channel",
    )
    assert "its thread is gone" in notes[0].content
    for _ in range(100):
        session = await harness.store.get_session((await harness.session()).id)
        if session.status.is_final:
            break
        await asyncio.sleep(0.05)
    assert session.status is SessionStatus.STOPPED
    assert "thread" in session.stop_reason


async def test_status_shows_the_round_speakers_spend_and_questions(harness):
    world, driver = harness.world, harness.driver
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Slowly.", first_token_delay_s=2)
    start = await driver.slash(world.host, world.general, "council start", topic="Status", rounds=1)
    await start.wait_ack()
    await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    ask = await driver.slash(world.bob, thread, "council ask", question="Why?")
    await ask.wait_response()
    status = await driver.slash(world.bob, thread, "council status")
    text = (await status.wait_response()).content
    assert "Round 1 of 1" in text
    assert "Speaking: Claude, DeepSeek, Gemini, Llama" in text
    assert "Questions waiting: 1" in text
    assert status.responses[0].is_ephemeral
    await harness.wait_ended()


async def test_the_sync_command_registers_the_slash_commands_in_a_guild(
    fake_discord, discord_driver, tmp_path
):
    guild = discord_driver.create_guild("Fresh")
    config = tmp_path / "council.toml"
    config.write_text(
        '[providers.local]\nkind = "openai"\nbase_url = "http://127.0.0.1:9/v1"\n'
        '[models.m]\nprovider = "local"\nmodel = "m"\n'
        '[[personas]]\nname = "A"\nmodel = "m"\n[[personas]]\nname = "B"\nmodel = "m"\n'
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    env.update(
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        COUNCIL_CONFIG=str(config),
        COUNCIL_DB=str(tmp_path / "council.db"),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sync",
        "--guild",
        str(guild.id),
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert "Synced 4 commands to guild" in out.decode()
    names = {c.name for c in fake_discord.world.commands.values() if c.guild_id == guild.id}
    assert names == {"council", "persona", "council-admin", "About this reply"}
