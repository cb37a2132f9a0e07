"""The council-shaped flow end to end: slash → defer → followup, persona webhook post, clicks."""

from __future__ import annotations

import pytest

from tests.fakediscord import Driver, DriverError, FakeDiscord
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import PERSONA_AVATAR, PERSONA_NAME, WEBHOOK_NAME, TinyBot


async def test_slash_defers_then_followup_replaces_the_loading_message(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    handle = await discord_driver.slash(
        world.alice, world.general, "tiny start", topic="Tabs or spaces"
    )
    await handle.wait_ack()
    assert handle.is_deferred
    response = await handle.wait_response()
    assert response.content.startswith("Council started in <#")
    assert not response.is_loading
    assert not response.is_ephemeral
    assert response.author_name == fake_discord.bot_user.username
    assert tiny_bot.errors == []


async def test_persona_posts_into_a_thread_under_its_own_name_with_buttons(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    handle = await discord_driver.slash(
        world.alice, world.general, "tiny start", topic="Tabs or spaces"
    )
    await handle.wait_response()
    [thread] = discord_driver.threads_of(world.general)
    assert thread.name == "Tabs or spaces"
    [hook] = discord_driver.webhooks_of(world.general)
    assert hook.name == WEBHOOK_NAME
    assert hook.application_id == fake_discord.application_id
    [post] = discord_driver.read(thread, as_user=world.bob)
    assert post.author_name == PERSONA_NAME
    assert post.author_avatar_url == PERSONA_AVATAR
    assert post.is_webhook
    assert post.content == "My view on Tabs or spaces: it depends."
    assert [(b.label, b.disabled) for b in post.buttons] == [
        ("👍 Agree", False),
        ("👎 Disagree", False),
        ("Close", False),
    ]
    assert not post.pings.any
    execute = fake_discord.requests("POST", "/webhooks/{webhook_id}/{webhook_token}")
    assert execute[0].query["thread_id"] == str(thread.id)
    assert execute[0].body["username"] == PERSONA_NAME


async def test_button_click_reaches_the_dynamic_item_and_answers_ephemerally(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    await (
        await discord_driver.slash(world.alice, world.general, "tiny start", topic="T")
    ).wait_response()
    [thread] = discord_driver.threads_of(world.general)
    [post] = discord_driver.read(thread, as_user=world.bob)
    click = await discord_driver.click(world.bob, post, "tiny:vote:1:up")
    answer = await click.wait_response()
    assert answer.is_ephemeral
    assert answer.content == "Vote up recorded"
    assert tiny_bot.votes == [(world.bob.id, 1, "up")]
    # Only Bob sees his ephemeral answer.
    assert [m.content for m in discord_driver.read(thread, as_user=world.alice)] == [post.content]


async def test_update_message_click_disables_the_buttons(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    await (
        await discord_driver.slash(world.alice, world.general, "tiny start", topic="T")
    ).wait_response()
    [thread] = discord_driver.threads_of(world.general)
    [post] = discord_driver.read(thread, as_user=world.bob)
    handle = await discord_driver.click(world.alice, post, "tiny:close:1")
    await handle.wait_ack()
    assert handle.response_type == 7
    [closed] = discord_driver.read(thread, as_user=world.bob)
    assert closed.content == "Voting closed"
    assert closed.buttons
    assert all(b.disabled for b in closed.buttons)
    with pytest.raises(DriverError, match="disabled"):
        await discord_driver.click(world.bob, closed, "tiny:vote:1:up")


async def test_click_on_a_missing_button_fails(
    discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    await (
        await discord_driver.slash(world.alice, world.general, "tiny start", topic="T")
    ).wait_response()
    [thread] = discord_driver.threads_of(world.general)
    [post] = discord_driver.read(thread, as_user=world.bob)
    with pytest.raises(DriverError, match="no button"):
        await discord_driver.click(world.bob, post, "tiny:vote:2:up")


async def test_slash_of_an_unsynced_command_fails(
    discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    with pytest.raises(DriverError, match="never synced"):
        await discord_driver.slash(world.alice, world.general, "council start", topic="x")
    with pytest.raises(DriverError, match="no subcommand"):
        await discord_driver.slash(world.alice, world.general, "tiny nope")
    with pytest.raises(DriverError, match="required"):
        await discord_driver.slash(world.alice, world.general, "tiny start")


async def test_subcommand_group_options_resolve_by_schema(
    discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    handle = await discord_driver.slash(
        world.bob, world.general, "tiny admin echo", text="hi", times=2
    )
    answer = await handle.wait_response()
    assert answer.content == "hi hi"
    assert answer.is_ephemeral


async def test_modal_submission_reaches_the_bot(
    discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    opened = await discord_driver.slash(world.bob, world.general, "tiny ask")
    modal = await opened.wait_modal()
    assert modal["title"] == "Ask the council"
    submitted = await discord_driver.submit_modal(world.bob, opened, {"question": "Why?"})
    answer = await submitted.wait_response()
    assert answer.content == "Asked: Why?"


async def test_member_messages_reach_the_bot(
    discord_driver: Driver, world: World, tiny_bot: TinyBot, fake_discord: FakeDiscord
):
    await discord_driver.send_message(world.bob, world.general, "hello bot")
    await fake_discord.wait_for(lambda: tiny_bot.seen_messages, what="the bot to see the message")
    seen = tiny_bot.seen_messages[0]
    assert seen.content == "hello bot"
    assert seen.author.id == world.bob.id


async def test_commands_with_default_member_permissions_are_hidden_from_others(
    discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    with pytest.raises(DriverError, match="lacks the permissions"):
        await discord_driver.slash(world.bob, world.general, "tiny-admin")
    handle = await discord_driver.slash(world.alice, world.general, "tiny-admin")
    assert (await handle.wait_response()).content == "hello, moderator"
