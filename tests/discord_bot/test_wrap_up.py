"""The "Wrap up now" button through the fake Discord: offered when positions hold, for hosts."""

from __future__ import annotations

from bot.council.models import GuildSettings, SessionStatus
from tests.council.conftest import NAMES

FOOTER = "\n[stance: cautious | claim: Cut lanes | confidence: 70% | changed: no]"
OFFER = "🤝 The members' positions held for a whole round: the council may wrap up."


def _offers(harness, thread):
    seen = harness.driver.read(thread, as_user=harness.world.bob)
    return [m for m in seen if m.content == OFFER]


async def test_the_host_wraps_up_a_council_whose_positions_held(harness):
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=f"{name} holds.{FOOTER}")
    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=4)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    await harness.wait_round_finished(session.id, 1)
    assert _offers(harness, thread) == []
    next_round = await driver.slash(world.host, thread, "council next")
    await next_round.wait_response()
    await harness.wait_round_finished(session.id, 2)
    await harness.fake.wait_for(
        lambda: _offers(harness, thread), timeout=15, what="the wrap-up offer"
    )
    [offer] = _offers(harness, thread)
    custom_id = f"council:wrap:{session.id}"
    assert offer.button("Wrap up now").custom_id == custom_id

    refused = await driver.click(world.bob, offer, custom_id)
    [refusal] = await refused.wait_responses()
    assert refusal.is_ephemeral
    assert "host" in refusal.content
    assert (await harness.store.get_session(session.id)).status is SessionStatus.RUNNING

    pressed = await driver.click(world.host, offer, custom_id)
    ended = await harness.wait_ended()

    assert ended.status is SessionStatus.FINISHED
    assert ended.synthesis_json is not None
    assert [r.number for r in await harness.store.rounds(session.id)] == [1, 2]
    [ending] = pressed.followups
    assert ending.is_ephemeral
    assert ending.content == "Ending: the synthesis and summary follow."
    [closed] = _offers(harness, thread)
    assert closed.button("Wrap up now").disabled
    summary = [m for m in driver.read(thread, as_user=world.bob) if m.embeds]
    assert summary
    log = await harness.store.audit_log(world.guild.id)
    assert (world.host.id, "session.end") in [(e.user_id, e.action) for e in log]
