"""Each Discord rule the fake enforces is detected, answered as Discord does, and recorded.

Requests go through the tiny bot's real discord.py client; raw bodies (via its HTTP client) are
used where discord.py itself would refuse to send the broken payload.
"""

from __future__ import annotations

from typing import Any

import discord
import pytest
from discord.http import Route

from tests.fakediscord import Driver, FakeDiscord, Kind, Perm
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot, vote_view


def _channel(bot: TinyBot, world: World) -> discord.TextChannel:
    channel = bot.get_channel(world.general.id)
    assert isinstance(channel, discord.TextChannel)
    return channel


async def _post(bot: TinyBot, world: World, body: dict[str, Any]) -> Any:
    route = Route("POST", "/channels/{channel_id}/messages", channel_id=world.general.id)
    return await bot.http.request(route, json=body)


def _button(custom_id: str, label: str = "b") -> dict[str, Any]:
    return {"type": 2, "style": 1, "label": label, "custom_id": custom_id}


def _row(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"type": 1, "components": list(buttons)}


LONG_FIELDS = [{"name": "n", "value": "v" * 1000} for _ in range(7)]
BROKEN_MESSAGES = [
    (Kind.CONTENT_TOO_LONG, {"content": "x" * 2001}),
    (Kind.TOO_MANY_EMBEDS, {"embeds": [{"title": "t"}] * 11}),
    (Kind.EMBED_TITLE_TOO_LONG, {"embeds": [{"title": "t" * 257}]}),
    (Kind.EMBED_DESCRIPTION_TOO_LONG, {"embeds": [{"description": "d" * 4097}]}),
    (Kind.EMBED_TOO_MANY_FIELDS, {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}),
    (Kind.EMBED_FIELD_NAME_TOO_LONG, {"embeds": [{"fields": [{"name": "n" * 257, "value": "v"}]}]}),
    (
        Kind.EMBED_FIELD_VALUE_TOO_LONG,
        {"embeds": [{"fields": [{"name": "n", "value": "v" * 1025}]}]},
    ),
    (Kind.EMBED_FOOTER_TOO_LONG, {"embeds": [{"footer": {"text": "f" * 2049}}]}),
    (Kind.EMBED_AUTHOR_TOO_LONG, {"embeds": [{"author": {"name": "a" * 257}}]}),
    (Kind.EMBEDS_TOTAL_TOO_LONG, {"embeds": [{"fields": LONG_FIELDS}]}),
    (Kind.TOO_MANY_ACTION_ROWS, {"components": [_row(_button(f"c{i}")) for i in range(6)]}),
    (Kind.TOO_MANY_BUTTONS, {"components": [_row(*[_button(f"c{i}") for i in range(6)])]}),
    (Kind.CUSTOM_ID_INVALID, {"components": [_row(_button("c" * 101))]}),
    (Kind.CUSTOM_ID_DUPLICATE, {"components": [_row(_button("same"), _button("same"))]}),
    (Kind.BUTTON_LABEL_TOO_LONG, {"components": [_row(_button("c", "l" * 81))]}),
    (
        Kind.ALLOWED_MENTIONS_INVALID,
        {"content": "hi", "allowed_mentions": {"parse": ["users"], "users": ["80351110224678912"]}},
    ),
    (Kind.ALLOWED_MENTIONS_INVALID, {"content": "hi", "allowed_mentions": {"parse": ["nobody"]}}),
]


@pytest.mark.parametrize(("kind", "body"), BROKEN_MESSAGES, ids=[k for k, _ in BROKEN_MESSAGES])
async def test_message_limits_answer_invalid_form_body(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot, kind: str, body: dict[str, Any]
):
    fake_discord.expect_violation(kind)
    with pytest.raises(discord.HTTPException) as caught:
        await _post(tiny_bot, world, body)
    assert (caught.value.status, caught.value.code) == (400, 50035)
    assert [v.kind for v in fake_discord.violations] == [kind]
    assert fake_discord.world.channel_messages(world.general.id) == []


async def test_empty_message_answers_50006(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.EMPTY_MESSAGE)
    with pytest.raises(discord.HTTPException) as caught:
        await _post(tiny_bot, world, {"content": "   "})
    assert caught.value.code == 50006


