"""The Discord client: `CouncilBot`, and where discord.py is pointed at Discord (or a proxy)."""

from __future__ import annotations

import logging

import discord
import discord.gateway
import discord.http
import yarl
from discord.ext import commands

from bot.config import Settings

log = logging.getLogger(__name__)


def apply_discord_endpoints(settings: Settings) -> None:
    """Point discord.py's REST and gateway at `DISCORD_API_BASE` / `DISCORD_GATEWAY_URL`.

    Operators set these to run behind a REST proxy; tests set them to a local fake Discord.
    discord.py reads both as class attributes, so this is process-wide by its design.
    """
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class CouncilBot(commands.Bot):
    """The bot process: no privileged intents, and no message may ever ping anyone."""

    def __init__(self, *, settings: Settings) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=discord.Intents.default(),
            allowed_mentions=discord.AllowedMentions.none(),
        )
        self.settings = settings

    async def setup_hook(self) -> None:
        """Sync slash commands to the development guild only, when one is configured."""
        guild_id = self.settings.council_dev_guild_id
        if guild_id is not None:
            guild = discord.Object(id=guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to development guild %d", len(synced), guild_id)

    async def on_ready(self) -> None:
        """Log who we are once connected."""
        log.info("connected as %s (%s)", self.user, self.user.id if self.user else "?")
