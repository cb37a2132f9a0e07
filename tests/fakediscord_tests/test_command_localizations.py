"""Command localizations: checked, stored and answered as Discord does them.

Bodies go through the tiny bot's own HTTP client, raw, since discord.py sends whatever its
translator returns.
"""

from __future__ import annotations

import json
from typing import Any

import discord
import pytest
from discord.http import Route

from tests.fakediscord import Driver, DriverError, FakeDiscord, Kind
from tests.fakediscord.openapi import OPENAPI_PATH
from tests.fakediscord.rules import COMMAND_TOTAL_CHARS_MAX, DISCORD_LOCALES
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot


def _command(**fields: Any) -> dict[str, Any]:
    """/ask with a required `question` and an optional `tone` offering two choices."""
    command: dict[str, Any] = {
        "name": "ask",
        "description": "Ask something",
        "type": 1,
        "options": [
            {"type": 3, "name": "question", "description": "What to ask", "required": True},
            {
                "type": 3,
                "name": "tone",
                "description": "How to ask it",
                "choices": [{"name": "kind", "value": "kind"}, {"name": "blunt", "value": "blunt"}],
            },
        ],
    }
    command.update(fields)
    return command


def _option(name: str, **fields: Any) -> dict[str, Any]:
    command = _command()
    [option] = [o for o in command["options"] if o["name"] == name]
    option.update(fields)
    return command


def _choice(**fields: Any) -> dict[str, Any]:
    command = _command()
    command["options"][1]["choices"][0].update(fields)
    return command


async def _sync(bot: TinyBot, world: World, commands: list[dict[str, Any]]) -> Any:
    assert bot.application_id is not None
    return await bot.http.bulk_upsert_guild_commands(bot.application_id, world.guild.id, commands)


async def _get(bot: TinyBot, world: World, **params: str) -> Any:
    route = Route(
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        application_id=bot.application_id,
        guild_id=world.guild.id,
    )
    return await bot.http.request(route, params=params)


def _error_at(errors: dict[str, Any], path: str) -> str:
    node = errors
    for part in path.split("."):
        node = node[part]
    [error] = node["_errors"]
    return str(error["code"])


REFUSED = [
    pytest.param(
        _command(description_localizations={"pt_BR": "Pergunte algo"}),
        "0.description_localizations.pt_BR",
        "BASE_TYPE_CHOICES",
        id="a locale key Discord does not know",
    ),
    pytest.param(
        _command(name_localizations={"ru": "Спросить"}),
        "0.name_localizations",
        "APPLICATION_COMMAND_INVALID_NAME",
        id="a command name in upper case",
    ),
    pytest.param(
        _option("question", name_localizations={"ru": "ваш вопрос"}),
        "0.options.0.name_localizations.ru",
        "APPLICATION_COMMAND_INVALID_NAME",
        id="an option name with a space",
    ),
    pytest.param(
        _option("question", name_localizations={"de": "f" * 33}),
        "0.options.0.name_localizations.de",
        "APPLICATION_COMMAND_INVALID_NAME",
        id="an option name over 32 characters",
    ),
    pytest.param(
        _command(description_localizations={"ru": "д" * 101}),
        "0.description_localizations.ru",
        "BASE_TYPE_BAD_LENGTH",
        id="a description over 100 characters",
    ),
    pytest.param(
        _option("tone", description_localizations={"ru": ""}),
        "0.options.1.description_localizations.ru",
        "BASE_TYPE_BAD_LENGTH",
        id="an empty option description",
    ),
    pytest.param(
        _choice(name_localizations={"ru": "м" * 101}),
        "0.options.1.choices.0.name_localizations.ru",
        "BASE_TYPE_BAD_LENGTH",
        id="a choice name over 100 characters",
    ),
    pytest.param(
        _option("tone", name_localizations={"ru": "question"}),
        "0.options.1.name_localizations.ru",
        "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
        id="an option named in one locale as another is by default",
    ),
]


@pytest.mark.parametrize(("command", "path", "code"), REFUSED)
async def test_an_invalid_command_localization_is_refused_with_50035(
    fake_discord: FakeDiscord,
    world: World,
    tiny_bot: TinyBot,
    command: dict[str, Any],
    path: str,
    code: str,
):
    fake_discord.expect_violation(Kind.COMMAND_INVALID)
    with pytest.raises(discord.HTTPException) as caught:
        await _sync(tiny_bot, world, [command])
    assert caught.value.code == 50035
    [problem] = fake_discord.violations_of(Kind.COMMAND_INVALID)
    assert problem.detail.startswith(f"{path}: ")
    refusal = fake_discord.requests("PUT")[-1]
    assert refusal.status == 400
    assert _error_at(refusal.response["errors"], path) == code


