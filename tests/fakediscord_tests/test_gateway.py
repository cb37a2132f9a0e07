"""Gateway faults: dropped connections, RECONNECT, INVALID_SESSION and bad tokens."""

from __future__ import annotations

import aiohttp
import discord
import pytest

from tests.fakediscord import Driver, FakeDiscord, Kind
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot


async def test_dropped_connection_resumes_and_replays_missed_events(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    await fake_discord.gateway.drop()
    # Sent while the bot is disconnected: RESUME must replay it.
    await discord_driver.send_message(world.bob, world.general, "while you were away")
    await fake_discord.wait_for(lambda: tiny_bot.resumes == 1, what="the bot to resume")
    await fake_discord.wait_for(lambda: tiny_bot.seen_messages, what="the replayed message")
    assert tiny_bot.seen_messages[0].content == "while you were away"
    assert fake_discord.gateway.resume_count == 1
    assert fake_discord.gateway.identify_count == 1


async def test_reconnect_opcode_makes_the_client_resume(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.gateway.send_reconnect()
    await fake_discord.wait_for(lambda: tiny_bot.resumes == 1, what="the bot to resume")
    handle = await discord_driver.slash(world.bob, world.general, "tiny ping")
    assert (await handle.wait_response()).content == "pong"


async def test_invalid_session_makes_the_client_identify_again(
    fake_discord: FakeDiscord, discord_driver: Driver, world: World, tiny_bot: TinyBot
):
    fake_discord.gateway.invalidate_session(resumable=False)
    await fake_discord.wait_for(
        lambda: fake_discord.gateway.identify_count == 2 and fake_discord.gateway.is_connected,
        what="a fresh IDENTIFY",
    )
    handle = await discord_driver.slash(world.bob, world.general, "tiny ping")
    assert (await handle.wait_response()).content == "pong"


async def test_resumable_invalid_session_resumes(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    fake_discord.gateway.invalidate_session(resumable=True)
    await fake_discord.wait_for(lambda: tiny_bot.resumes == 1, what="the bot to resume")
    assert fake_discord.gateway.identify_count == 1


async def test_compressed_stream_is_what_discord_py_asks_for(
    fake_discord: FakeDiscord, tiny_bot: TinyBot
):
    [conn] = fake_discord.gateway.connections
    assert conn.request.query["compress"] == "zlib-stream"
    assert conn.compressor is not None


async def test_identify_with_a_wrong_token_is_closed_with_4004(fake_discord: FakeDiscord):
    fake_discord.expect_violation(Kind.GATEWAY_BAD_TOKEN)
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake_discord.gateway_url) as ws,
    ):
        hello = await ws.receive_json()
        assert hello["op"] == 10
        await ws.send_json({"op": 2, "d": {"token": "wrong", "intents": 0, "properties": {}}})
        closing = await ws.receive()
        assert closing.type == aiohttp.WSMsgType.CLOSE
        assert ws.close_code == 4004
    assert fake_discord.violations_of(Kind.GATEWAY_BAD_TOKEN)


async def test_login_with_a_wrong_token_fails(fake_discord: FakeDiscord):
    fake_discord.expect_violation(Kind.BAD_TOKEN)
    client = discord.Client(intents=discord.Intents.default())
    with pytest.raises(discord.LoginFailure):
        await client.login("not-the-token")
    await client.close()
    assert fake_discord.requests("GET", "/users/@me")[0].status == 401
