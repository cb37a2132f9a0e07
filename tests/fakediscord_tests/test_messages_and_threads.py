"""Messages, threads, forum posts and webhook message edits, with the gateway events they cause."""

from __future__ import annotations

import discord
import pytest

from tests.fakediscord import Driver, FakeDiscord, Kind
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot


def _channel(bot: TinyBot, channel_id: int) -> discord.abc.GuildChannel:
    channel = bot.get_channel(channel_id)
    assert channel is not None
    return channel  # type: ignore[return-value]  # a guild channel in these tests


async def test_bot_message_create_edit_delete_dispatch_events(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    channel = _channel(tiny_bot, world.general.id)
    assert isinstance(channel, discord.TextChannel)
    message = await channel.send("draft")
    await message.edit(content="final")
    [seen] = discord_driver.read(world.general, as_user=world.bob)
    assert seen.content == "final"
    assert seen.is_edited
    await message.delete()
    assert discord_driver.read(world.general, as_user=world.bob) == []
    gateway = fake_discord.gateway
    assert [d["id"] for d in gateway.dispatched("MESSAGE_CREATE")] == [str(message.id)]
    assert [d["content"] for d in gateway.dispatched("MESSAGE_UPDATE")] == ["final"]
    assert [d["id"] for d in gateway.dispatched("MESSAGE_DELETE")] == [str(message.id)]


async def test_bot_cannot_edit_a_members_message(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.NOT_AUTHOR)
    posted = await discord_driver.send_message(world.bob, world.general, "mine")
    channel = _channel(tiny_bot, world.general.id)
    assert isinstance(channel, discord.TextChannel)
    with pytest.raises(discord.Forbidden) as caught:
        await channel.get_partial_message(posted.id).edit(content="yours")
    assert caught.value.code == 50005


async def test_thread_from_a_message_shares_its_id_and_only_once(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.WRONG_CHANNEL_TYPE)
    channel = _channel(tiny_bot, world.general.id)
    assert isinstance(channel, discord.TextChannel)
    starter = await channel.send("Topic")
    thread = await starter.create_thread(name="Topic")
    assert thread.id == starter.id
    assert fake_discord.gateway.dispatched("THREAD_CREATE")[0]["id"] == str(thread.id)
    with pytest.raises(discord.HTTPException) as caught:
        await starter.create_thread(name="Again")
    assert caught.value.code == 160004


async def test_forum_posts_by_the_bot_and_by_a_persona_webhook(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.expect_violation(Kind.WRONG_CHANNEL_TYPE)
    forum_state = discord_driver.create_forum_channel(world.guild, "debates")
    forum = await fake_discord.wait_for(
        lambda: tiny_bot.get_channel(forum_state.id), what="the bot to see the forum"
    )
    assert isinstance(forum, discord.ForumChannel)
    post = await forum.create_thread(name="Opening", content="Welcome")
    [opening] = discord_driver.read(fake_discord.world.channels[post.thread.id], as_user=world.bob)
    assert opening.content == "Welcome"
    assert opening.id == post.thread.id
    webhook = await forum.create_webhook(name="Council")
    assert fake_discord.gateway.dispatched("WEBHOOKS_UPDATE")
    sent = await webhook.send("Gemini's take", username="Gemini", thread_name="Second", wait=True)
    new_thread = fake_discord.world.channels[sent.channel.id]
    assert new_thread.name == "Second"
    [seen] = discord_driver.read(new_thread, as_user=world.bob)
    assert seen.author_name == "Gemini"
    with pytest.raises(discord.HTTPException) as caught:
        await webhook.send("where does this go?")
    assert caught.value.code == 220001


async def test_persona_message_edits_and_deletes_in_a_thread(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    channel = _channel(tiny_bot, world.general.id)
    assert isinstance(channel, discord.TextChannel)
    webhook = await channel.create_webhook(name="Council")
    thread = await channel.create_thread(name="Debate", type=discord.ChannelType.public_thread)
    message = await webhook.send("partial", username="Llama", thread=thread, wait=True)
    await webhook.edit_message(message.id, content="partial and complete", thread=thread)
    thread_state = fake_discord.world.channels[thread.id]
    [seen] = discord_driver.read(thread_state, as_user=world.alice)
    assert (seen.author_name, seen.content, seen.is_edited) == (
        "Llama",
        "partial and complete",
        True,
    )
    fetched = await webhook.fetch_message(message.id, thread=thread)
    assert fetched.content == "partial and complete"
    await webhook.delete_message(message.id, thread=thread)
    assert discord_driver.read(thread_state, as_user=world.alice) == []


async def test_deferred_response_is_edited_then_followed_by_a_file(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    handle = await discord_driver.slash(world.bob, world.general, "tiny stream")
    await handle.wait_responses(2)
    assert handle.is_deferred
    original = handle.original
    assert original is not None
    assert (original.content, original.is_ephemeral, original.is_edited) == ("Done", True, True)
    [followup] = handle.followups
    assert followup.attachments == ("transcript.md",)
    assert followup.message.attachments[0].data == b"# Transcript\n"
    # Ephemeral responses are for Bob alone.
    assert discord_driver.read(world.general, as_user=world.alice) == []
    assert len(discord_driver.read(world.general, as_user=world.bob)) == 2


async def test_no_message_pings_anyone(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    await (
        await discord_driver.slash(world.alice, world.general, "tiny start", topic="T")
    ).wait_response()
    fake_discord.assert_no_pings()
    await discord_driver.send_message(world.alice, world.general, f"hey <@{world.bob.id}>")
    with pytest.raises(AssertionError, match="would ping"):
        fake_discord.assert_no_pings()
