"""Permanent councils: saved line-ups whose sessions remember what they concluded."""

from __future__ import annotations

import json

from tests.council.conftest import NAMES

VERDICT = {
    "consensus": ["Bikes lanes help"],
    "cautions": ["Mind the shops"],
    "verdict": "Yes, slowly.",
}


async def _convene(harness, topic: str, after: int = 0):
    world, driver = harness.world, harness.driver
    handle = await driver.slash(
        world.host, world.general, "council convene", name="Transit board", topic=topic
    )
    await handle.wait_ack()
    return await harness.wait_ended(after=after)


async def test_a_saved_council_remembers_its_earlier_session_and_can_forget(harness):
    world, driver = harness.world, harness.driver

    def reply(request):
        prompt = request.last_user_text()
        if "changed_from_before" in prompt:
            return json.dumps({**VERDICT, "changed_from_before": ["Now the suburbs too"]})
        return json.dumps(VERDICT) if "synthesis as JSON" in prompt else "An answer."

    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=reply)
    created = await driver.slash(
        world.host,
        world.general,
        "council create",
        name="Transit board",
        members="Claude,Gemini,Llama",
        rounds=1,
    )
    assert (
        "Saved **Transit board**: Claude, Gemini, Llama" in (await created.wait_response()).content
    )

    first = await _convene(harness, "Should we ban cars downtown?")
    assert first.council_id is not None
    assert "concluded in earlier sessions" not in repr(
        harness.llm.requests_for("gemini-model")[0].turns()
    )

    second = await _convene(harness, "And the suburbs?", after=first.id)
    assert second.council_id == first.council_id
    opening = harness.llm.requests_for("gemini-model")[-1].turns()[0][1]
    assert "What this council concluded in earlier sessions:" in opening
    assert f"Council #{first.id}" in opening
    assert "verdict: Yes, slowly." in opening
    assert "agreed: Bikes lanes help" in opening
    summary = driver.read(driver.threads_of(world.general)[-1], as_user=world.bob)[-1].embeds[0]
    since = next(f for f in summary["fields"] if f["name"] == "Since last time")
    assert since["value"] == "• Now the suburbs too"

    memory = await driver.slash(world.bob, world.general, "council memory", name="transit BOARD")
    embed = (await memory.wait_response()).embeds[0]
    assert embed["title"] == "What Transit board remembers"
    assert f"Council #{second.id}" in embed["description"]
    assert f"Council #{first.id}" in embed["description"]

    listed = await driver.slash(world.bob, world.general, "council councils")
    field = (await listed.wait_response()).embeds[0]["fields"][0]
    assert field["name"] == "Transit board"
    assert "Claude, Gemini, Llama" in field["value"]

    refused = await driver.slash(
        world.bob, world.general, "council memory", name="Transit board", clear=True
    )
    assert "Only hosts" in (await refused.wait_response()).content
    cleared = await driver.slash(
        world.host, world.general, "council memory", name="Transit board", clear=True
    )
    assert "has forgotten" in (await cleared.wait_response()).content
    council = await harness.store.council_named(world.guild.id, "Transit board")
    assert await harness.bot.councils.memory(council) == ""


async def test_council_names_are_unique_per_server_and_must_name_real_personas(harness):
    world, driver = harness.world, harness.driver
    ok = await driver.slash(
        world.host, world.general, "council create", name="Board", members="Claude,Gemini"
    )
    await ok.wait_response()
    again = await driver.slash(
        world.host, world.general, "council create", name="board", members="Claude,Llama"
    )
    assert (
        await again.wait_response()
    ).content == "This server already has a council called 'board'."
    ghost = await driver.slash(
        world.host, world.general, "council create", name="Ghosts", members="Claude,Casper"
    )
    assert "There is no persona called 'Casper'" in (await ghost.wait_response()).content
    unknown = await driver.slash(
        world.host, world.general, "council convene", name="Nope", topic="x"
    )
    assert (
        await unknown.wait_response()
    ).content == "There is no council called 'Nope'. Councils: Board."


async def test_a_change_of_mind_is_shown_in_the_summary_and_the_footer_never_posted(harness):
    world, driver = harness.world, harness.driver
    footer = "[stance: {} | claim: {} | confidence: 70% | changed: {}]"
    for name in NAMES:
        harness.llm.script(
            f"{name.lower()}-model",
            reply=f"{name} holds firm.\n" + footer.format("cautious", "Go slowly", "no"),
        )
    harness.llm.script(
        "deepseek-model",
        reply=[
            "Careful now.\n" + footer.format("cautious", "Go slowly", "no"),
            "Gemini convinced me.\n"
            + footer.format("supportive", "Go now", "yes, after Gemini's point about oversight"),
        ],
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Minds", rounds=2)
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    assert all("[stance" not in m.content for m in seen)
    summary = seen[-1].embeds[0]
    moved = next(f for f in summary["fields"] if f["name"] == "Changes of mind")
    assert moved["value"] == (
        "• DeepSeek moved from cautious to supportive: Gemini's point about oversight"
    )
