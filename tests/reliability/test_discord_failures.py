"""Discord refusing what the bot sends: a council is never left running where nobody sees it.

Each test injects one failure in the fake Discord and checks what the thread shows, what the
host is told, and what the store holds. Classification: `bot/discord_ui/failures.py`.
"""

from __future__ import annotations

import asyncio

from bot.council.models import ReplyKind, ReplyStatus, SessionStatus
from tests.council.conftest import NAMES
from tests.fakediscord.rules import Kind
from tests.fakediscord.state import Perm

EXECUTE = "/webhooks/{webhook_id}/{webhook_token}"
EDIT = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
MESSAGES = "/channels/{channel_id}/messages"
MESSAGE = "/channels/{channel_id}/messages/{message_id}"


def _has_buttons(body) -> bool:
    """A final reply: the only persona messages that carry vote buttons."""
    return bool(body and body.get("components"))


def _is_summary(body) -> bool:
    return bool(body) and any(
        (e.get("title") or "").endswith(": summary") for e in body.get("embeds") or []
    )


async def _start(harness, topic: str, rounds: int = 1):
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic=topic, rounds=rounds
    )
    await start.wait_ack()
    session = await harness.wait_running()
    return session, driver.threads_of(world.general)[0]


async def _answers(harness, session_id: int):
    return [
        r
        for r in await harness.store.replies(session_id)
        if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
    ]


async def test_a_refused_final_edit_leaves_a_note_in_its_place_and_the_summary_counts_it(
    harness,
):
    fake, driver, world = harness.fake, harness.driver, harness.world
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=f"{name} says " + "word " * 30)
    # Discord refuses one final reply outright (400 50035 Invalid Form Body).
    fake.force_status("PATCH", EDIT, 400, code=50035, when=_has_buttons)
    session, thread = await _start(harness, "Refused")
    ended = await harness.wait_ended()

    assert ended.status is SessionStatus.FINISHED
    answers = await _answers(harness, session.id)
    assert len(answers) == 4  # every reply is stored, the refused one too
    unshown = [r for r in answers if not r.message_ids]
    assert len(unshown) == 1
    seen = driver.read(thread, as_user=world.bob)
    notes = [m for m in seen if "could not be shown here" in m.content]
    assert len(notes) == 1
    assert unshown[0].persona in notes[0].content
    shown = {m.id: m for m in seen}
    for reply in answers:
        if reply.message_ids:
            assert shown[reply.message_ids[-1]].buttons
    summary = shown[ended.summary_message_id].embeds[0]
    assert "1 reply could not be shown in the thread" in summary["description"]
    assert unshown[0].persona in summary["description"]


async def test_a_refused_streaming_edit_is_passed_over_and_the_council_finishes(harness):
    fake = harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 60, tokens_per_s=20)
    # The first streaming edit (no buttons yet) is refused.
    refused = fake.force_status(
        "PATCH", EDIT, 400, code=50035, when=lambda body: not _has_buttons(body)
    )
    session, thread = await _start(harness, "Streaming")
    ended = await harness.wait_ended()

    assert refused.used == 1
    assert ended.status is SessionStatus.FINISHED
    shown = {m.id: m for m in harness.driver.read(thread, as_user=harness.world.bob)}
    for reply in await _answers(harness, session.id):
        assert reply.message_ids
        assert shown[reply.message_ids[-1]].content.startswith("word")
        assert shown[reply.message_ids[-1]].buttons


async def test_a_5xx_outlasting_discord_py_retries_loses_only_that_post(harness):
    fake = harness.fake
    # 503 on the bot's posts is not retried by discord.py (it retries 500/502/504/524): the
    # round header fails three times, the bot's own tries included, and is given up.
    failing = fake.force_status(
        "POST", MESSAGES, 503, times=3, when=lambda body: "Round 1" in str(body)
    )
    _, thread = await _start(harness, "Outage")
    ended = await harness.wait_ended(timeout=30)

    assert failing.used == 3
    assert ended.status is SessionStatus.FINISHED
    seen = harness.driver.read(thread, as_user=harness.world.bob)
    assert not any("Round 1" in m.content for m in seen)
    assert len([m for m in seen if m.buttons]) == 4


