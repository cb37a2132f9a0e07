"""/council leaderboard, history and export, after councils the audience voted on by clicking."""

from __future__ import annotations

import asyncio
import io
import json
import math
import re

from PIL import Image

from bot.council.models import GuildSettings, NewReply, NewSession, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.render.export import counts_from_export
from cogs import history as history_cog
from tests.council.conftest import NAMES
from tests.fakediscord.reader import SeenMessage
from tests.records import Make

UP, DOWN = VoteValue.UP, VoteValue.DOWN


async def _open_voting(harness):
    # Votes are cast after each council ends; a grace period keeps the buttons open meanwhile.
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=harness.world.guild.id, pause_between_rounds_s=0, vote_grace_s=600)
    )


async def _voted_council(harness, topic, ballots, **options):
    """Run a one-round council, then click the vote buttons: {persona: [(user, value), ...]}."""
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic=topic, rounds=1, **options
    )
    await start.wait_ack()
    session = await _ended(harness, topic)
    [thread] = [t for t in driver.threads_of(world.general) if t.name == topic]
    replies = {m.author_name: m for m in driver.read(thread, as_user=world.bob) if m.buttons}
    for persona, votes in ballots.items():
        reply = await harness.store.reply_for_message(replies[persona].id)
        for user, value in votes:
            click = await driver.click(user, replies[persona], vote_custom_id(reply.id, value))
            await click.wait_ack()
            assert click.responses == [], click.responses[0].content  # no refusal
    return session, thread


async def _ended(harness, topic):
    """The council on `topic`, once its summary is posted (`harness.wait_ended` would return an
    earlier council until this one is stored)."""

    async def summarised():
        newest = await harness.store.list_sessions(guild_id=harness.world.guild.id, limit=1)
        if newest and newest[0].topic == topic and newest[0].summary_message_id:
            return newest[0]
        return None

    deadline = asyncio.get_running_loop().time() + 15
    while (session := await summarised()) is None:
        assert asyncio.get_running_loop().time() < deadline, f"council {topic!r} never ended"
        await asyncio.sleep(0.05)
    return session


async def _command(harness, command, *, channel=None, user=None, **options) -> SeenMessage:
    world = harness.world
    handle = await harness.driver.slash(
        user or world.bob, channel or world.general, command, **options
    )
    return await handle.wait_response(timeout=10)


def _attachment(message: SeenMessage, filename: str) -> bytes:
    [found] = [a for a in message.message.attachments if a.filename == filename]
    return found.data


def _ranked_names(description: str) -> list[str]:
    return re.findall(r"^\*\*\d+\.\*\*(?: ≈)? \*\*(.+?)\*\*", description, flags=re.MULTILINE)


async def test_the_leaderboard_ranks_personas_and_models_by_the_clicked_votes_with_a_chart(
    harness,
):
    world, driver = harness.world, harness.driver
    carol = driver.create_member(world.guild, "carol")
    await _open_voting(harness)
    # Both councils: Claude +3, DeepSeek 0, Llama -1.
    ballots = {
        "Claude": [(world.host, UP), (world.bob, UP), (carol, UP)],
        "Llama": [(world.bob, DOWN)],
    }
    members = "Claude,DeepSeek,Llama"
    await _voted_council(harness, "Trains or cars?", ballots, members=members)
    await _voted_council(harness, "Tea or coffee?", ballots, members=members)

    by_persona = await _command(harness, "council leaderboard", by="persona")
    [embed] = by_persona.embeds
    assert not by_persona.is_ephemeral
    assert embed["title"] == "Leaderboard: personas, this server, all time"
    assert _ranked_names(embed["description"]) == ["Claude", "DeepSeek", "Llama"]
    lines = embed["description"].splitlines()
    assert "2 rounds of 2 councils (8 votes)" in lines[0]
    claude = next(line for line in lines if "**Claude**" in line)
    assert claude.endswith("· 2 councils · 6 votes")
    deepseek = next(line for line in lines if "**DeepSeek**" in line)
    assert deepseek.endswith("· 2 councils · 0 votes")
    assert by_persona.attachments == ("leaderboard.png",)
    assert embed["image"]["url"] == "attachment://leaderboard.png"
    chart = Image.open(io.BytesIO(_attachment(by_persona, "leaderboard.png")))
    assert (chart.format, chart.size) == ("PNG", (800, 120 + 60 * 3))

    by_model = await _command(harness, "council leaderboard")
    assert _ranked_names(by_model.embeds[0]["description"]) == [
        "claude-model",
        "deepseek-model",
        "llama-model",
    ]


