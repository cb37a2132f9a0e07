"""A council as a server member sees it, end to end through the fake Discord."""

from __future__ import annotations

from bot.council.models import ReplyKind, SessionStatus
from tests.council.conftest import NAMES


async def test_a_four_persona_council_runs_in_a_thread_as_the_audience_sees_it(harness):
    fake, world, driver = harness.fake, harness.world, harness.driver
    handle = await driver.slash(
        world.host, world.general, "council start", topic="Trains or cars?", rounds=2
    )
    await handle.wait_ack()
    assert handle.is_deferred
    session = await harness.wait_ended()
    assert session.status is SessionStatus.FINISHED

    [thread] = driver.threads_of(world.general)
    assert thread.name == "Trains or cars?"
    seen = driver.read(thread, as_user=world.bob)
    persona_messages = [m for m in seen if m.is_webhook]
    assert {m.author_name for m in persona_messages} == set(NAMES)
    for message in persona_messages:
        assert message.author_avatar_url == f"https://example.org/{message.author_name.lower()}.png"
        assert "thinks carefully" in message.content
        assert [b.label for b in message.buttons] == ["👍 0", "👎 0"]
    assert len(persona_messages) == 8
    summary = seen[-1]
    assert summary.embeds[0]["title"] == f"Council #{session.id}: summary"
    assert summary.attachments == (f"council-{session.id}.md", "votes.png")
    assert summary.embeds[0]["image"]["url"] == "attachment://votes.png"
    opening = driver.read(world.general, as_user=world.bob)
    assert opening[0].embeds[0]["title"].endswith("Trains or cars?")
    assert "has ended" in opening[-1].content
    fake.assert_no_pings()
    replies = await harness.store.replies(session.id)
    answers = [r for r in replies if r.kind is ReplyKind.ANSWER]
    assert sorted(m for r in answers for m in r.message_ids) == sorted(
        m.id for m in persona_messages
    )


async def test_an_unexpected_error_gets_a_short_apology_with_the_logged_error_id(
    harness, monkeypatch, caplog
):
    async def broken(guild_id):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(harness.store, "guild_settings", broken)
    world, driver = harness.world, harness.driver
    handle = await driver.slash(world.host, world.general, "council start", topic="Oops")
    reply = await handle.wait_response()
    assert reply.is_ephemeral
    assert reply.content.startswith("Sorry, something went wrong (error id `")
    error_id = reply.content.split("`")[1]
    logged = [r for r in caplog.records if error_id in r.getMessage()]
    assert logged
    assert logged[0].exc_info is not None
    assert "disk on fire" not in reply.content