async def test_a_final_post_that_fails_twice_with_a_5xx_is_sent_again_and_shown(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    driver.revoke(world.guild, Perm.MANAGE_WEBHOOKS)
    fake.expect_violation(Kind.MISSING_PERMISSIONS)
    # Without a webhook the bot edits its own messages; two 503s on a final reply's edit.
    failing = fake.force_status("PATCH", MESSAGE, 503, times=2, when=_has_buttons)
    session, thread = await _start(harness, "Retry")
    ended = await harness.wait_ended(timeout=30)

    assert failing.used == 2
    assert ended.status is SessionStatus.FINISHED
    shown = {m.id: m for m in driver.read(thread, as_user=world.bob)}
    for reply in await _answers(harness, session.id):
        assert shown[reply.message_ids[-1]].buttons


async def test_a_summary_that_cannot_be_posted_leaves_the_transcript_and_tells_the_host(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Answer.", first_token_delay_s=0.3)
    failing = fake.force_status("POST", MESSAGES, 503, times=10, when=_is_summary)
    session, _ = await _start(harness, "Quiet ending")

    note = await fake.wait_for(
        lambda: [
            m for m in driver.read(world.general, as_user=world.host) if "summary" in m.content
        ],
        timeout=30,
        what="the host told about the summary",
    )
    assert failing.used == 3
    assert f"/council export session:{session.id}" in note[0].content
    assert f"<@{world.host.id}>" in note[0].content
    stored = await harness.store.get_session(session.id)
    assert stored.status is SessionStatus.FINISHED
    assert stored.summary_message_id is None
    export = await driver.slash(world.host, world.general, "council export", session=session.id)
    await export.wait_response()
    assert any(name.endswith(".md") for m in export.responses for name in m.attachments)
    fake.assert_no_pings()


async def test_a_full_webhook_list_moves_posting_to_the_bot_and_tells_the_host_once(harness):
    world, driver = harness.world, harness.driver
    for number in range(15):
        driver.create_webhook(world.general, f"Other {number}", by=world.host)
    harness.fake.expect_violation(Kind.TOO_MANY_WEBHOOKS)
    _, thread = await _start(harness, "Crowded")
    await harness.wait_ended()

    seen = driver.read(thread, as_user=world.bob)
    replies = [m for m in seen if m.embeds and m.embeds[0].get("author")]
    assert {m.embeds[0]["author"]["name"] for m in replies} == set(NAMES)
    assert all(m.buttons for m in replies)
    assert all(not m.is_webhook for m in seen)
    notes = [m for m in seen if "15 webhooks" in m.content]
    assert len(notes) == 1
    assert "Integrations" in notes[0].content


async def test_a_thread_the_bot_can_no_longer_post_in_interrupts_the_council_until_resumed(
    harness,
):
    world, driver, fake, llm = harness.world, harness.driver, harness.fake, harness.llm
    for name in NAMES:
        llm.script(f"{name.lower()}-model", reply="word " * 40, tokens_per_s=20)
    fake.expect_violation(Kind.MISSING_PERMISSIONS, Kind.UNKNOWN_WEBHOOK)
    session, thread = await _start(harness, "Locked out", rounds=2)
    [hook] = await fake.wait_for(lambda: driver.webhooks_of(world.general), what="the webhook")
    await fake.wait_for(
        lambda: any("word" in m.content for m in driver.read(thread, as_user=world.bob)),
        what="streaming",
    )
    # A moderator removes the bot's webhook and its right to post anywhere: nothing can show
    # the council any more.
    roles = [world.guild.roles[world.guild.id], fake.bot_role(world.guild)]
    before = [role.permissions for role in roles]
    driver.delete_webhook(hook.id)
    for perm in (Perm.MANAGE_WEBHOOKS, Perm.SEND_MESSAGES_IN_THREADS, Perm.SEND_MESSAGES):
        driver.revoke(world.guild, perm)

    paused = await _wait_status(harness, session.id, SessionStatus.PAUSED)
    assert paused.stop_reason.startswith("Interrupted:")
    assert harness.bot.manager.run_for(session.id) is None
    calls = len(llm.requests)
    stopped = [r for r in await harness.store.replies(session.id) if r.error_kind == "stopped"]
    assert stopped  # the models still speaking were cancelled
    await asyncio.sleep(0.5)
    assert len(llm.requests) == calls  # nothing more is spent

    # The bot could not say so in the channel: the host hears it with their next command.
    status = await driver.slash(world.host, thread, "council status")
    await status.wait_responses(2)
    told = " ".join(m.content for m in status.responses)
    assert f"Council #{session.id} is paused" in told
    assert "/council resume" in told
    assert (await harness.store.audit_log(world.guild.id))[0].action == "session.interrupt"

    for role, permissions in zip(roles, before, strict=True):
        driver.set_role_permissions(world.guild, role, permissions)
    resume = await driver.slash(world.host, thread, "council resume")
    await resume.wait_response()
    ended = await harness.wait_ended(timeout=30)
    assert ended.id == session.id
    assert ended.status is SessionStatus.FINISHED
    assert len(await _answers(harness, session.id)) == 8


async def _wait_status(harness, session_id: int, status: SessionStatus, timeout: float = 15.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        stored = await harness.store.get_session(session_id)
        if stored.status is status and harness.bot.manager.run_for(session_id) is None:
            return stored
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"session {session_id} is {stored.status}, not {status}")
        await asyncio.sleep(0.05)


async def test_discord_refusing_every_post_interrupts_the_council_instead_of_running_unseen(
    harness,
):
    world, driver, fake, llm = harness.world, harness.driver, harness.fake, harness.llm
    for name in NAMES:
        llm.script(f"{name.lower()}-model", reply="word " * 20, first_token_delay_s=4)
    driver.revoke(world.guild, Perm.MANAGE_WEBHOOKS)  # every message is the bot's own
    fake.expect_violation(Kind.MISSING_PERMISSIONS)
    session, thread = await _start(harness, "Outage", rounds=4)
    # An outage: every post and edit answered 503, which discord.py does not retry itself.
    outage = [
        fake.force_status("POST", MESSAGES, 503, times=10**6),
        fake.force_status("PATCH", MESSAGE, 503, times=10**6),
    ]

    paused = await _wait_status(harness, session.id, SessionStatus.PAUSED, timeout=40)
    assert paused.stop_reason.startswith("Interrupted: Discord refused 3 messages in a row")
    calls = len(llm.requests)
    await asyncio.sleep(0.5)
    assert len(llm.requests) == calls

    for fault in outage:
        fault.clear()
    for name in NAMES:
        llm.script(f"{name.lower()}-model", reply="Back.")
    status = await driver.slash(world.host, thread, "council status")
    await status.wait_responses(2)
    assert f"Council #{session.id} is paused" in status.responses[-1].content
    resume = await driver.slash(world.host, thread, "council resume")
    await resume.wait_response()
    ended = await harness.wait_ended(timeout=30)
    assert ended.status is SessionStatus.FINISHED


async def test_a_thread_blocked_after_the_council_ended_points_the_host_to_the_transcript(
    harness,
):
    world, driver, fake, llm = harness.world, harness.driver, harness.fake, harness.llm
    for name in NAMES:
        llm.script(f"{name.lower()}-model", reply="Quick.", first_token_delay_s=0.3)
    driver.revoke(world.guild, Perm.MANAGE_WEBHOOKS)
    fake.expect_violation(Kind.MISSING_PERMISSIONS)
    session, thread = await _start(harness, "Late outage")
    fake.force_status("POST", MESSAGES, 503, times=10**6)
    fake.force_status("PATCH", MESSAGE, 503, times=10**6)

    # The models finish long before the bot gives up on Discord.
    await _wait_status(harness, session.id, SessionStatus.FINISHED, timeout=10)
    await fake.wait_for(
        lambda: session.id not in harness.bot.live.presenters, timeout=40, what="giving up"
    )
    status = await driver.slash(world.host, thread, "council status")
    await status.wait_responses(2)
    told = status.responses[-1].content
    assert "has ended, but the thread could not show its end" in told
    assert f"/council export session:{session.id}" in told
    assert (await harness.store.get_session(session.id)).status is SessionStatus.FINISHED
