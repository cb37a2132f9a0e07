"""A Russian-speaking server runs a council from start to summary without seeing English."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import Any

import httpx
import pytest
import regex

from bot.config import parse_config
from bot.council.models import SessionStatus
from bot.render.text import default_fonts
from tests.bot_harness import Harness, World
from tests.council.conftest import NAMES, make_config
from tests.fakediscord import Driver
from tests.fakediscord.reader import SeenMessage
from tests.fakediscord.state import Perm

# The personas of the server's panel, named in Cyrillic and Chinese.
RUSSIAN_NAMES = {"Claude": "Клод", "DeepSeek": "ДипСик", "Gemini": "双子座", "Llama": "Лама"}
TOPIC = "Должны ли города запретить автомобили?"
REPLY = "Городам нужны трамваи и велосипеды. "

# What may stay in Latin letters in the bot's own Russian words: the product's own name in a
# footer, model ids, and units nobody translates.
ALLOWED_LATIN = {"Council", "Discord", "USD", "Markdown", "JSON", "HTML"}
_LATIN_WORD = regex.compile(r"[A-Za-z]{2,}")
_NOT_WORDS = regex.compile(r"https?://\S+|<[^>]*>|\b[a-z0-9-]+-model\b")


def _english_words(text: str) -> list[str]:
    return [w for w in _LATIN_WORD.findall(_NOT_WORDS.sub(" ", text)) if w not in ALLOWED_LATIN]


def _words_of(message: SeenMessage) -> Iterable[str]:
    """Every piece of text a member sees on a message the bot wrote itself."""
    yield message.content
    for embed in message.embeds:
        yield embed.get("title", "")
        yield embed.get("description", "")
        yield (embed.get("footer") or {}).get("text", "")
        yield (embed.get("author") or {}).get("name", "")
        for field in embed.get("fields", []):
            yield field.get("name", "")
            yield field.get("value", "")
    for button in message.buttons:
        yield button.label or ""


def _config(llm: Any):
    """The harness's configuration with the personas renamed into Russian and Chinese."""
    raw = make_config(llm, max_tokens=2000).model_dump(mode="json")
    for persona in raw["personas"]:
        persona["name"] = RUSSIAN_NAMES[persona["name"]]
    for preset in raw["presets"].values():
        preset["members"] = [RUSSIAN_NAMES[name] for name in preset["members"]]
        if preset.get("chair"):
            preset["chair"] = RUSSIAN_NAMES[preset["chair"]]
    return parse_config(raw, "council.toml", {})


@pytest.fixture
def world(discord_driver: Driver) -> World:
    guild = discord_driver.create_guild("Совет", locale="ru")
    general = discord_driver.create_text_channel(guild, "общий")
    host = discord_driver.create_member(
        guild, "hozyain", permissions=Perm.MANAGE_THREADS, nick="Хозяин", locale="ru"
    )
    bob = discord_driver.create_member(guild, "bob", locale="ru")
    return World(guild, general, host, bob)


@pytest.fixture
async def russian(
    fake_discord, discord_driver, fake_llm, world, tmp_path
) -> AsyncIterator[Harness]:
    async with httpx.AsyncClient() as http:
        harness = Harness(
            fake_discord, discord_driver, fake_llm, world, tmp_path / "council.db", http
        )
        harness.config = _config(fake_llm)
        for name in NAMES:
            fake_llm.script(f"{name.lower()}-model", reply=REPLY * 3)
        await harness.start()
        try:
            yield harness
        finally:
            await harness.stop()


async def test_a_russian_server_runs_a_council_without_seeing_english_or_a_box(russian):
    world, driver = russian.world, russian.driver

    # The commands are registered with Russian names and descriptions.
    council = driver.synced_command(world.guild.id, "council")
    assert council.data["name_localizations"]["ru"]
    [start] = [o for o in council.data["options"] if o["name"] == "start"]
    assert regex.search(r"\p{Cyrillic}", start["description_localizations"]["ru"])

    handle = await driver.slash(
        world.host, world.general, "council start", topic=TOPIC, rounds=2, language="ru"
    )
    await handle.wait_ack()
    session = await russian.wait_ended()
    assert session.status is SessionStatus.FINISHED

    # The models were asked to answer in Russian.
    for name in NAMES:
        requests = russian.llm.requests_for(f"{name.lower()}-model")
        assert requests
        assert all("Answer in Russian" in r.system_text() for r in requests)

    # What the host was told privately, and everything the bot itself posted, is Russian.
    english: list[str] = []
    for reply in handle.responses:
        english += _english_words(reply.content)
    [thread] = driver.threads_of(world.general)
    assert regex.search(r"\p{Cyrillic}", thread.name)
    seen = [
        *driver.read(world.general, as_user=world.bob),
        *driver.read(thread, as_user=world.bob),
    ]
    personas = set(RUSSIAN_NAMES.values())
    own = [m for m in seen if not (m.is_webhook and m.author_name in personas)]
    assert any(m.embeds for m in own), "the opening embed and the summary"
    for message in seen:
        texts = _words_of(message) if message in own else [b.label or "" for b in message.buttons]
        for text in texts:
            english += _english_words(text)
    assert english == []

    # The summary is there with its chart, whose fonts draw every Russian name and the topic.
    summaries = [m for m in own if m.embeds and m.attachments]
    assert summaries, "the summary embed with its chart"
    assert default_fonts().missing(TOPIC + "".join(RUSSIAN_NAMES.values()) + thread.name) in (
        [],
        list(RUSSIAN_NAMES["Gemini"]),  # CJK needs fonts-noto-cjk on the machine
    )