async def test_interaction_acknowledged_after_three_seconds_is_unknown(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.ACK_DEADLINE)
    handle = await discord_driver.slash(world.bob, world.general, "tiny slow")
    await fake_discord.wait_for(lambda: "ack" in tiny_bot.reached, what="the command to start")
    fake_discord.advance_clock(3.5)
    tiny_bot.gates["ack"].set()
    await fake_discord.wait_for(lambda: tiny_bot.errors, what="the command to fail")
    assert not handle.is_acknowledged
    original = tiny_bot.errors[0].__cause__ or tiny_bot.errors[0]
    assert isinstance(original, discord.NotFound)
    assert original.code == 10062


async def test_second_acknowledgement_is_rejected(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.ALREADY_ACKNOWLEDGED)
    handle = await discord_driver.slash(world.bob, world.general, "tiny twice")
    await fake_discord.wait_for(lambda: tiny_bot.errors, what="the second ack to fail")
    assert handle.is_deferred
    original = tiny_bot.errors[0].__cause__
    assert isinstance(original, discord.HTTPException)
    assert original.code == 40060


async def test_followup_after_fifteen_minutes_is_rejected(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.TOKEN_EXPIRED)
    handle = await discord_driver.slash(world.bob, world.general, "tiny slow")
    await fake_discord.wait_for(lambda: "ack" in tiny_bot.reached, what="the command to start")
    tiny_bot.gates["ack"].set()
    await handle.wait_ack()
    await fake_discord.wait_for(lambda: "followup" in tiny_bot.reached, what="the deferral")
    fake_discord.advance_clock(15 * 60 + 1)
    tiny_bot.gates["followup"].set()
    await fake_discord.wait_for(lambda: tiny_bot.errors, what="the followup to fail")
    original = tiny_bot.errors[0].__cause__
    assert isinstance(original, discord.HTTPException)
    assert (original.status, original.code) == (401, 50027)


async def test_webhook_names_must_not_mention_discord_or_clyde(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.WEBHOOK_NAME_INVALID, Kind.WEBHOOK_USERNAME_INVALID)
    channel = _channel(tiny_bot, world)
    with pytest.raises(discord.HTTPException) as caught:
        await channel.create_webhook(name="My Discord Hook")
    assert caught.value.code == 50035
    webhook = await channel.create_webhook(name="Council")
    for username in ("Clyde", "x" * 81):
        with pytest.raises(discord.HTTPException):
            await webhook.send("hi", username=username)
    assert len(fake_discord.violations_of(Kind.WEBHOOK_USERNAME_INVALID)) == 2


async def test_sixteenth_webhook_in_a_channel_is_refused(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.TOO_MANY_WEBHOOKS)
    for i in range(15):
        discord_driver.create_webhook(world.general, f"hook {i}", by=world.alice)
    with pytest.raises(discord.HTTPException) as caught:
        await _channel(tiny_bot, world).create_webhook(name="Council")
    assert caught.value.code == 30007


async def test_buttons_need_a_webhook_owned_by_the_application(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.COMPONENTS_ON_FOREIGN_WEBHOOK)
    hook = discord_driver.create_webhook(world.general, "Alice's hook", by=world.alice)
    webhook = discord.Webhook.partial(hook.id, hook.token, client=tiny_bot)
    with pytest.raises(discord.HTTPException) as caught:
        await webhook.send("vote!", view=vote_view(7), wait=True)
    assert caught.value.code == 50035
    await webhook.send("no buttons is fine", wait=True)


async def test_thread_names_are_one_to_a_hundred_characters(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.THREAD_NAME_INVALID)
    with pytest.raises(discord.HTTPException) as caught:
        await _channel(tiny_bot, world).create_thread(
            name="t" * 101, type=discord.ChannelType.public_thread
        )
    assert caught.value.code == 50035


