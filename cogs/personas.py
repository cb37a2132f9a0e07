"""/persona: see the council's personas, and restyle them for this server."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import graphemes
from bot.discord_ui.embeds import color_int
from bot.i18n import localize, t
from bot.render.summary import FIELD_VALUE_MAX
from cogs.checks import ensure_manager, require_guild

if TYPE_CHECKING:
    from bot.app import CouncilBot


class PersonaCog(commands.GroupCog, group_name="persona"):
    """The council's personas."""

    def __init__(self, bot: CouncilBot) -> None:
        self.bot = bot
        self.book = bot.personas
        super().__init__()

    @app_commands.command(name="list")
    @app_commands.guild_only()
    async def list_personas(self, interaction: discord.Interaction[discord.Client]) -> None:
        """List the personas: name, model and style."""
        guild = require_guild(interaction)
        title = localize(t("replies.personas.title"), str(interaction.locale))
        embed = discord.Embed(title=title, color=0x5865F2)
        for persona in (await self.book.personas(guild.id))[:25]:
            model = self.bot.config.models[persona.model].model
            style = persona.style or "—"
            # Cut between grapheme clusters: an emoji or accented letter is never split.
            value = graphemes.ellipsize(f"`{model}`\n{style}", FIELD_VALUE_MAX)
            embed.add_field(name=persona.name, value=value, inline=False)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command()
    @app_commands.guild_only()
    async def show(self, interaction: discord.Interaction[discord.Client], name: str) -> None:
        """Show one persona.

        Args:
            name: The persona's name.
        """
        guild = require_guild(interaction)
        locale = str(interaction.locale)
        found = self.book.find(name)
        persona = next(p for p in await self.book.personas(guild.id) if p.name == found.name)
        model = self.bot.config.models[persona.model]
        embed = discord.Embed(
            title=persona.name, description=persona.style or None, color=color_int(persona.color)
        )
        embed.add_field(
            name=localize(t("replies.personas.model"), locale),
            value=f"`{model.model}`",
            inline=True,
        )
        embed.add_field(
            name=localize(t("replies.personas.colour"), locale), value=persona.color, inline=True
        )
        if persona.avatar_url:
            embed.set_thumbnail(url=persona.avatar_url)
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command()
    @app_commands.guild_only()
    async def edit(
        self,
        interaction: discord.Interaction[discord.Client],
        name: str,
        avatar_url: str | None = None,
        style: app_commands.Range[str, 1, 500] | None = None,
        color: str | None = None,
    ) -> None:
        """Restyle a persona for this server (never its model).

        Args:
            name: The persona's name.
            avatar_url: An https:// link to a PNG, JPEG, GIF or WebP image.
            style: How the persona speaks (up to 500 characters).
            color: Its colour, like #D97757.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        persona = await self.book.edit(
            guild.id, interaction.user.id, name, avatar_url=avatar_url, style=style, color=color
        )
        updated = t("replies.persona.updated", name=persona.name)
        await interaction.response.send_message(
            localize(updated, str(interaction.locale)), ephemeral=True
        )


async def setup(bot: CouncilBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(PersonaCog(bot))
