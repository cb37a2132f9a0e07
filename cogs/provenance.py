""" "About this reply": a message command (Apps menu) that says where a persona's reply came from.

A context menu cannot live inside a cog the way slash commands do (discord.py collects only
`Command`s and `Group`s from a cog's class), so the cog builds it and adds it to the tree when it
loads, and takes it out when it unloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.i18n import t
from bot.provenance import about_message
from bot.render.provenance import render_provenance
from cogs.checks import require_guild

if TYPE_CHECKING:
    from bot.app import CouncilBot

# docs: application-commands, Message Commands: a context menu's name may hold capitals and
# spaces (1-32 characters); the translator names it `menu.about-this-reply.name`.
ABOUT_REPLY = "About this reply"


class ProvenanceCog(commands.Cog):
    """Provenance of the councils' messages."""

    def __init__(self, bot: CouncilBot) -> None:
        self.bot = bot
        self.store = bot.store
        self.menu = app_commands.ContextMenu(name=ABOUT_REPLY, callback=self.about_reply)

    async def cog_load(self) -> None:
        """Put the message command in the tree."""
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        """Take the message command out of the tree with the cog."""
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @app_commands.guild_only()
    async def about_reply(
        self, interaction: discord.Interaction[discord.Client], message: discord.Message
    ) -> None:
        """Tell the member privately who wrote a persona's message, with what, and at what cost."""
        guild = require_guild(interaction)
        facts = await about_message(self.store, message.id, guild.id)
        if facts is None:
            raise UserFacingError(t("replies.about.not-a-reply"))
        card = render_provenance(facts, str(interaction.locale))
        await interaction.response.send_message(card, ephemeral=True)


async def setup(bot: CouncilBot) -> None:
    """Load the cog (discord.py extension entry point); it registers the message command."""
    await bot.add_cog(ProvenanceCog(bot))
