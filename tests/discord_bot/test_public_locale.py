"""What the bot posts for a council speaks the council's language, else the server's."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.council.models import Session, SessionStatus

CYRILLIC = re.compile("[\u0400-\u04ff]")


@dataclass
class Shown:
    """A finished council as the server saw it."""

    session: Session
    opening: dict[str, Any]
    header: str
    summary: dict[str, Any]
    closing: str


async def _hold_council(harness, **options: object) -> Shown:
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic="Trains or cars?", rounds=1, **options
    )
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    in_channel = driver.read(world.general, as_user=world.bob)
    in_thread = driver.read(thread, as_user=world.bob)
    [opening] = [e for m in in_channel for e in m.embeds if e.get("title", "").startswith("🏛️")]
    [header] = [m.content for m in in_thread if "──" in m.content]
    [closing] = [m.content for m in in_channel if "discord.com/channels" in m.content]
    return Shown(session, opening, header, in_thread[-1].embeds[0], closing)


def _assert_russian(shown: Shown) -> None:
    assert shown.session.status is SessionStatus.FINISHED
    assert shown.session.locale == "ru"
    assert shown.header == "**── Раунд 1 ──**"
    assert shown.opening["description"].startswith("Совет в формате **параллельный**: 4 участника")
    assert "Голосуйте 👍/👎 под каждым ответом." in shown.opening["description"]
    summary = shown.summary
    assert summary["title"] == f"Совет №{shown.session.id}: итоги"
    assert summary["description"].startswith("**Тема:** Trains or cars?")
    assert "*Участие: в каждом раунде ответили все участники (4).*" in summary["description"]
    # Each member's field has the bot's words about it (replies, tokens) in Russian.
    for field in summary["fields"]:
        assert CYRILLIC.search(field["name"] + field["value"]), field
    assert summary["footer"]["text"].startswith(f"Совет №{shown.session.id} · параллельный · ")
    assert shown.closing.startswith(f"Совет №{shown.session.id} завершён: https://")


async def test_a_council_held_in_russian_in_an_english_server_posts_in_russian(harness):
    assert harness.world.guild.preferred_locale == "en-US"

    shown = await _hold_council(harness, language="ru")

    _assert_russian(shown)


async def test_a_council_with_no_language_in_a_russian_server_posts_in_russian(harness):
    harness.world.guild.preferred_locale = "ru"

    shown = await _hold_council(harness)

    assert shown.session.language == ""
    _assert_russian(shown)


async def test_a_council_in_an_english_server_posts_in_english(harness):
    shown = await _hold_council(harness)

    assert shown.session.locale == "en"
    assert shown.header == "**── Round 1 ──**"
    assert shown.opening["description"].startswith("A **parallel** council of 4 in 1 round,")
    assert shown.summary["title"] == f"Council #{shown.session.id}: summary"
    assert "*Coverage: all 4 members answered every round.*" in shown.summary["description"]
    assert shown.closing.startswith(f"Council #{shown.session.id} has ended: https://")
    assert not CYRILLIC.search(str(shown.summary) + str(shown.opening) + shown.header)


async def test_a_russian_council_keeps_its_locale_when_the_host_stops_it(harness):
    world, driver = harness.world, harness.driver
    harness.world.guild.preferred_locale = "ru"
    harness.llm.script("claude-model", reply="word " * 300, tokens_per_s=20)
    start = await driver.slash(world.host, world.general, "council start", topic="Trains?")
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    stop = await driver.slash(world.host, thread, "council stop")
    await stop.wait_response()
    ended = await harness.wait_ended()

    assert ended.id == session.id
    assert ended.stop_reason == "Остановлено по решению host."
    summary = driver.read(thread, as_user=world.bob)[-1].embeds[0]
    assert "⚠️ Остановлено по решению host." in summary["description"]


async def test_a_blind_russian_council_names_its_members_in_russian_until_the_reveal(harness):
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic="Трамваи или автобусы?", rounds=1,
        blind=True, language="ru",
    )  # fmt: skip
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    posted = {m.author_name for m in driver.read(thread, as_user=world.bob) if m.buttons}
    aliases = {m.alias for m in await harness.store.members(session.id)}

    assert posted == aliases
    assert {alias.split(" ")[0] for alias in aliases} == {"Советник"}
    assert all(CYRILLIC.fullmatch(alias.split(" ")[1]) for alias in aliases)
    [opening] = [
        e for m in driver.read(world.general, as_user=world.bob) for e in m.embeds if e["fields"]
    ]
    assert {f["name"] for f in opening["fields"]} == {"Советник ?"}
