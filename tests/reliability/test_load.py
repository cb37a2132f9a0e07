"""Load with faults: 20 councils at once while 10% of model calls fail and Discord answers 429
to 5% of requests. Every council finishes, and no reply or vote is lost — in the store and in
what Discord shows."""

from __future__ import annotations

import asyncio
import random

from bot.council.models import GuildSettings, ReplyKind, ReplyStatus, SessionStatus, VoteValue
from bot.discord_ui.views import vote_custom_id
from tests.council.conftest import NAMES
from tests.fakediscord.rules import Kind
from tests.fakellm import Fault

SESSIONS = 20


async def test_twenty_councils_with_faults_all_finish_and_lose_nothing(harness):
    world, driver, fake, store = harness.world, harness.driver, harness.fake, harness.store
    await store.save_guild_settings(
        GuildSettings(
            guild_id=world.guild.id, pause_between_rounds_s=0, max_concurrent_sessions=SESSIONS
        )
    )
    for i, name in enumerate(NAMES):
        harness.llm.script(
            f"{name.lower()}-model",
            reply=f"{name} has a view on this.",
            first_token_delay_s=0.2,
            fault=Fault.http(500),
            fault_rate=0.1,
            fault_seed=i,
        )
    channels = [driver.create_text_channel(world.guild, f"room-{i}") for i in range(SESSIONS)]
    # Retries after a 429 are Discord's business, not a violation of its rules.
    fake.expect_violation(Kind.RATE_LIMITED)
    fake.force_429_randomly(0.05, seed=7, retry_after_s=0.05)
    starts = [
        await driver.slash(world.host, channel, "council start", topic=f"Topic {i}", rounds=2)
        for i, channel in enumerate(channels)
    ]
    await asyncio.gather(*(s.wait_ack(timeout=10) for s in starts))

    async def all_done() -> list | None:
        sessions = await store.list_sessions(guild_id=world.guild.id, limit=SESSIONS)
        for session in sessions:
            run = harness.bot.manager.run_for(session.id)
            if run is not None and run.is_paused:
                run.resume()  # a lost quorum: the host would resume it
        done = [s for s in sessions if s.summary_message_id]
        return sessions if len(sessions) == SESSIONS and len(done) == SESSIONS else None

    deadline = asyncio.get_running_loop().time() + 90
    while (sessions := await all_done()) is None:
        assert asyncio.get_running_loop().time() < deadline, "not every council finished"
        await asyncio.sleep(0.2)
    assert all(s.status is SessionStatus.FINISHED for s in sessions)
    # The faults really struck: model calls failed and Discord said 429.
    calls = len(harness.llm.requests)
    failures = [
        r for s in sessions for r in await store.replies(s.id) if r.status is ReplyStatus.FAILED
    ]
    assert 0.03 * calls < len(failures) < 0.2 * calls
    assert sum(e.status == 429 for e in fake.wire) > 0.02 * len(fake.wire)

    rng = random.Random(3)
    voters = [driver.create_member(world.guild, f"fan{i}") for i in range(10)]
    expected: dict[tuple[int, int], VoteValue] = {}
    clicks = []
    for session in sessions:
        thread = fake.world.channels[session.thread_id]
        answers = [
            r
            for r in await store.replies(session.id)
            if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
        ]
        shown = {m.id: m for m in driver.read(thread, as_user=world.bob)}
        for reply in answers:
            assert reply.message_ids[-1] in shown, f"reply {reply.id} is not in the thread"
            assert shown[reply.message_ids[-1]].content.startswith(reply.text[:20])
        for voter in rng.sample(voters, 3):
            reply = rng.choice(answers)
            value = rng.choice([VoteValue.UP, VoteValue.DOWN])
            expected[(voter.id, reply.id)] = value
            custom_id = vote_custom_id(reply.id, value)
            clicks.append((await driver.click(voter, reply.message_ids[-1], custom_id), reply))
    await asyncio.gather(*(click.wait_ack(timeout=10) for click, _ in clicks))

    votes = [v for s in sessions for v in await store.votes(s.id)]
    assert {(v.user_id, v.reply_id): v.value for v in votes} == expected

    def buttons_show_the_store() -> bool:
        for _, reply in clicks:
            thread = fake.world.channels[reply_threads[reply.id]]
            message = next(
                m for m in driver.read(thread, as_user=world.bob) if m.id == reply.message_ids[-1]
            )
            if [b.label for b in message.buttons] != labels[reply.id]:
                return False
        return True

    reply_threads = {r.id: s.thread_id for s in sessions for _, r in clicks if r.session_id == s.id}
    labels = {}
    for _, reply in clicks:
        up, down = await store.votes_for(reply.id)
        labels[reply.id] = [f"👍 {up}", f"👎 {down}"]
    await fake.wait_for(buttons_show_the_store, timeout=10, what="the counts on the buttons")
