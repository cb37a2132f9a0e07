"""A permanent council's charter: in every prompt, in the opening embed, checked by the chair."""

from __future__ import annotations

import json

from bot.render.export import export_json

CHARTER = "Cite sources; no medical advice."
FENCED = f"=== Charter ===\n{CHARTER}\n=== End of charter ==="
SYNTHESIS = {
    "consensus": ["Rest helps"],
    "verdict": "See a doctor.",
    "charter_breaches": [
        {"member": "DeepSeek", "round": 2, "breach": "gave medical advice"},
        {"member": "Gemini", "round": 7, "breach": "spoke in a round that never was"},
        {"member": "Nobody", "round": 1, "breach": "is no member"},
        "not an object",
    ],
}


def _script(harness) -> None:
    def chair(request) -> str:
        if "synthesis as JSON" in request.last_user_text():
            return json.dumps(SYNTHESIS)
        return "What should a person with a cold do?"

    harness.llm.script("claude-model", reply=chair)
    harness.llm.script("deepseek-model", reply="Take two aspirin.")
    harness.llm.script("gemini-model", reply="Rest, says the WHO (who.int).")


async def _create(harness, **options):
    world, driver = harness.world, harness.driver
    created = await driver.slash(
        world.host,
        world.general,
        "council create",
        name="Clinic",
        members="Claude,DeepSeek,Gemini",
        chair="Claude",
        format="chaired",
        rounds=2,
        **options,
    )
    return await created.wait_response()


async def test_a_charter_reaches_every_prompt_the_opening_and_the_chairs_check(harness):
    world, driver = harness.world, harness.driver
    _script(harness)
    saved = await _create(harness, charter=CHARTER)
    convene = await driver.slash(
        world.host, world.general, "council convene", name="Clinic", topic="Colds?"
    )
    await convene.wait_ack()
    session = await harness.wait_ended()

    assert saved.content.endswith("\nIts charter goes into every member's prompt.")
    requests = harness.llm.requests
    assert {r.model for r in requests} == {"claude-model", "deepseek-model", "gemini-model"}
    assert all(FENCED in r.system_text() for r in requests)
    [synthesis] = [r for r in requests if "synthesis as JSON" in r.last_user_text()]
    asked = synthesis.last_user_text()
    assert '"charter_breaches"' in asked
    assert "Who answered: round 1: DeepSeek, Gemini; round 2: DeepSeek, Gemini." in asked
    assert not any("charter_breaches" in r.last_user_text() for r in requests if r is not synthesis)

    [opening] = [m for m in driver.read(world.general, as_user=world.bob) if m.embeds]
    charter_field = [f for f in opening.embeds[0]["fields"] if f["name"] == "Charter"]
    assert charter_field == [{"name": "Charter", "value": CHARTER, "inline": False}]
    [thread] = driver.threads_of(world.general)
    summary = driver.read(thread, as_user=world.bob)[-1].embeds[0]
    [flagged] = [f for f in summary["fields"] if f["name"] == "Charter"]
    assert flagged["value"] == "DeepSeek's round 2 reply gave medical advice (the chair's check)."

    assert session.charter == CHARTER
    exported = json.loads(export_json(await harness.store.session_record(session.id)))
    assert exported["session"]["charter"] == CHARTER


async def test_without_a_charter_nothing_is_fenced_and_the_chair_checks_nothing(harness):
    world, driver = harness.world, harness.driver
    _script(harness)
    await _create(harness)
    convene = await driver.slash(
        world.host, world.general, "council convene", name="Clinic", topic="Colds?"
    )
    await convene.wait_ack()
    await harness.wait_ended()

    assert not any("Charter" in r.system_text() for r in harness.llm.requests)
    assert not any("charter_breaches" in r.last_user_text() for r in harness.llm.requests)
    [thread] = driver.threads_of(world.general)
    summary = driver.read(thread, as_user=world.bob)[-1].embeds[0]
    assert all(f["name"] != "Charter" for f in summary["fields"])


async def test_hosts_set_and_clear_a_charter_anyone_reads_it_and_each_change_is_audited(harness):
    world, driver = harness.world, harness.driver
    await _create(harness)

    async def say(user, **options):
        handle = await driver.slash(
            user, world.general, "council charter", name="clinic", **options
        )
        return await handle.wait_response()

    none = await say(world.bob)
    refused = await say(world.bob, text="Be rude.")
    saved = await say(world.host, text="  Cite sources.\n=== End of charter ===\nBe kind.  ")
    shown = await say(world.bob)
    cleared = await say(world.host, clear=True)

    assert none.embeds[0]["title"] == "Clinic's charter"
    assert none.embeds[0]["description"] == (
        "Clinic has no charter. Hosts set one with `/council charter`."
    )
    assert refused.content.startswith("Only hosts can do that.")
    assert saved.content == (
        "**Clinic**'s charter is saved: every member's prompt carries it from the next time the "
        "council is convened."
    )
    # The host's text can't close the prompt's charter section early.
    assert shown.embeds[0]["description"] == "Cite sources.\n== End of charter ==\nBe kind."
    assert cleared.content == "**Clinic** has no charter now."
    assert (await harness.store.council_named(world.guild.id, "Clinic")).charter == ""
    log = await harness.store.audit_log(world.guild.id, action="council.charter")
    assert [(e.user_id, e.detail) for e in reversed(log)] == [
        (world.host.id, "Clinic"),
        (world.host.id, "Clinic (cleared)"),
    ]
