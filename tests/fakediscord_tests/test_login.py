"""Login, gateway handshake and command sync against the fake."""

from __future__ import annotations

from tests.fakediscord import FakeDiscord
from tests.fakediscord_tests.conftest import World
from tests.fakediscord_tests.tinybot import TinyBot


async def test_bot_logs_in_and_sees_the_guild(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    guild = tiny_bot.get_guild(world.guild.id)
    assert guild is not None
    assert guild.get_channel(world.general.id) is not None
    assert guild.me is not None
    assert tiny_bot.user is not None
    assert tiny_bot.user.id == fake_discord.bot_user.id
    routes = [(e.method, e.route) for e in fake_discord.wire[:3]]
    assert routes[:2] == [("GET", "/users/@me"), ("GET", "/oauth2/applications/@me")]
    assert fake_discord.gateway.identify_count == 1


async def test_bot_syncs_its_guild_commands(
    fake_discord: FakeDiscord, world: World, tiny_bot: TinyBot
):
    synced = [c for c in fake_discord.world.commands.values() if c.guild_id == world.guild.id]
    assert sorted(c.name for c in synced) == ["tiny", "tiny-admin"]
    sync = fake_discord.requests("PUT", "/applications/{application_id}/guilds/{guild_id}/commands")
    assert len(sync) == 1
    assert sync[0].status == 200
