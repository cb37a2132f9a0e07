"""Discord misbehaving mid-session: rate limits, lost permissions, archived threads, gateway
drops. In each case the council finishes (or stops cleanly) and nothing accepted is lost."""

from __future__ import annotations

from bot.council.models import ReplyKind, ReplyStatus, SessionStatus
from tests.council.conftest import NAMES
from tests.fakediscord.rules import Kind
from tests.fakediscord.state import Perm

EXECUTE = "/webhooks/{webhook_id}/{webhook_token}"
EDIT = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"


async def _start(harness, topic: str, rounds: int = 1):
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic=topic, rounds=rounds
    )
    await start.wait_ack()
    session = await harness.wait_running()
    return session, driver.threads_of(world.general)[0]


async def _all_answers_posted(harness, session, thread, rounds: int = 1) -> None:
    answers = [
        r
        for r in await harness.store.replies(session.id)
        if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
    ]
    assert len(answers) == 4 * rounds
    shown = {m.id: m for m in harness.driver.read(thread, as_user=harness.world.bob)}
    for reply in answers:
        assert reply.message_ids, reply.persona
        assert shown[reply.message_ids[-1]].content.startswith(reply.text[:50])
        assert shown[reply.message_ids[-1]].buttons


async def test_429s_on_webhook_posts_and_edits_are_waited_out_and_nothing_is_lost(harness):
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 40, tokens_per_s=60)
    harness.fake.force_429("POST", EXECUTE, times=3, retry_after_s=0.3)
    harness.fake.force_429("PATCH", EDIT, times=4, retry_after_s=0.3)
    session, thread = await _start(harness, "Rate limits")
    ended = await harness.wait_ended()
    assert ended.status is SessionStatus.FINISHED
    await _all_answers_posted(harness, session, thread)
    statuses = [e.status for e in harness.fake.requests(route=EXECUTE)]
    assert statuses.count(429) == 3


async def test_an_archived_thread_is_reopened_by_the_next_post_and_the_council_goes_on(harness):
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Answer.", first_token_delay_s=0.5)
    session, thread = await _start(harness, "Archived", rounds=2)
    harness.driver.archive_thread(thread)
    ended = await harness.wait_ended()
    assert ended.status is SessionStatus.FINISHED
    assert not thread.archived
    await _all_answers_posted(harness, session, thread, rounds=2)


async def test_losing_manage_webhooks_mid_session_changes_nothing_for_the_audience(harness):
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Answer.", first_token_delay_s=0.4)
    session, thread = await _start(harness, "Perms", rounds=2)
    await harness.fake.wait_for(
        lambda: harness.driver.webhooks_of(harness.world.general), what="the webhook"
    )
    harness.driver.revoke(harness.world.guild, Perm.MANAGE_WEBHOOKS)
    ended = await harness.wait_ended()
    assert ended.status is SessionStatus.FINISHED
    await _all_answers_posted(harness, session, thread, rounds=2)


async def test_losing_send_messages_mid_session_moves_announcements_to_the_webhook(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Answer.", first_token_delay_s=0.4)
    session, thread = await _start(harness, "Mute", rounds=2)
    fake.expect_violation(Kind.MISSING_PERMISSIONS)
    driver.revoke(world.guild, Perm.SEND_MESSAGES | Perm.SEND_MESSAGES_IN_THREADS)
    ended = await harness.wait_ended()
    assert ended.status is SessionStatus.FINISHED
    await _all_answers_posted(harness, session, thread, rounds=2)
    summary = driver.read(thread, as_user=world.bob)[-1]
    assert summary.is_webhook
    assert summary.embeds[0]["title"] == f"Council #{session.id}: summary"


async def test_a_gateway_drop_mid_round_resumes_and_clicks_still_arrive(harness):
    fake = harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 30, tokens_per_s=30)
    session, thread = await _start(harness, "Drop")
    await fake.wait_for(lambda: harness.llm.in_flight() == 4, what="the round to be under way")
    resumes = fake.gateway.resume_count
    await fake.gateway.drop()
    ended = await harness.wait_ended()
    assert ended.status is SessionStatus.FINISHED
    assert fake.gateway.resume_count == resumes + 1
    await _all_answers_posted(harness, session, thread)
    status = await harness.driver.slash(harness.world.bob, thread, "council status")
    assert f"Council #{session.id}" in (await status.wait_response()).content


async def test_a_full_reidentify_mid_round_loses_nothing(harness):
    fake = harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 30, tokens_per_s=30)
    session, thread = await _start(harness, "Reidentify")
    await fake.wait_for(lambda: harness.llm.in_flight() == 4, what="the round to be under way")
    identifies = fake.gateway.identify_count
    fake.gateway.invalidate_session(resumable=False)
    ended = await harness.wait_ended(timeout=20)
    assert ended.status is SessionStatus.FINISHED
    await fake.wait_for(
        lambda: fake.gateway.identify_count == identifies + 1, timeout=10, what="a new IDENTIFY"
    )
    await _all_answers_posted(harness, session, thread)
