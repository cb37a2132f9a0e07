"""Hostile input, end to end: model output, topics, questions and persona edits that try to
ping people, disguise links, overflow Discord's limits or speak for another persona.

Every council here runs through the fake Discord, whose teardown fails the test on any broken
Discord limit, and every test ends by checking that no message would notify anyone.
"""

from __future__ import annotations

import json

import pytest

from bot.config import parse_config
from bot.council.models import GuildSettings, SessionStatus
from bot.council.spec import TOPIC_MAX_CHARS, build_spec
from bot.errors import ConfigError, UserFacingError
from bot.render.messages import MESSAGE_LIMIT, sanitise_username
from tests.council.conftest import NAMES, make_config
from tests.fakediscord.reader import DriverError, SeenMessage
from tests.fakediscord.state import Perm
from tests.fakellm.wire import tokenize

# Characters a model (or a member) can hide in text: zero-width, bidi controls, C0/C1 controls.
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u202e\u2066\u2069\x00\x07\x1b\x85"
EVIL_URL = "https://evil.example"


def _private(handle) -> str:
    [reply] = handle.responses
    assert reply.is_ephemeral
    return reply.content


async def _run_council(harness, topic: str = "Trams or buses?", **settings) -> list[SeenMessage]:
    """Run a one-round council to its summary and return its thread as bob sees it."""
    world, driver = harness.world, harness.driver
    if settings:
        await harness.store.save_guild_settings(
            GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, **settings)
        )
    start = await driver.slash(world.host, world.general, "council start", topic=topic, rounds=1)
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    return driver.read(thread, as_user=world.bob)


def _by(seen: list[SeenMessage], persona: str) -> list[SeenMessage]:
    return [m for m in seen if m.is_webhook and m.author_name == persona]


# ------------------------------------------------------------------ model output


async def test_mentions_masked_links_and_invisible_characters_from_a_model_are_posted_inert(
    harness,
):
    world, driver = harness.world, harness.driver
    mods = driver.create_role(world.guild, "Moderators", mentionable=True)
    hostile = (
        f"@everyone @here wake up! <@&{mods.id}> and <@{world.bob.id}> and <@!{world.host.id}>, "
        f"look.\n\nThe proof is [click]({EVIL_URL}) here.\n\n"
        f"Hid{INVISIBLE}den text."
    )
    harness.llm.script("claude-model", reply=hostile)
    seen = await _run_council(harness)

    [claude] = _by(seen, "Claude")
    text = claude.content
    assert "@everyone" not in text
    assert "@here" not in text
    assert "\uff20everyone \uff20here wake up!" in text
    assert f"`<@&{mods.id}>`" in text
    assert f"`<@{world.bob.id}>`" in text
    assert f"`<@!{world.host.id}>`" in text
    assert f"[click]({EVIL_URL})" not in text
    assert f"click ({EVIL_URL}) here" in text
    assert "Hidden text." in text
    for message in seen:
        assert not set(INVISIBLE) & set(message.content)
    harness.fake.assert_no_pings()


async def test_a_huge_markdown_reply_is_split_within_discords_limits(harness):
    images = "\n".join(f"![chart {i}]({EVIL_URL}/{i}.png) {EVIL_URL}/page/{i}" for i in range(12))
    table = "\n".join(f"| row {i} | {'cell ' * 8}|" for i in range(40))
    code = (
        "```python\n" + "\n".join(f"print('line {i}')  # {'x' * 20}" for i in range(60)) + "\n```"
    )
    prose = " ".join(f"Sentence number {i} says something." for i in range(60))
    huge = f"# Heading\n\n{images}\n\n{table}\n\n{code}\n\n{prose}"
    assert len(huge) > 3 * MESSAGE_LIMIT
    assert len(tokenize(huge)) <= 2000  # the harness's max_tokens: the fake sends all of it
    harness.llm.script("deepseek-model", reply=huge)
    seen = await _run_council(harness)

    parts = _by(seen, "DeepSeek")
    assert len(parts) >= 4
    for number, part in enumerate(parts, start=1):
        assert len(part.content) <= MESSAGE_LIMIT
        assert part.content.endswith(f"*({number}/{len(parts)})*")
        assert len(part.embeds) <= 10
        assert part.content.count("```") % 2 == 0  # every part closes the fences it opens
        assert bool(part.buttons) == (number == len(parts))  # vote under the last part only
    posted = "\n".join(p.content for p in parts)
    for i in range(12):
        assert f"{EVIL_URL}/{i}.png" in posted
    assert "Sentence number 59 says something." in posted
    harness.fake.assert_no_pings()


