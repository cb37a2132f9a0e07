"""Restart safety: votes survive, sessions resume, nothing is lost or counted twice."""

from __future__ import annotations

import asyncio

from discord.webhook.async_ import async_context as webhook_adapter

from bot.council.models import GuildSettings, ReplyKind, ReplyStatus, SessionStatus, VoteValue
from bot.discord_ui.views import vote_custom_id
from tests.council.conftest import NAMES
from tests.fakediscord.rules import Kind


async def test_a_restart_mid_session_keeps_votes_and_the_host_resumes_it(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=f"{name} opens.")
    # A pause between rounds leaves time to make round two hang before it starts.
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=3)
    )
    start = await driver.slash(
        world.host, world.general, "council start", topic="Restart", rounds=2
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    def round_one():
        done = [m for m in driver.read(thread, as_user=world.bob) if m.buttons]
        return done if len(done) == 4 else None

    first = next(
        m for m in await fake.wait_for(round_one, what="round one") if m.author_name == "Claude"
    )
    for name in NAMES:  # round two hangs until the restart
        harness.llm.script(f"{name.lower()}-model", reply="late", first_token_delay_s=30)
    reply = await harness.store.reply_for_message(first.id)
    vote = await driver.click(world.bob, first, vote_custom_id(reply.id, VoteValue.UP))
    await vote.wait_ack()

    await fake.wait_for(lambda: harness.llm.in_flight() == 4, what="round two to start")
    await harness.stop()
    # The new process can't know how much of the webhook's budget the old one spent, so its
    # first posts may meet a 429, which discord.py waits out.
    fake.expect_violation(Kind.RATE_LIMITED)
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=f"{name} resumes.")
    await harness.start()
    interrupted = await harness.store.get_session(session.id)
    assert interrupted.status is SessionStatus.PAUSED
    assert "restart" in interrupted.stop_reason

    # Old buttons still work after the restart: Bob switches, the host adds a vote.
    switch = await driver.click(world.bob, first, vote_custom_id(reply.id, VoteValue.DOWN))
    await switch.wait_ack()
    up = await driver.click(world.host, first, vote_custom_id(reply.id, VoteValue.UP))
    await up.wait_ack()
    assert await harness.store.votes_for(reply.id) == (1, 1)

    resume = await driver.slash(world.host, thread, "council resume")
    assert "Resuming at round 2" in (await resume.wait_response()).content
    ended = await harness.wait_ended()
    assert ended.status is SessionStatus.FINISHED
    answers = [
        r
        for r in await harness.store.replies(session.id)
        if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
    ]
    assert sorted((r.round_number, r.persona) for r in answers) == sorted(
        (n, name) for n in (1, 2) for name in NAMES
    )
    votes = await harness.store.votes(session.id)
    assert sorted((v.user_id, v.value) for v in votes) == sorted(
        [(world.bob.id, VoteValue.DOWN), (world.host.id, VoteValue.UP)]
    )

    def counts_shown():
        message = next(m for m in driver.read(thread, as_user=world.bob) if m.id == first.id)
        labels = [b.label for b in message.buttons]
        return labels if labels == ["👍 1", "👎 1"] else None

    assert await fake.wait_for(counts_shown, timeout=6, what="the vote counts on the buttons")


async def test_a_webhook_lock_an_earlier_client_left_held_does_not_stall_the_bot(harness):
    # discord.py keeps webhook locks in a process-wide adapter. A presenter cancelled at
    # shutdown while its lock's release was deferred leaves the lock held there, as here.
    world, driver = harness.world, harness.driver
    channel = harness.bot.get_channel(world.general.id)
    hook = await harness.bot.webhooks.get(channel)
    shared = webhook_adapter.get()._locks
    held = shared.setdefault((hook.id, hook.token), asyncio.Lock())
    await held.acquire()
    try:
        start = await driver.slash(
            world.host, world.general, "council start", topic="Unblocked", rounds=1
        )
        await start.wait_ack()
        session = await harness.wait_ended()
    finally:
        held.release()
    assert session.status is SessionStatus.FINISHED
    [thread] = driver.threads_of(world.general)
    final = [m for m in driver.read(thread, as_user=world.bob) if m.is_webhook]
    assert len(final) == 4
    assert all(m.buttons for m in final)
