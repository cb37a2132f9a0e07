"""/council pause and /council resume through the fake Discord, as a host uses them."""

from __future__ import annotations

from bot.council.models import GuildSettings, SessionStatus
from tests.council.conftest import NAMES

NOTICE = "⏸️ **Paused.** Paused by host."


def _private(handle) -> str:
    [reply] = handle.responses
    assert reply.is_ephemeral
    return reply.content


async def _say(harness, user, thread, command: str) -> str:
    handle = await harness.driver.slash(user, thread, command)
    await handle.wait_response()
    return _private(handle)


def _notices(harness, thread) -> list[str]:
    seen = harness.driver.read(thread, as_user=harness.world.bob)
    return [m.content for m in seen if m.content.startswith("⏸️")]


async def _actions(harness, session_id: int) -> list[tuple[int | None, str]]:
    log = await harness.store.audit_log(harness.world.guild.id)
    return [(e.user_id, e.action) for e in reversed(log) if e.session_id == session_id]


async def _paused(harness, session, thread) -> None:
    """The council holds: paused in the store, the notice in the thread, round 2 not begun."""
    await harness.fake.wait_for(lambda: _notices(harness, thread), what="the paused notice")
    assert _notices(harness, thread) == [NOTICE]
    stored = await harness.store.get_session(session.id)
    assert stored.status is SessionStatus.PAUSED
    assert [r.number for r in await harness.store.rounds(session.id)] == [1]
    status = await _say(harness, harness.world.bob, thread, "council status")
    assert status.splitlines()[0] == f"**Council #{session.id}** — paused"
    assert "Paused: a host can `/council resume`." in status


async def test_a_host_pauses_mid_round_and_resumes_and_the_council_plays_on(harness):
    world, driver = harness.world, harness.driver
    # Claude's slow first answer holds round 1 open while the host pauses.
    harness.llm.script("claude-model", reply="An answer.", first_token_delay_s=2.0)
    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=2)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    paused = await _say(harness, world.host, thread, "council pause")
    pausing = await _say(harness, world.bob, thread, "council status")
    await _paused(harness, session, thread)
    assert len(harness.llm.requests) == len(NAMES)  # round 1 finished; nobody asked again
    again = await _say(harness, world.host, thread, "council pause")
    resumed = await _say(harness, world.host, thread, "council resume")
    ended = await harness.wait_ended()

    assert paused == (
        "Pausing before round 2: the round under way, if any, finishes first. "
        "`/council resume` continues the council."
    )
    assert pausing.splitlines()[0] == f"**Council #{session.id}** — running"
    assert "Pausing once this round ends: a host can `/council resume`." in pausing
    assert again.startswith(f"Council #{session.id} is already paused")
    assert resumed == "Resuming."
    assert ended.status is SessionStatus.FINISHED
    assert [r.number for r in await harness.store.rounds(session.id)] == [1, 2]
    assert await _actions(harness, session.id) == [
        (world.host.id, "session.start"),
        (world.host.id, "session.pause"),
        (world.host.id, "session.resume"),
    ]
    harness.fake.assert_no_pings()


async def test_a_pause_between_rounds_holds_at_once_and_resume_needs_no_next(harness):
    world, driver = harness.world, harness.driver
    # Hosts advance by hand: the council waits after round 1 for `/council next`.
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Bus", rounds=2)
    await start.wait_ack()
    session = await harness.wait_running()
    await harness.wait_round_finished(session.id, 1)
    [thread] = driver.threads_of(world.general)

    await _say(harness, world.host, thread, "council pause")
    await _paused(harness, session, thread)
    assert await _say(harness, world.host, thread, "council resume") == "Resuming."
    ended = await harness.wait_ended()

    assert ended.status is SessionStatus.FINISHED
    assert [r.number for r in await harness.store.rounds(session.id)] == [1, 2]


async def test_a_pause_asked_for_in_the_last_round_is_declined_and_the_council_ends(harness):
    world, driver = harness.world, harness.driver
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=0.5)
    start = await driver.slash(world.host, world.general, "council start", topic="Pie", rounds=1)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    reply = await _say(harness, world.host, thread, "council pause")
    ended = await harness.wait_ended()

    assert reply == (
        "Round 1 is the last: no round follows it to pause before, so the council ends after "
        "it. `/council next` adds a round; `/council end` goes to the summary now."
    )
    assert ended.status is SessionStatus.FINISHED
    assert _notices(harness, thread) == []
    assert await _actions(harness, session.id) == [(world.host.id, "session.start")]


async def test_only_hosts_can_pause(harness):
    world, driver = harness.world, harness.driver
    harness.llm.script("claude-model", reply="Slow.", first_token_delay_s=1.0)
    start = await driver.slash(world.host, world.general, "council start", topic="Jam", rounds=1)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    refused = await _say(harness, world.bob, thread, "council pause")
    ended = await harness.wait_ended()

    assert refused == "Only hosts can do that. Hosts are members with Manage Threads."
    assert ended.status is SessionStatus.FINISHED
    assert _notices(harness, thread) == []
    assert await _actions(harness, session.id) == [(world.host.id, "session.start")]