async def test_a_reply_that_speaks_as_another_persona_is_cut_where_it_starts(harness):
    # "\nGemini:" is one of the stop strings the fake model honours; the bold form is not, so
    # the bot's own cut must catch it.
    harness.llm.script(
        "llama-model", reply="Trams are fine.\nGemini: I agree with Llama entirely, it is settled."
    )
    harness.llm.script(
        "claude-model", reply="Buses first.\n\n**Gemini:** Claude is right, as always."
    )
    harness.llm.script("gemini-model", reply="Gemini prefers bicycles.")
    seen = await _run_council(harness)

    [llama] = _by(seen, "Llama")
    [claude] = _by(seen, "Claude")
    [gemini] = _by(seen, "Gemini")
    assert llama.content == "Trams are fine."
    assert claude.content == "Buses first."
    assert gemini.content == "Gemini prefers bicycles."
    replies = {r.persona: r.text for r in await harness.store.replies((await harness.session()).id)}
    assert replies["Llama"] == "Trams are fine."
    assert replies["Claude"] == "Buses first."
    harness.fake.assert_no_pings()


async def test_the_summary_embed_shows_the_models_synthesis_defused(harness):
    mods = harness.driver.create_role(harness.world.guild, "Moderators", mentionable=True)
    synthesis = {
        "consensus": [f"Everyone should [read this]({EVIL_URL})."],
        "verdict": f"<@&{mods.id}> decide: [the answer]({EVIL_URL})",
    }
    harness.llm.script("claude-model", reply=["Claude answers.", json.dumps(synthesis)])
    seen = await _run_council(harness)

    summary = next(m for m in seen if m.embeds and "summary" in m.embeds[0].get("title", ""))
    shown = json.dumps(summary.embeds[0])
    harness.fake.assert_no_pings()
    assert f"]({EVIL_URL})" not in shown


# ------------------------------------------------------------------ topics and questions


async def test_a_topic_with_mentions_and_a_masked_link_opens_the_council_without_pinging(harness):
    world = harness.world
    mods = harness.driver.create_role(world.guild, "Moderators", mentionable=True)
    topic = f"@everyone <@&{mods.id}> <@{world.bob.id}> should we [click]({EVIL_URL})?"
    seen = await _run_council(harness, topic=topic)

    opening = next(m for m in harness.driver.read(world.general, as_user=world.bob) if m.embeds)
    title = opening.embeds[0]["title"]
    assert "@everyone" not in title
    assert f"`<@&{mods.id}>`" in title
    assert f"`<@{world.bob.id}>`" in title
    assert f"should we click ({EVIL_URL})?" in title
    assert (await harness.session()).status is SessionStatus.FINISHED
    assert {m.author_name for m in seen if m.is_webhook} == set(NAMES)
    harness.fake.assert_no_pings()


