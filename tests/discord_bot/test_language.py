"""The council's language, chosen with /council start, reaches every model."""

from __future__ import annotations

from bot.council.models import SessionStatus
from tests.council.conftest import NAMES


async def test_council_start_with_a_language_stores_it_and_every_model_is_asked_for_it(harness):
    world, driver = harness.world, harness.driver
    handle = await driver.slash(
        world.host, world.general, "council start", topic="Trains or cars?", rounds=1,
        language="ru",
    )  # fmt: skip
    await handle.wait_ack()
    session = await harness.wait_ended()

    assert session.status is SessionStatus.FINISHED
    assert session.language == "ru"
    requests = [r for name in NAMES for r in harness.llm.requests_for(f"{name.lower()}-model")]
    assert len(requests) > len(NAMES)  # the answers and the synthesis
    for request in requests:
        assert "Answer in Russian" in request.system_text()


async def test_the_language_option_offers_russian_among_at_most_25_choices(harness):
    command = harness.driver.synced_command(harness.world.general.guild_id, "council")
    [start] = [o for o in command.data["options"] if o["name"] == "start"]
    [language] = [o for o in start["options"] if o["name"] == "language"]

    assert len(language["choices"]) <= 25
    offered = [{"name": c["name"], "value": c["value"]} for c in language["choices"]]
    assert {"name": "русский (Russian)", "value": "ru"} in offered


async def test_a_permanent_council_saved_with_a_language_convenes_in_it(harness):
    world, driver = harness.world, harness.driver
    created = await driver.slash(
        world.host, world.general, "council create", name="Совет", members="Claude,Gemini",
        rounds=1, language="ru",
    )  # fmt: skip
    await created.wait_response()
    [council] = await harness.store.councils(world.general.guild_id)
    assert council.language == "ru"

    handle = await driver.slash(
        world.host, world.general, "council convene", name="Совет", topic="Trains or cars?"
    )
    await handle.wait_ack()
    session = await harness.wait_ended()

    assert session.language == "ru"
    for request in harness.llm.requests_for("gemini-model"):
        assert "Answer in Russian" in request.system_text()
