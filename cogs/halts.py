"""/council-admin halt and resume-all: stop every council in the server at once, and lift it.

A mixin of `AdminCog`, like the audit command, so these join /council-admin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.spec import clean_text
from bot.errors import UserFacingError
from bot.halts import REASON_MAX_CHARS, lift_halt
from bot.i18n import localize, t, tn
from cogs.checks import ensure_manager, require_guild

if TYPE_CHECKING:
    from bot.app import CouncilBot

    _Owner = commands.Cog
else:
    _Owner = object


class HaltCommands(_Owner):
    """The /council-admin halt commands; needs `bot` from the cog."""

    bot: CouncilBot

    @app_commands.command()
    @app_commands.guild_only()
    async def halt(
        self,
        interaction: discord.Interaction[discord.Client],
        reason: app_commands.Range[str, 1, REASON_MAX_CHARS] | None = None,
    ) -> None:
        """Stop every council in this server at once; none starts until resume-all.

        Args:
            reason: Why, shown in each stopped council's thread.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        await interaction.response.defer(ephemeral=True)
        stopped = await self.bot.halts.halt(
            guild.id,
            clean_text(reason or ""),
            user_id=interaction.user.id,
            by_name=interaction.user.display_name,
        )
        done = tn("replies.halt.done", len(stopped))
        await interaction.followup.send(localize(done, str(interaction.locale)))

    @app_commands.command(name="resume-all")
    @app_commands.guild_only()
    async def resume_all(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Lift a halt: councils may start in this server again."""
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        if await lift_halt(self.bot.store, guild.id, user_id=interaction.user.id) is None:
            raise UserFacingError(t("replies.halt.not-halted"))
        await interaction.response.send_message(
            localize(t("replies.halt.lifted"), str(interaction.locale)), ephemeral=True
        )
