"""A blind council through the fake Discord: until its summary reveals who was who, whatever
the bot shows names the members by their aliases only."""

from __future__ import annotations

import json
import re

from bot.council.models import GuildSettings
from tests.council.conftest import NAMES
from tests.fakediscord.state import Perm
from tests.fakellm import Fault

BLOCKED = "forbidden"


async def _hosts_advance(harness) -> None:
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=harness.world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )


async def _blind_council(harness, **options):
    """A blind council of the four, started by the host; the session, its thread, its aliases."""
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic="Tea", blind=True, **options
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    aliases = {m.persona: m.alias for m in await harness.store.members(session.id)}
    return session, thread, aliases


def _names_in(text: str) -> set[str]:
    """The real persona names `text` gives away."""
    return {n for n in NAMES if re.search(rf"\b{n}\b", text, re.IGNORECASE)}


def _shown_in(harness, *channels) -> str:
    """Everything these channels show a member of the audience: text, embeds, authors."""
    return "\n".join(
        f"{m.author_name}: {m.content} {json.dumps(m.embeds, ensure_ascii=False)}"
        for channel in channels
        for m in harness.driver.read(channel, as_user=harness.world.bob)
    )


async def test_status_names_who_is_speaking_in_a_blind_council_by_alias(harness):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    # Claude's slow answer keeps it speaking while the audience asks where the council is.
    harness.llm.script("claude-model", reply="A slow view.", first_token_delay_s=1.5)
    _, thread, aliases = await _blind_council(harness, rounds=2)
    await harness.fake.wait_for(
        lambda: len(harness.llm.requests_for("claude-model")) == 1, what="Claude asked"
    )

    status = await (await driver.slash(world.bob, thread, "council status")).wait_response()
    await (await driver.slash(world.host, thread, "council stop")).wait_response()

    speaking = next(line for line in status.content.splitlines() if line.startswith("Speaking"))
    assert aliases["Claude"] in speaking
    assert _names_in(status.content) == set()


async def test_a_blind_councils_lost_quorum_names_the_members_who_failed_by_alias(harness):
    world, driver = harness.world, harness.driver
    for name in ("Claude", "DeepSeek", "Gemini"):
        harness.llm.script(f"{name.lower()}-model", reply="Back.", faults=[Fault.http(503)])
    _, thread, aliases = await _blind_council(harness, rounds=1)
    await harness.fake.wait_for(
        lambda: any(m.content.startswith("⏸️") for m in driver.read(thread, as_user=world.bob)),
        what="the paused notice",
    )

    [notice] = [m.content for m in driver.read(thread, as_user=world.bob) if "⏸️" in m.content]
    status = await (await driver.slash(world.bob, thread, "council status")).wait_response()
    await (await driver.slash(world.host, thread, "council stop")).wait_response()

    assert aliases["Claude"] in notice
    assert _names_in(notice) == set()
    assert aliases["Claude"] in status.content
    assert _names_in(status.content) == set()


async def test_a_blind_councils_withheld_replies_are_listed_and_audited_by_alias(harness):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    block = await driver.slash(admin, world.general, "council-admin moderation block", word=BLOCKED)
    await block.wait_response()
    harness.llm.script("claude-model", reply=f"A {BLOCKED} thought.")
    session, thread, aliases = await _blind_council(harness, rounds=2)
    await harness.wait_round_finished(session.id, 1)
    [kept] = [r for r in await harness.store.replies(session.id) if r.persona == "Claude"]

    listed = await (await driver.slash(world.host, thread, "council withheld")).wait_response()
    full = await driver.slash(world.host, thread, "council withheld", reply=kept.id)
    heading = (await full.wait_response()).content.splitlines()[0]
    release = await driver.slash(world.host, thread, "council release", reply=kept.id)
    await release.wait_ack()
    await release.wait_responses()
    audited = await harness.store.audit_log(world.guild.id)
    await (await driver.slash(world.host, thread, "council stop")).wait_response()

    entry = f"**#{kept.id}** · council #{session.id} · {aliases['Claude']} · round 1"
    assert listed.content.splitlines()[1].startswith(entry)
    assert heading.startswith(entry)
    details = {e.action: e.detail for e in audited}
    assert details["reply.withhold"].startswith(f"reply {kept.id} of {aliases['Claude']}:")
    assert details["reply.release"].startswith(f"reply {kept.id} of {aliases['Claude']}:")
    assert _names_in(f"{listed.content}\n{heading}") == set()


async def test_a_blind_chaired_councils_thread_never_names_its_chair_or_members(harness):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    for name in NAMES:  # words of their own that name nobody
        harness.llm.script(f"{name.lower()}-model", reply="A view of tea.")
    session, thread, aliases = await _blind_council(harness, preset="chaired", rounds=2)
    await harness.wait_round_finished(session.id, 1)

    shown = _shown_in(harness, world.general, thread)  # the opening, then the thread
    status = await (await driver.slash(world.bob, thread, "council status")).wait_response()
    await (await driver.slash(world.host, thread, "council stop")).wait_response()

    assert aliases["Claude"] in shown  # the chair asks under its alias
    assert _names_in(shown) == set()
    assert _names_in(status.content) == set()
