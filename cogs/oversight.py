"""/council mute, unmute and charter: hosts keeping a council's members in check.

A mixin of `CouncilCog`, like the history commands, so these join the /council group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.charter import CHARTER_MAX_CHARS
from bot.council.models import Session
from bot.discord_ui.posting import NO_MENTIONS
from bot.errors import UserFacingError
from bot.graphemes import ellipsize
from bot.i18n import localize, t
from bot.render.messages import safe_reply_text
from cogs.checks import ensure_host, require_guild, session_here

if TYPE_CHECKING:
    from bot.app import CouncilBot
    from bot.store.store import Store

    _Owner = commands.Cog
else:
    _Owner = object

EMBED_COLOR = 0x5865F2
DESCRIPTION_MAX = 4096
MEMBER_NAME_MAX = 80


class OversightCommands(_Owner):
    """The /council commands hosts oversee councils with; needs `bot` and `store` from the cog."""

    bot: CouncilBot
    store: Store

    @app_commands.command()
    @app_commands.guild_only()
    async def mute(
        self,
        interaction: discord.Interaction[discord.Client],
        member: app_commands.Range[str, 1, MEMBER_NAME_MAX],
    ) -> None:
        """Mute a member of this council: it sits out the rounds that follow (hosts).

        Args:
            member: The member's name, as this thread shows it.
        """
        session = await self._overseen(interaction)
        note = await self.bot.mutes.mute(
            session, member, user_id=interaction.user.id, host=interaction.user.display_name
        )
        # The answer is the thread's note, for everyone and in the council's language.
        await interaction.response.send_message(
            f"🔇 {localize(note, session.locale)}", allowed_mentions=NO_MENTIONS
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def unmute(
        self,
        interaction: discord.Interaction[discord.Client],
        member: app_commands.Range[str, 1, MEMBER_NAME_MAX],
    ) -> None:
        """Let a muted member of this council speak again from the next round (hosts).

        Args:
            member: The member's name, as this thread shows it.
        """
        session = await self._overseen(interaction)
        note = await self.bot.mutes.unmute(
            session, member, user_id=interaction.user.id, host=interaction.user.display_name
        )
        await interaction.response.send_message(
            f"🔊 {localize(note, session.locale)}", allowed_mentions=NO_MENTIONS
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def charter(
        self,
        interaction: discord.Interaction[discord.Client],
        name: str,
        text: app_commands.Range[str, 1, CHARTER_MAX_CHARS] | None = None,
        clear: bool = False,
    ) -> None:
        """Show a saved council's charter, or (hosts) set or clear it.

        Args:
            name: The council's name.
            text: Rules every member's prompt carries, e.g. "cite sources; no medical advice".
            clear: Remove the charter (hosts only).
        """
        guild = require_guild(interaction)
        locale = str(interaction.locale)
        council = await self.bot.councils.find(guild.id, name)
        if text is not None or clear:
            ensure_host(interaction.user, await self.store.guild_settings(guild.id))
            council = await self.bot.councils.set_charter(
                council, "" if clear else text or "", interaction.user.id
            )
            said = (
                t("replies.charter.set", name=council.name)
                if council.charter
                else t("replies.charter.cleared", name=council.name)
            )
            await interaction.response.send_message(localize(said, locale), ephemeral=True)
            return
        shown = council.charter or localize(t("replies.charter.none", name=council.name), locale)
        embed = discord.Embed(
            title=localize(t("replies.charter.title", name=council.name), locale),
            description=ellipsize(safe_reply_text(shown), DESCRIPTION_MAX),
            color=EMBED_COLOR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    async def _overseen(self, interaction: discord.Interaction[discord.Client]) -> Session:
        """The council in this thread, for a host, while it has rounds to come."""
        session = await session_here(interaction, self.store)
        ensure_host(interaction.user, await self.store.guild_settings(session.guild_id or 0))
        if session.status.is_final:
            raise UserFacingError(t("replies.mute.ended", session=session.id))
        return session
