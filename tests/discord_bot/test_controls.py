"""Host controls and refusals, through the fake Discord as members use them."""

from __future__ import annotations

from bot.council.models import SessionStatus
from tests.council.conftest import NAMES
from tests.fakediscord.rules import Kind
from tests.fakediscord.state import Perm


def _ephemeral_text(handle) -> str:
    [reply] = handle.responses
    assert reply.is_ephemeral
    return reply.content


async def test_a_member_who_is_not_a_host_is_refused_privately(harness):
    world, driver = harness.world, harness.driver
    handle = await driver.slash(world.bob, world.general, "council start", topic="Anything")
    await handle.wait_response()
    assert "Only hosts can do that" in _ephemeral_text(handle)
    assert driver.threads_of(world.general) == []
    assert await harness.store.count_sessions() == 0


async def test_a_host_role_from_the_settings_may_host(harness):
    world, driver = harness.world, harness.driver
    role = driver.create_role(world.guild, "Council hosts")
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    member = driver.create_member(world.guild, "carol", roles=[role])
    settings = await driver.slash(admin, world.general, "council-admin settings", host_role=role)
    assert f"Hosts: <@&{role.id}>" in (await settings.wait_response()).content
    handle = await driver.slash(member, world.general, "council start", topic="Tea?", rounds=1)
    await handle.wait_ack()
    assert handle.is_deferred
    session = await harness.wait_ended()
    assert session.host_id == member.id


async def test_a_second_council_in_the_same_channel_is_refused(harness):
    world, driver = harness.world, harness.driver
    harness.llm.script("claude-model", reply="Slow.", first_token_delay_s=1.5)
    first = await driver.slash(world.host, world.general, "council start", topic="One", rounds=1)
    await first.wait_ack()
    await harness.wait_running()
    second = await driver.slash(world.host, world.general, "council start", topic="Two")
    await second.wait_response()
    assert "still running in this channel" in _ephemeral_text(second)
    await harness.wait_ended()
    assert len(driver.threads_of(world.general)) == 1


async def test_stop_mid_round_cancels_the_models_and_posts_what_was_said(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="word " * 300, tokens_per_s=30)
    start = await driver.slash(world.host, world.general, "council start", topic="Long", rounds=3)
    await start.wait_ack()
    [thread] = await fake.wait_for(lambda: driver.threads_of(world.general), what="the thread")
    await fake.wait_for(
        lambda: any("word" in m.content for m in driver.read(thread, as_user=world.bob)),
        what="streamed text",
    )
    stop = await driver.slash(world.host, thread, "council stop")
    await stop.wait_response()
    session = await harness.wait_ended()
    assert session.status is SessionStatus.STOPPED
    assert session.stop_reason == "Stopped by host."
    assert await harness.llm.wait_idle(2.0)
    assert all(r.disconnected for r in harness.llm.requests)
    last = driver.read(thread, as_user=world.bob)[-1]
    assert "Stopped by host." in last.embeds[0]["description"]


async def test_an_audience_question_asked_during_a_round_is_answered_in_the_next(harness):
    world, driver = harness.world, harness.driver
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=0.6)
    start = await driver.slash(world.host, world.general, "council start", topic="Buses", rounds=2)
    await start.wait_ack()
    await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    ask = await driver.slash(world.bob, thread, "council ask", question="What about trams?")
    assert "queued for round 2" in (await ask.wait_response()).content
    await harness.wait_ended()
    for name in NAMES:
        second = harness.llm.requests_for(f"{name.lower()}-model")[1]
        assert "A member of the audience, bob, asks: What about trams?" in repr(second.turns())
    headers = [m.content for m in driver.read(thread, as_user=world.bob) if "Round 2" in m.content]
    assert "**bob**, asks: What about trams?" in headers[0]


async def test_without_manage_webhooks_replies_come_from_the_bot_with_persona_embeds(harness):
    world, driver = harness.world, harness.driver
    driver.revoke(world.guild, Perm.MANAGE_WEBHOOKS)
    harness.fake.expect_violation(Kind.MISSING_PERMISSIONS)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Fallback", rounds=1
    )
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    replies = [m for m in seen if m.embeds and m.embeds[0].get("author")]
    assert {m.embeds[0]["author"]["name"] for m in replies} == set(NAMES)
    assert all(not m.is_webhook for m in seen)
    assert all(m.buttons for m in replies)
    notes = [m for m in seen if "Manage Webhooks" in m.content]
    assert len(notes) == 1


async def test_a_webhook_deleted_mid_session_is_recreated_and_nothing_is_lost(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    # Messages belong to the webhook that posted them: the new one can't edit the old ones.
    fake.expect_violation(Kind.UNKNOWN_WEBHOOK, Kind.UNKNOWN_MESSAGE)
    for name in NAMES:
        harness.llm.script(
            f"{name.lower()}-model", reply=["First.", "Second."], first_token_delay_s=0.3
        )
    start = await driver.slash(world.host, world.general, "council start", topic="Hooks", rounds=2)
    await start.wait_ack()
    [hook] = await fake.wait_for(lambda: driver.webhooks_of(world.general), what="the webhook")
    await fake.wait_for(
        lambda: any(
            m.content == "First."
            for m in driver.read(driver.threads_of(world.general)[0], as_user=world.bob)
        ),
        what="a first reply",
    )
    driver.delete_webhook(hook.id)
    session = await harness.wait_ended()
    assert session.status is SessionStatus.FINISHED
    [thread] = driver.threads_of(world.general)
    contents = [m.content for m in driver.read(thread, as_user=world.bob) if m.is_webhook]
    assert contents.count("Second.") == 4
    assert len(driver.webhooks_of(world.general)) == 1