async def test_the_leaderboard_shows_the_hand_computed_bradley_terry_ratings(harness):
    world = harness.world
    await _open_voting(harness)
    await _voted_council(harness, "Rain?", {"Claude": [(world.bob, UP)]}, members="Claude,Gemini")
    await _voted_council(
        harness,
        "Snow?",
        {"Claude": [(world.host, UP)], "Gemini": [(world.bob, DOWN)]},
        members="Claude,Gemini",
    )
    # Claude won both rounds. With the one virtual tied game the fit adds between a pair, the
    # maximum-likelihood odds are 2.5 : 0.5 = 5 : 1, so the ratings sit 400 * log10(5) apart
    # around 1000. Every bootstrap resample repeats the same two results: no spread.
    gap = 400 * math.log10(5)
    high, low = 1000 + gap / 2, 1000 - gap / 2
    assert (round(high), round(low)) == (1140, 860)

    message = await _command(harness, "council leaderboard", by="persona", period="24h")
    lines = message.embeds[0]["description"].splitlines()
    ranked = [line for line in lines if line.startswith("**")]
    assert ranked == [
        "**1.** **Claude** — **1140** (1140 to 1140) · 2 councils · 2 votes",
        "**2.** **Gemini** — **860** (860 to 860) · 2 councils · 1 vote",
    ]
    assert message.attachments == ("leaderboard.png",)


async def test_history_lists_the_recent_councils_with_their_winners(harness):
    world = harness.world
    await _open_voting(harness)
    first, _ = await _voted_council(
        harness, "Rain?", {"Gemini": [(world.bob, UP)]}, members="Claude,Gemini"
    )
    second, _ = await _voted_council(harness, "Snow?", {}, members="Claude,Gemini")

    message = await _command(harness, "council history")
    [embed] = message.embeds
    assert embed["title"] == "Recent councils in this server"
    newest, oldest = embed["description"].splitlines()
    assert newest.startswith(f"`#{second.id}` **Snow?** · finished · <t:")
    assert newest.endswith("· no votes")
    assert oldest.startswith(f"`#{first.id}` **Rain?** · finished · <t:")
    assert oldest.endswith("· 🏆 Gemini")


async def test_export_attaches_markdown_and_json_whose_vote_counts_match_the_store(harness):
    world = harness.world
    await _open_voting(harness)
    session, thread = await _voted_council(
        harness,
        "Bikes?",
        {"Claude": [(world.bob, UP), (world.host, DOWN)], "Llama": [(world.host, UP)]},
    )

    message = await _command(harness, "council export", channel=thread)
    assert message.is_ephemeral
    md, js = f"council-{session.id}.md", f"council-{session.id}.json"
    assert sorted(message.attachments) == sorted([md, js])
    markdown = _attachment(message, md).decode()
    assert markdown.startswith(f"# Council #{session.id}: Bikes?")
    assert "### Claude — 👍 1 👎 1" in markdown
    exported = _attachment(message, js)
    counts = await harness.store.vote_counts(session.id)
    assert counts_from_export(exported) == counts
    assert sorted(counts.values(), reverse=True)[:2] == [(1, 1), (1, 0)]
    document = json.loads(exported)
    assert document["session"]["guild_id"] == str(world.guild.id)
    assert "votes" not in document  # who voted what stays private

    only_json = await _command(
        harness, "council export", session=session.id, format="json", user=world.host
    )
    assert only_json.attachments == (js,)


async def test_export_of_another_servers_council_is_refused_as_if_it_did_not_exist(harness):
    elsewhere = await harness.store.create_session(
        NewSession(topic="Secret plans", guild_id=harness.world.guild.id + 1)
    )
    missing = elsewhere.id + 1

    refusals = [
        await _command(harness, "council export", session=number)
        for number in (elsewhere.id, missing)
    ]

    for refusal, number in zip(refusals, (elsewhere.id, missing), strict=True):
        assert refusal.is_ephemeral
        assert refusal.attachments == ()
        assert refusal.content == (
            f"There is no council #{number} in this server. "
            "`/council history` lists this server's councils."
        )
    assert "Secret plans" not in str(refusals)


async def test_a_blind_council_cannot_be_exported_until_it_ends_and_reveals_the_names(harness):
    world, driver = harness.world, harness.driver
    await _open_voting(harness)
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=f"{name} answers.", tokens_per_s=20)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Masked", rounds=1, blind=True
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    refusal = await _command(harness, "council export", channel=thread, format="md")
    assert refusal.is_ephemeral
    assert refusal.attachments == ()
    assert refusal.content == (
        f"Council #{session.id} is blind and still under way, and its transcript names the "
        "models: export it once the council has ended."
    )

    await _ended(harness, "Masked")
    message = await _command(harness, "council export", channel=thread, format="md")
    transcript = _attachment(message, f"council-{session.id}.md").decode()
    assert all(f"**{name}**" in transcript for name in NAMES)


