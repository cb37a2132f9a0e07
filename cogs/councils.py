"""/council create, convene, councils and memory: permanent councils that remember.

A mixin of `CouncilCog`, like the history commands, so these join the /council group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.charter import CHARTER_MAX_CHARS
from bot.council.models import PermanentCouncil
from bot.council.spec import DEFAULT_ROUNDS
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from bot.render.messages import safe_reply_text, truncate
from cogs.checks import ThreadParent, ensure_host, language_choices, require_guild

if TYPE_CHECKING:
    from bot.app import CouncilBot
    from bot.store.store import Store

    _Owner = commands.Cog
else:
    _Owner = object

Format = Literal["parallel", "debate", "chaired", "review"]
EMBED_COLOR = 0x5865F2
SessionChannel = discord.TextChannel | discord.ForumChannel | discord.Thread


class PermanentCouncilCommands(_Owner):
    """The /council commands for permanent councils; needs `bot` and `store` from the cog."""

    bot: CouncilBot
    store: Store

    @app_commands.command()
    @app_commands.guild_only()
    @app_commands.choices(language=language_choices())
    async def create(  # noqa: PLR0917  (one slash option each)
        self,
        interaction: discord.Interaction[discord.Client],
        name: app_commands.Range[str, 1, 50],
        preset: str | None = None,
        members: str | None = None,
        chair: str | None = None,
        format: Format | None = None,
        rounds: app_commands.Range[int, 1, 10] | None = None,
        remember: app_commands.Range[int, 0, 10] = 3,
        language: str | None = None,
        charter: app_commands.Range[str, 1, CHARTER_MAX_CHARS] | None = None,
    ) -> None:
        """Save a named council for this server; its sessions remember the earlier ones.

        Args:
            name: What to call it, e.g. "Ethics board".
            preset: A line-up from the operator's config.
            members: Persona names separated by commas, instead of the preset's.
            chair: The persona who chairs.
            format: parallel, debate, chaired or review.
            rounds: How many rounds each session has (1-10).
            remember: How many earlier sessions each new one is reminded of (0-10).
            language: The language its models answer in (default: the preset's, or the topic's).
            charter: Rules every member's prompt carries, e.g. "cite sources; no medical advice".
        """
        guild = require_guild(interaction)
        ensure_host(interaction.user, await self.store.guild_settings(guild.id))
        council = await self.bot.councils.create(
            guild.id,
            interaction.user.id,
            name,
            preset=preset,
            members=[m for m in members.split(",") if m.strip()] if members else None,
            chair=chair,
            format=format,
            rounds=rounds,
            memory_sessions=remember,
            language=language,
            charter=charter or "",
        )
        saved = tn(
            "replies.councils.saved-chaired" if council.chair else "replies.councils.saved",
            _rounds(council),
            name=council.name,
            members=", ".join(council.members),
            chair=council.chair,
            format=council.format,
        )
        said = localize(saved, str(interaction.locale))
        if council.charter:
            said += "\n" + localize(t("replies.councils.saved-charter"), str(interaction.locale))
        await interaction.response.send_message(said, ephemeral=True)

    @app_commands.command()
    @app_commands.guild_only()
    async def convene(
        self,
        interaction: discord.Interaction[discord.Client],
        name: str,
        topic: app_commands.Range[str, 1, 1000],
        in_channel: ThreadParent | None = None,
    ) -> None:
        """Convene a saved council on a topic; it is reminded of what it concluded before.

        Args:
            name: The council's name.
            topic: What it should discuss.
            in_channel: Where to open it (e.g. a forum); by default here.
        """
        guild = require_guild(interaction)
        # Acknowledge at once: under load the checks below can outlast Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.store.guild_settings(guild.id)
        ensure_host(interaction.user, settings)
        council = await self.bot.councils.find(guild.id, name)
        where = in_channel or interaction.channel
        if not isinstance(where, SessionChannel):
            raise UserFacingError(t("replies.convene.wrong-channel"))
        await self.bot.live.launch(
            interaction,
            where,
            settings,
            topic=topic,
            members=list(council.members),
            chair=council.chair,
            format=council.format,
            rounds=council.rounds,
            language=council.language or None,
            council_id=council.id,
            memory=await self.bot.councils.memory(council),
            charter=council.charter,
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def councils(self, interaction: discord.Interaction[discord.Client]) -> None:
        """List this server's saved councils."""
        guild = require_guild(interaction)
        locale = str(interaction.locale)
        saved = await self.store.councils(guild.id)
        embed = discord.Embed(
            title=localize(t("replies.councils.title"), locale), color=EMBED_COLOR
        )
        if not saved:
            embed.description = localize(t("replies.councils.none-yet"), locale)
        # An embed holds at most 25 fields.
        for council in saved[:25]:
            embed.add_field(
                name=council.name, value=localize(_line_up(council), locale), inline=False
            )
        await interaction.response.send_message(embed=embed, ephemeral=True)

    @app_commands.command()
    @app_commands.guild_only()
    async def memory(
        self,
        interaction: discord.Interaction[discord.Client],
        name: str,
        clear: bool = False,
    ) -> None:
        """Show what a saved council remembers, or (hosts) clear it.

        Args:
            name: The council's name.
            clear: Forget every earlier session (hosts only).
        """
        guild = require_guild(interaction)
        locale = str(interaction.locale)
        council = await self.bot.councils.find(guild.id, name)
        if clear:
            ensure_host(interaction.user, await self.store.guild_settings(guild.id))
            await self.bot.councils.forget(council, interaction.user.id)
            forgotten = t("replies.memory.forgotten", name=council.name)
            await interaction.response.send_message(localize(forgotten, locale), ephemeral=True)
            return
        remembered = await self.bot.councils.memory(council)
        text = remembered or localize(t("replies.memory.nothing-yet"), locale)
        embed = discord.Embed(
            title=localize(t("replies.memory.title", name=council.name), locale),
            description=truncate(safe_reply_text(text), 4000),
            color=EMBED_COLOR,
        )
        await interaction.response.send_message(embed=embed, ephemeral=True)


def _line_up(council: PermanentCouncil) -> Text:
    """Who sits on a saved council, its format and rounds, and how much it remembers."""
    return tn(
        "replies.councils.line-up-chaired" if council.chair else "replies.councils.line-up",
        _rounds(council),
        members=", ".join(council.members),
        chair=council.chair,
        format=council.format,
        remembers=council.memory_sessions,
    )


def _rounds(council: PermanentCouncil) -> int:
    """The rounds each of its sessions has; convened with none saved, it gets the default."""
    return council.rounds if council.rounds is not None else DEFAULT_ROUNDS