async def test_two_options_may_not_share_a_name_in_one_locale(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.COMMAND_INVALID)
    command = _command()
    for option in command["options"]:
        option["name_localizations"] = {"ru": "вопрос"}
    with pytest.raises(discord.HTTPException):
        await _sync(tiny_bot, world, [command])
    errors = fake_discord.requests("PUT")[-1].response["errors"]
    for i in ("0", "1"):
        code = _error_at(errors, f"0.options.{i}.name_localizations.ru")
        assert code == "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS"


def _many_choices(localized_len: int) -> dict[str, Any]:
    """A command of 5 options with 20 choices each, every choice named at `localized_len`
    characters in Russian: 5 * 20 * (localized_len + 2) characters of choices."""
    options = [
        {
            "type": 3,
            "name": f"o{i}",
            "description": "d",
            "choices": [
                {"name": "c", "value": f"{j:02}", "name_localizations": {"ru": "ы" * localized_len}}
                for j in range(20)
            ],
        }
        for i in range(5)
    ]
    return _command(options=options)


async def test_the_longest_localization_of_each_field_counts_toward_the_size_limit(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    await _sync(tiny_bot, world, [_many_choices(70)])  # 100 choices of 72: under 8000
    fake_discord.expect_violation(Kind.COMMAND_INVALID)
    with pytest.raises(discord.HTTPException):
        await _sync(tiny_bot, world, [_many_choices(80)])  # 100 of 82: over, in Russian only
    errors = fake_discord.requests("PUT")[-1].response["errors"]
    assert _error_at(errors, "0") == "APPLICATION_COMMAND_TOO_LARGE"
    assert f"({COMMAND_TOTAL_CHARS_MAX})" in errors["0"]["_errors"][0]["message"]


async def test_localizations_are_stored_and_listed_only_when_asked_for(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    command = _command(
        # Discord ignores a localization identical to the default.
        name_localizations={"ru": "спросить", "en-GB": "ask"},
        description_localizations={"ru": "Спросить что-нибудь"},
    )
    command["options"][1]["choices"][0]["name_localizations"] = {"ru": "мягко"}
    [synced] = await _sync(tiny_bot, world, [command])
    assert synced["name_localizations"] == {"ru": "спросить"}

    [listed] = await _get(tiny_bot, world, with_localizations="true")
    assert listed["name_localizations"] == {"ru": "спросить"}
    assert listed["description_localizations"] == {"ru": "Спросить что-нибудь"}
    assert listed["options"][1]["choices"][0]["name_localizations"] == {"ru": "мягко"}

    # Without the flag only the requester's locale is shown, and the bot's is en-US.
    [plain] = await _get(tiny_bot, world)
    assert "name_localizations" not in plain
    assert "name_localized" not in plain
    assert plain["options"][1]["choices"][0] == {"name": "kind", "value": "kind"}


async def test_a_member_types_localized_names_and_the_interaction_carries_canonical_ones(
    discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    tiny = discord_driver.synced_command(world.guild.id, "tiny")
    tiny.data["name_localizations"] = {"ru": "мини"}
    [admin] = [o for o in tiny.data["options"] if o["name"] == "admin"]
    admin["name_localizations"] = {"ru": "админ"}
    [echo] = [o for o in admin["options"] if o["name"] == "echo"]
    echo["name_localizations"] = {"ru": "эхо"}
    [text, times] = echo["options"]
    text["name_localizations"] = {"ru": "текст"}
    times["name_localizations"] = {"ru": "раз"}
    ivan = discord_driver.create_member(world.guild, "ivan", locale="ru")

    handle = await discord_driver.slash(
        ivan, world.general, "мини админ эхо", текст="привет", раз=2
    )
    answer = await handle.wait_response()

    assert answer.content == "привет привет"
    data = handle.interaction.data
    assert data["name"] == "tiny"
    [group] = data["options"]
    assert group["name"] == "admin"
    [sub] = group["options"]
    assert sub["name"] == "echo"
    assert [o["name"] for o in sub["options"]] == ["text", "times"]
    # A member whose client is in another language sees no Russian names to type.
    with pytest.raises(DriverError, match="never synced"):
        await discord_driver.slash(world.bob, world.general, "мини админ эхо", text="hi")


def test_the_locales_are_those_of_discords_openapi_description():
    document = json.loads(OPENAPI_PATH.read_text(encoding="utf-8"))
    enum = document["components"]["schemas"]["AvailableLocalesEnum"]["oneOf"]
    assert set(DISCORD_LOCALES) == {entry["const"] for entry in enum}