async def test_export_outside_a_council_thread_without_a_number_says_where_to_use_it(harness):
    message = await _command(harness, "council export")
    assert message.is_ephemeral
    assert "no council in this thread" in message.content


async def test_the_server_scope_leaves_out_other_servers_votes_and_all_counts_them(harness):
    store = harness.store
    # A council in another server, won by Llama: stored directly, nothing to watch here.
    elsewhere = await store.create_session(
        NewSession(topic="Elsewhere", guild_id=harness.world.guild.id + 1)
    )
    await store.add_members(
        elsewhere.id,
        [
            Make.member(elsewhere.id, i, name, model=f"{name.lower()}-model", provider="local")
            for i, name in enumerate(("Llama", "Gemini"))
        ],
    )
    for name in ("Llama", "Gemini"):
        reply = await store.add_reply(
            NewReply(session_id=elsewhere.id, round_number=1, persona=name, text="…")
        )
        if name == "Llama":
            await store.record_vote(reply.id, 1, UP)

    here = await _command(harness, "council leaderboard", period="7d")
    everywhere = await _command(harness, "council leaderboard", scope="all", period="7d")

    assert here.embeds[0]["title"] == "Leaderboard: models, this server, the last 7 days"
    assert here.embeds[0]["description"].startswith("No ratings yet")
    assert here.attachments == ()
    assert everywhere.embeds[0]["title"] == "Leaderboard: models, all servers, the last 7 days"
    assert _ranked_names(everywhere.embeds[0]["description"]) == ["llama-model", "gemini-model"]
    assert everywhere.attachments == ("leaderboard.png",)


async def test_the_boards_speak_the_servers_language_whoever_asks(harness, monkeypatch):
    world, driver = harness.world, harness.driver
    charted: list[tuple[str, str | None]] = []
    draw = history_cog.ratings_chart

    def ratings_chart(rows, *, title, locale=None, **options):
        charted.append((title, locale))
        return draw(rows, title=title, locale=locale, **options)

    monkeypatch.setattr(history_cog, "ratings_chart", ratings_chart)
    ivan = driver.create_member(world.guild, "ivan", locale="ru")
    await _open_voting(harness)
    council, _ = await _voted_council(
        harness, "Rain?", {"Gemini": [(world.bob, UP)]}, members="Claude,Gemini"
    )

    # A member whose Discord is in Russian, in an English server: the boards are the server's.
    english = [
        await _command(harness, "council history", user=ivan),
        await _command(harness, "council leaderboard", user=ivan, by="persona"),
    ]
    world.guild.preferred_locale = "ru"
    russian = [
        await _command(harness, "council history"),
        await _command(harness, "council leaderboard", by="persona", period="7d"),
    ]

    history, leaderboard = (message.embeds[0] for message in english)
    assert not any(message.is_ephemeral for message in english + russian)
    assert history["title"] == "Recent councils in this server"
    assert history["description"].startswith(f"`#{council.id}` **Rain?** · finished · <t:")
    assert leaderboard["title"] == "Leaderboard: personas, this server, all time"
    assert leaderboard["description"].splitlines()[2:] == [
        "**1.** **Gemini** — **1095** (1095 to 1095) · 1 council · 1 vote",
        "**2.** **Claude** — **905** (905 to 905) · 1 council · 0 votes",
    ]

    history, leaderboard = (message.embeds[0] for message in russian)
    assert history["title"] == "Последние советы на этом сервере"
    assert history["description"].startswith(f"`#{council.id}` **Rain?** · завершён · <t:")
    assert history["description"].endswith(" · 🏆 Gemini")
    assert history["footer"]["text"] == "/совет экспорт номер:<номер> — скачать стенограмму совета."
    assert leaderboard["title"] == "Рейтинг: персоны, этот сервер, за последние 7 дней"
    assert leaderboard["description"].startswith(
        "Персоны оценены по голосам зрителей в 1 раунде из 1 совета (1 голос)."
    )
    assert leaderboard["description"].splitlines()[2:] == [
        "**1.** **Gemini** — **1095** (от 1095 до 1095) · 1 совет · 1 голос",
        "**2.** **Claude** — **905** (от 905 до 905) · 1 совет · 0 голосов",
    ]
    assert leaderboard["footer"]["text"] == "Рейтинги Брэдли — Терри, как их считает Chatbot Arena."
    assert charted == [
        ("Leaderboard: personas, this server, all time", "en-US"),
        ("Рейтинг: персоны, этот сервер, за последние 7 дней", "ru"),
    ]
