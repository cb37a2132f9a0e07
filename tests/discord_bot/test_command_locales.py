"""Each member sees Council's commands in their own language; interactions keep English names.

The ids are spelled out here from the synced commands, independently of the translator:
``command.<path>.name|description``, ``command.<path>.option.<option>.name|description`` and
``choice.<option>.<value>``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import regex

from bot.discord_ui.translator import build_tree, read_messages, tree_messages
from bot.i18n import DEFAULT_LOCALE, shipped_locales
from tests.fakediscord.rules import is_command_name
from tests.fakediscord.state import Perm

REGENERATE = (
    "Run `python -m bot.discord_ui.translator`: it rewrites the English catalog "
    "(bot/i18n/locales/en/LC_MESSAGES/commands.po) from the command tree and lists what each "
    "other language must translate, review or remove."
)
RUSSIAN = read_messages("ru")
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2
CHAT_INPUT, MESSAGE_COMMAND = 1, 3


def _texts(item: dict[str, Any], path: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(message id, field, the synced object holding it) for a command and all it contains."""
    yield f"command.{path}.name", "name", item
    yield f"command.{path}.description", "description", item
    for option in item.get("options") or []:
        if option["type"] in (SUB_COMMAND, SUB_COMMAND_GROUP):
            yield from _texts(option, f"{path}.{option['name']}")
            continue
        yield f"command.{path}.option.{option['name']}.name", "name", option
        yield f"command.{path}.option.{option['name']}.description", "description", option
        for choice in option.get("choices") or []:
            value = str(choice["value"]).casefold()
            yield f"choice.{option['name']}.{value}", "name", choice


async def test_every_synced_command_option_and_choice_has_its_russian_name_and_description(
    harness,
):
    synced = [
        c for c in harness.fake.world.commands.values() if c.guild_id == harness.world.guild.id
    ]
    assert {c.name for c in synced} == {"council", "persona", "council-admin", "About this reply"}
    wrong = []
    count = 0
    for menu in (c for c in synced if c.type == MESSAGE_COMMAND):
        message_id = f"menu.{'-'.join(menu.name.casefold().split())}.name"
        if menu.data.get("name_localizations") != {"ru": RUSSIAN.get(message_id)}:
            wrong.append(f"{message_id}: {menu.data.get('name_localizations')!r}")
    for command in (c for c in synced if c.type == CHAT_INPUT):
        for message_id, field, item in _texts(command.data, command.name):
            count += 1
            localized = item.get(f"{field}_localizations")
            # Russian only: English is the default itself, and no other language has a catalog.
            if localized != {"ru": RUSSIAN.get(message_id)}:
                wrong.append(f"{message_id}: {localized!r}")
    assert wrong == []
    assert count > 150


async def test_a_russian_member_starts_a_council_by_the_names_their_client_shows(harness):
    world, driver = harness.world, harness.driver
    ivan = driver.create_member(world.guild, "ivan", permissions=Perm.MANAGE_THREADS, locale="ru")
    council = driver.synced_command(world.guild.id, "council").data
    [start] = [o for o in council["options"] if o["name"] == "start"]
    shown = {o["name"]: o["name_localizations"]["ru"] for o in start["options"]}

    handle = await driver.slash(
        ivan,
        world.general,
        f"{council['name_localizations']['ru']} {start['name_localizations']['ru']}",
        **{shown["topic"]: "Поезда или машины?", shown["rounds"]: 1},
    )
    await handle.wait_ack()
    session = await harness.wait_ended()

    assert session.topic == "Поезда или машины?"
    assert session.rounds == 1
    # Discord sends the canonical names whatever the member's language; the bot needs no more.
    data = handle.interaction.data
    assert data["name"] == "council"
    [sub] = data["options"]
    assert sub["name"] == "start"
    assert {o["name"] for o in sub["options"]} == {"topic", "rounds"}


async def test_the_catalogs_hold_every_text_the_command_tree_asks_for(harness):
    asked = await tree_messages(harness.bot.tree)
    english = read_messages(DEFAULT_LOCALE)
    problems = [f"en: {k} says {english.get(k)!r}, the code {text!r}" for k, text in asked.items()
                if english.get(k) != text]  # fmt: skip
    for language in shipped_locales():
        theirs = read_messages(language)
        problems += [f"{language}: {k} missing" for k in asked if not theirs.get(k)]
        problems += [f"{language}: {k} is not in the tree" for k in theirs if k not in asked]
    assert problems == [], "\n".join([*problems, REGENERATE])


async def test_the_catalog_tool_reads_the_tree_the_bot_syncs(harness):
    assert await tree_messages(await build_tree()) == await tree_messages(harness.bot.tree)


def test_russian_names_and_descriptions_keep_to_discords_rules():
    """Lower-case single-word names of 1-32 characters, texts of 1-100 (the fake enforces the
    same at sync; this names the offending id)."""
    broken = []
    for message_id, text in RUSSIAN.items():
        kind = message_id.rsplit(".", 1)[1]
        if message_id.startswith("command.") and kind == "name":
            is_valid = is_command_name(text, chat=True)
        elif message_id.startswith("menu."):
            is_valid = is_command_name(text, chat=False)
        else:
            is_valid = 1 <= len(text) <= 100
        if not is_valid:
            broken.append(f"{message_id}: {text!r}")
    assert broken == []


def test_russian_option_names_are_unique_within_each_command():
    options: dict[str, list[str]] = {}
    for message_id, text in RUSSIAN.items():
        found = regex.fullmatch(r"command\.(.+)\.option\.[^.]+\.name", message_id)
        if found:
            options.setdefault(found[1], []).append(text)
    clashes = {path: names for path, names in options.items() if len(set(names)) < len(names)}
    assert options
    assert clashes == {}
