"""/council status names a sequential council's speaking order, and who speaks next."""

from __future__ import annotations

import asyncio

from bot.council.models import GuildSettings

FOOTER = "\n[stance: for | claim: Cut lanes | confidence: 70% | changed: no | ask: {ask}]"


async def _status(driver, user, thread) -> list[str]:
    handle = await driver.slash(user, thread, "council status")
    await handle.wait_response()
    [reply] = handle.responses
    return reply.content.splitlines()


async def test_status_names_a_natural_order_and_the_asked_member_as_next_to_speak(harness):
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=30)
    )
    ask = FOOTER.format(ask="Llama: What would you cut first?")
    harness.llm.script("claude-model", reply="Parking first." + ask)
    harness.llm.script("gemini-model", reply="Buses.")
    harness.llm.script("llama-model", reply="Lanes.")
    start = await driver.slash(
        world.host, world.general, "council start", topic="Cars?", members="Claude,Gemini,Llama",
        format="debate", rounds=2, order="natural",
    )  # fmt: skip
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    async with asyncio.timeout(10):  # round 1 over, the council waiting before round 2
        while not any(r.finished_at for r in await harness.store.rounds(session.id)):
            await asyncio.sleep(0.05)
    russian = driver.create_member(world.guild, "olga", locale="ru")

    english = await _status(driver, world.bob, thread)
    said = await _status(driver, russian, thread)
    await (await driver.slash(world.host, thread, "council next")).wait_response()
    await harness.wait_ended()

    # Claude asked Llama in round 1: in a natural order Llama opens round 2.
    assert "Speaking order: natural; next to speak: Llama" in english
    assert "Порядок выступлений: естественный; следующим говорит Llama" in said
    order = [r.persona for r in await harness.store.replies(session.id) if r.round_number == 2]
    assert order[0] == "Llama"


async def test_status_of_a_rotating_debate_names_its_order_and_a_parallel_council_none(harness):
    world, driver = harness.world, harness.driver
    for name in ("Claude", "Gemini"):
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=1.0)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Tea", members="Claude,Gemini",
        format="debate", rounds=1,
    )  # fmt: skip
    await start.wait_ack()
    await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    debate = await _status(driver, world.bob, thread)
    await harness.wait_ended()

    start = await driver.slash(
        world.host, world.general, "council start", topic="Tea", members="Claude,Gemini",
        rounds=1,
    )  # fmt: skip
    await start.wait_ack()
    await harness.wait_running()
    parallel = await _status(driver, world.bob, driver.threads_of(world.general)[-1])
    await harness.wait_ended()

    assert "Speaking order: rotating" in debate
    assert not any(line.startswith("Speaking order") for line in parallel)