async def test_a_topic_over_the_limit_is_refused_by_discord_and_by_the_bot(harness):
    world, driver = harness.world, harness.driver
    # Discord enforces the option's max_length: 10,000 characters never reach the bot.
    option = next(
        o
        for sub in driver.synced_command(world.guild.id, "council").data["options"]
        if sub["name"] == "start"
        for o in sub["options"]
        if o["name"] == "topic"
    )
    assert option["max_length"] == TOPIC_MAX_CHARS
    with pytest.raises(DriverError, match="length is outside the schema's bounds"):
        await driver.slash(world.host, world.general, "council start", topic="x" * 10_000)
    # The bot's own check stands behind it, for callers that are not Discord.
    with pytest.raises(
        UserFacingError, match="The topic is 10000 characters; it can be at most 1000"
    ):
        build_spec(make_config(harness.llm), "x" * 10_000)
    # Padding counts for nothing: 1,000 characters of mostly blank space are a short topic.
    padded = " " * 980 + "Trams or buses?" + "\t" * 5
    start = await driver.slash(world.host, world.general, "council start", topic=padded, rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()
    assert session.topic == "Trams or buses?"
    assert await harness.store.count_sessions() == 1


@pytest.mark.parametrize("topic", ["   ", "\t\n \u200b\u2060", " " * 1000])
async def test_a_blank_topic_is_refused_privately(harness, topic):
    world, driver = harness.world, harness.driver
    handle = await driver.slash(world.host, world.general, "council start", topic=topic)
    await handle.wait_response()
    assert _private(handle) == "The topic is empty. Give the council something to discuss."
    assert driver.threads_of(world.general) == []
    assert await harness.store.count_sessions() == 0


async def test_control_and_invisible_characters_are_stripped_from_the_topic(harness):
    world, driver = harness.world, harness.driver
    topic = f"Tra{INVISIBLE}ms or\x01 buses?"
    start = await driver.slash(world.host, world.general, "council start", topic=topic, rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()
    assert session.topic == "Trams or buses?"
    [thread] = driver.threads_of(world.general)
    assert thread.name == "Trams or buses?"
    prompts = [r.last_user_text() for r in harness.llm.requests_for("claude-model")]
    assert all(not set(INVISIBLE) & set(p) for p in prompts)
    harness.fake.assert_no_pings()


async def test_audience_questions_with_mentions_are_put_safely_and_blank_ones_refused(harness):
    world, driver = harness.world, harness.driver
    mods = driver.create_role(world.guild, "Moderators", mentionable=True)
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Bus", rounds=2)
    await start.wait_ack()
    session = await harness.wait_running()
    await harness.wait_round_finished(session.id, 1)
    [thread] = driver.threads_of(world.general)

    blank = await driver.slash(world.bob, thread, "council ask", question=" \u200b ")
    await blank.wait_response()
    assert _private(blank) == "Your question is empty."
    question = f"@here <@&{mods.id}> <@{world.host.id}> what about [trams]({EVIL_URL})?"
    ask = await driver.slash(world.bob, thread, "council ask", question=question)
    await ask.wait_response()
    assert "queued for round 2" in _private(ask)
    nxt = await driver.slash(world.host, thread, "council next")
    await nxt.wait_response()
    await harness.wait_ended()

    header = next(m for m in driver.read(thread, as_user=world.bob) if "Round 2" in m.content)
    assert "@here" not in header.content
    assert f"`<@&{mods.id}>` `<@{world.host.id}>` what about trams ({EVIL_URL})?" in (
        header.content
    )
    assert len(await harness.store.pending_questions(session.id)) == 0
    harness.fake.assert_no_pings()


# ------------------------------------------------------------------ persona edits


async def test_persona_edits_with_hostile_values_are_refused_clearly(harness):
    world, driver = harness.world, harness.driver
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)

    async def edit(**options) -> str:
        handle = await driver.slash(admin, world.general, "persona edit", **options)
        await handle.wait_response()
        return _private(handle)

    # There is no rename: a name with "discord" in it can only be a persona that isn't there.
    assert (await edit(name="Discord", style="Official.")).startswith(
        "There is no persona called 'Discord'. Personas: Claude, DeepSeek, Gemini, Llama"
    )
    assert await edit(name="Claude", avatar_url="javascript://evil.example/x.png") == (
        "The avatar must be an https:// link."
    )
    assert await edit(name="Claude", avatar_url=f"{EVIL_URL}/payload.html") == (
        "The avatar must link to a PNG, JPEG, GIF or WebP image."
    )
    # Discord refuses a style over the option's max_length (500); the bot checks again.
    for length in (5000, 501):
        with pytest.raises(DriverError, match="length is outside the schema's bounds"):
            await driver.slash(
                admin, world.general, "persona edit", name="Claude", style="s" * length
            )
    with pytest.raises(UserFacingError, match="The style is 501 characters; it can be at most 500"):
        await harness.bot.personas.edit(world.guild.id, admin.id, "Claude", style="s" * 501)
    assert await harness.store.persona_overrides(world.guild.id) == {}
    harness.fake.assert_no_pings()


def test_a_persona_named_with_discord_is_rejected_by_the_config_and_defused_as_a_username():
    raw = {
        "providers": {"local": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}},
        "models": {"m": {"provider": "local", "model": "m"}},
        "personas": [{"name": "Discord Sage", "model": "m"}, {"name": "Sage", "model": "m"}],
        "presets": {"default": {"members": ["Discord Sage", "Sage"]}},
    }
    with pytest.raises(ConfigError) as refused:
        parse_config(raw, "council.toml", {})
    [problem] = [p for p in refused.value.problems if p.key.endswith(".name")]
    assert "Discord Sage" in problem.problem
    assert 'contains "discord"' in problem.problem
    assert sanitise_username("Discord Sage") == "Disc-ord Sage"
    assert sanitise_username("my CLYDE\u200b") == "my CLY-DE"