async def test_unknown_ids_answer_404_with_discord_codes(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.UNKNOWN_CHANNEL, Kind.UNKNOWN_MESSAGE, Kind.UNKNOWN_WEBHOOK)
    with pytest.raises(discord.NotFound) as channel:
        await tiny_bot.fetch_channel(1234567890123456789)
    with pytest.raises(discord.NotFound) as message:
        await _channel(tiny_bot, world).fetch_message(1234567890123456789)
    token = "a" * 68
    with pytest.raises(discord.NotFound) as webhook:
        await discord.Webhook.partial(1234567890123456789, token, client=tiny_bot).send("hi")
    assert (channel.value.code, message.value.code, webhook.value.code) == (10003, 10008, 10015)


async def test_deleted_webhook_mid_session_answers_10015(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.UNKNOWN_WEBHOOK)
    webhook = await _channel(tiny_bot, world).create_webhook(name="Council")
    discord_driver.delete_webhook(webhook.id)
    with pytest.raises(discord.NotFound) as caught:
        await webhook.send("anyone there?", username="Claude")
    assert caught.value.code == 10015


async def test_deleted_thread_mid_session_answers_10003(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.UNKNOWN_CHANNEL)
    channel = _channel(tiny_bot, world)
    webhook = await channel.create_webhook(name="Council")
    thread = await channel.create_thread(name="Debate", type=discord.ChannelType.public_thread)
    discord_driver.delete_channel(fake_discord.world.channels[thread.id])
    with pytest.raises(discord.NotFound) as caught:
        await webhook.send("hello?", thread=thread)
    assert caught.value.code == 10003


async def test_missing_manage_webhooks_answers_50013(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.MISSING_PERMISSIONS)
    discord_driver.revoke(world.guild, Perm.MANAGE_WEBHOOKS)
    with pytest.raises(discord.Forbidden) as caught:
        await _channel(tiny_bot, world).create_webhook(name="Council")
    assert caught.value.code == 50013


async def test_channel_overwrite_can_revoke_send_messages(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.MISSING_PERMISSIONS)
    discord_driver.revoke(world.guild, Perm.SEND_MESSAGES, channel=world.general)
    await fake_discord.wait_for(
        lambda: (
            not _channel(tiny_bot, world)
            .permissions_for(_channel(tiny_bot, world).guild.me)
            .send_messages
        ),
        what="the bot's cache to see the overwrite",
    )
    with pytest.raises(discord.Forbidden):
        await _channel(tiny_bot, world).send("hi")


async def test_unimplemented_route_is_recorded(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.UNIMPLEMENTED_ROUTE)
    with pytest.raises(discord.NotFound):
        [m async for m in _channel(tiny_bot, world).pins()]
    [violation] = fake_discord.violations
    assert "pins" in violation.detail


async def test_body_outside_the_openapi_schema_is_recorded(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.OPENAPI_SCHEMA)
    await _post(
        tiny_bot, world, {"content": "hi", "embeds": [{"fields": [{"name": 1, "value": "v"}]}]}
    )
    [violation] = fake_discord.violations
    assert "embeds/0/fields/0/name" in violation.detail


async def test_invalid_command_sync_is_refused(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.COMMAND_INVALID)
    bad = [{"name": "Bad Name", "description": "", "type": 1, "options": []}]
    assert tiny_bot.application_id is not None
    with pytest.raises(discord.HTTPException) as caught:
        await tiny_bot.http.bulk_upsert_guild_commands(tiny_bot.application_id, world.guild.id, bad)
    assert caught.value.code == 50035
    assert len(fake_discord.violations_of(Kind.COMMAND_INVALID)) == 2


async def test_mentions_ping_only_what_allowed_mentions_allows(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    mods = discord_driver.create_role(world.guild, "mods", mentionable=True)
    channel = _channel(tiny_bot, world)
    text = f"<@{world.bob.id}> <@&{mods.id}> @everyone"
    quiet = await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
    loud = await channel.send(text)
    seen = {m.id: m for m in discord_driver.read(world.general, as_user=world.bob)}
    assert not seen[quiet.id].pings.any
    # The bot lacks Mention Everyone: @everyone stays silent, the user and mentionable role ping.
    assert seen[loud.id].pings.users == {world.bob.id}
    assert seen[loud.id].pings.roles == {mods.id}
    assert not seen[loud.id].pings.everyone
