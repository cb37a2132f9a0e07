"""A guild-wide halt: from /council-admin, and from the operator's shell while the bot runs."""

from __future__ import annotations

import asyncio

from bot.council.models import NewSession, SessionStatus
from tests.cli import database_command
from tests.council.conftest import NAMES
from tests.fakediscord.state import Perm

HALTED = (
    "Councils are halted in this server ({reason}): none can start, convene or resume until "
    "a manager runs `/council-admin resume-all`."
)


def _slow(harness) -> None:
    """Every model streams for many seconds, so both councils are mid-reply when halted."""
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 300, tokens_per_s=30)


async def _streaming(harness, channel):
    """Start a council in `channel` and wait until its thread shows streamed words."""
    world, driver = harness.world, harness.driver
    start = await driver.slash(world.host, channel, "council start", topic="Trams", rounds=3)
    await start.wait_ack()
    [thread] = await harness.fake.wait_for(
        lambda: driver.threads_of(channel), what="the council's thread"
    )
    await harness.fake.wait_for(
        lambda: any("word" in m.content for m in driver.read(thread, as_user=world.bob)),
        what="streamed text",
    )
    return await harness.store.session_for_thread(thread.id), thread


async def _ended(harness, session_id: int, timeout: float = 10.0):
    """Wait until the council has posted its summary."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        session = await harness.store.get_session(session_id)
        if session.summary_message_id:
            return session
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"council #{session_id} never posted its summary")
        await asyncio.sleep(0.05)


async def _private(harness, user, channel, command: str, **options) -> str:
    handle = await harness.driver.slash(user, channel, command, **options)
    reply = await handle.wait_response()
    assert reply.is_ephemeral
    return reply.content


async def _actions(harness) -> list[tuple[int | None, str, int | None, str]]:
    log = await harness.store.audit_log(harness.world.guild.id)
    return [(e.user_id, e.action, e.session_id, e.detail) for e in reversed(log)]


async def test_a_halt_stops_the_councils_of_every_channel_and_refuses_new_ones_until_resumed(
    harness,
):
    world, driver = harness.world, harness.driver
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    second = driver.create_text_channel(world.guild, "second")
    _slow(harness)
    first, first_thread = await _streaming(harness, world.general)
    other, other_thread = await _streaming(harness, second)

    halted = await _private(harness, admin, world.general, "council-admin halt", reason="Spam wave")
    stopped = [await _ended(harness, first.id), await _ended(harness, other.id)]
    assert await harness.llm.wait_idle(2.0)
    cut_off = list(harness.llm.requests)
    refused = await _private(harness, world.host, world.general, "council start", topic="Buses")
    resumed = await _private(harness, admin, world.general, "council-admin resume-all")
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Quick.")
    start = await driver.slash(world.host, world.general, "council start", topic="Bus", rounds=1)
    await start.wait_ack()
    after = await harness.wait_ended(after=other.id)

    assert halted == (
        "Halted: 2 councils stopped. No council can start, convene or resume in this server "
        "until `/council-admin resume-all`."
    )
    reason = "Halted across the server by admin: Spam wave"
    assert [s.status for s in stopped] == [SessionStatus.STOPPED] * 2
    assert [s.stop_reason for s in stopped] == [reason] * 2
    for thread in (first_thread, other_thread):
        summary = driver.read(thread, as_user=world.bob)[-1]
        assert f"⚠️ {reason}" in summary.embeds[0]["description"]
    # Every model call of both councils was cut off mid-stream.
    assert len(cut_off) == 2 * len(NAMES)
    assert all(r.disconnected for r in cut_off)
    assert refused == HALTED.format(reason="Spam wave")
    assert resumed == (
        "Councils may start in this server again. Those the halt stopped stay stopped."
    )
    assert after.status is SessionStatus.FINISHED
    assert [a for a in await _actions(harness) if a[1] != "session.start"] == [
        (admin.id, "guild.halt", None, "Spam wave"),
        (admin.id, "session.stop", first.id, "halt"),
        (admin.id, "session.stop", other.id, "halt"),
        (admin.id, "guild.resume", None, ""),
    ]
    harness.fake.assert_no_pings()


async def test_a_halted_server_refuses_convening_resuming_and_starting_in_each_members_language(
    harness,
):
    world, driver = harness.world, harness.driver
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    ru = driver.create_member(world.guild, "ivan", permissions=Perm.MANAGE_THREADS, locale="ru")
    created = await driver.slash(
        world.host, world.general, "council create", name="Board", members="Claude,Gemini"
    )
    await created.wait_response()
    # A council a restart interrupted: paused in the store, not running.
    thread = driver.create_thread(world.general, "Interrupted", owner=world.host)
    paused = await harness.store.create_session(
        NewSession(
            topic="Old", guild_id=world.guild.id, channel_id=world.general.id, thread_id=thread.id
        )
    )
    await harness.store.set_session_status(paused.id, SessionStatus.PAUSED, "interrupted")

    quiet = await _private(harness, admin, world.general, "council-admin halt")
    convene = await _private(
        harness, world.host, world.general, "council convene", name="Board", topic="Tea"
    )
    in_russian = await _private(harness, ru, world.general, "council start", topic="Чай")
    resume = await _private(harness, world.host, thread, "council resume")
    posted = driver.read(world.general, as_user=world.bob)
    lifted = await _private(harness, admin, world.general, "council-admin resume-all")
    again = await _private(harness, admin, world.general, "council-admin resume-all")

    assert quiet.startswith("Halted: 0 councils stopped.")
    assert convene == (
        "Councils are halted in this server: none can start, convene or resume until a "
        "manager runs `/council-admin resume-all`."
    )
    assert in_russian.startswith("Советы на этом сервере остановлены: ")
    assert resume == convene
    assert (await harness.store.get_session(paused.id)).status is SessionStatus.PAUSED
    assert posted == []
    assert lifted.startswith("Councils may start in this server again.")
    assert again == "Councils aren't halted in this server."
    assert await harness.store.count_sessions() == 1


async def test_the_operators_shell_halts_a_running_bots_councils_within_seconds(harness, tmp_path):
    world, driver = harness.world, harness.driver
    guild = str(world.guild.id)
    _slow(harness)
    session, thread = await _streaming(harness, world.general)

    halt = await asyncio.to_thread(
        database_command, tmp_path, harness.db, "halt", "--guild", guild, "--reason", "Raid"
    )
    halted_at = asyncio.get_running_loop().time()
    stopped = await _ended(harness, session.id, timeout=5.0)
    took = asyncio.get_running_loop().time() - halted_at
    refused = await _private(harness, world.host, world.general, "council start", topic="Buses")
    resume = await asyncio.to_thread(
        database_command, tmp_path, harness.db, "resume-all", "--guild", guild
    )
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Quick.")
    start = await driver.slash(world.host, world.general, "council start", topic="Bus", rounds=1)
    await start.wait_ack()
    after = await harness.wait_ended(after=session.id)

    assert halt.returncode == 0, halt.stderr.decode()
    assert halt.stdout.decode().startswith(f"Halted every council in server {guild}")
    assert took < 4.0
    assert stopped.status is SessionStatus.STOPPED
    assert stopped.stop_reason == "Halted across the server by the operator: Raid"
    assert (
        "Halted across the server by the operator: Raid"
        in (driver.read(thread, as_user=world.bob)[-1].embeds[0]["description"])
    )
    assert all(r.disconnected for r in harness.llm.requests[: len(NAMES)])
    assert len(harness.llm.requests) > len(NAMES)  # the council after resume-all
    assert refused == HALTED.format(reason="Raid")
    assert resume.returncode == 0, resume.stderr.decode()
    assert resume.stdout.decode() == f"Councils may start in server {guild} again.\n"
    assert after.status is SessionStatus.FINISHED
    assert [a for a in await _actions(harness) if a[1] != "session.start"] == [
        (None, "guild.halt", None, "operator (council-bot halt): Raid"),
        (None, "session.stop", session.id, "halt"),
        (None, "guild.resume", None, "operator (council-bot resume-all)"),
    ]
