"""/council history, export and leaderboard: what past councils said and how the audience voted.

A mixin of `CouncilCog` rather than a cog of its own, so that the commands join the /council
group: discord.py collects app commands from every class in a cog's MRO.
"""

from __future__ import annotations

import asyncio
import io
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot import standings
from bot.council.models import Session
from bot.council.standings import By, Period
from bot.errors import UserFacingError
from bot.graphemes import clip
from bot.i18n import localize, t
from bot.render.chart import ratings_chart
from bot.render.export import export_json
from bot.render.html import render_html
from bot.render.standings import LEADERBOARD_ROWS, Board, render_history, render_leaderboard
from bot.render.transcript import render_markdown
from cogs.checks import require_guild, session_here

if TYPE_CHECKING:
    from bot.app import CouncilBot
    from bot.store.store import Store

    # app_commands types a command's owner as a Cog or a Group; at run time the mixin is only
    # ever part of CouncilCog, and must not be a Cog itself or its commands would register twice.
    _Owner = commands.Cog
else:
    _Owner = object

ExportFormat = Literal["md", "json", "html", "both"]
Scope = Literal["server", "all"]
HISTORY_LIMIT = 10
EMBED_COLOR = 0x5865F2


class HistoryCommands(_Owner):
    """The /council commands about past councils; needs `bot` and `store` from the cog."""

    bot: CouncilBot
    store: Store

    @app_commands.command()
    @app_commands.guild_only()
    async def history(self, interaction: discord.Interaction[discord.Client]) -> None:
        """List this server's recent councils and who the audience favoured in each."""
        guild = require_guild(interaction)
        await interaction.response.defer(thinking=True)
        past = await standings.history(self.store, guild.id, limit=HISTORY_LIMIT)
        board = render_history(past, locale=_server_locale(interaction))
        await interaction.followup.send(embed=_embed(board))

    @app_commands.command()
    @app_commands.guild_only()
    async def export(
        self,
        interaction: discord.Interaction[discord.Client],
        session: app_commands.Range[int, 1] | None = None,
        format: ExportFormat = "both",
    ) -> None:
        """Download a council's transcript as Markdown, JSON or a web page.

        Args:
            session: The council's number (see /council history); by default this thread's.
            format: md (readable), json (every detail), html (a page to share) or both (md+json).
        """
        found = await self._find(interaction, session)
        if found.is_blind and not found.status.is_final:
            # The transcript names each model; a blind council reveals them only at its end.
            raise UserFacingError(t("replies.export.blind-and-running", session=found.id))
        await interaction.response.defer(ephemeral=True, thinking=True)
        record = await self.store.session_record(found.id)
        files = []
        if format in ("md", "both"):
            files.append(_file(render_markdown(record), f"council-{found.id}.md"))
        if format in ("json", "both"):
            files.append(_file(export_json(record), f"council-{found.id}.json"))
        if format == "html":
            # Draws the vote chart: CPU work kept off the event loop.
            page = await asyncio.to_thread(render_html, record)
            files.append(_file(page, f"council-{found.id}.html"))
        topic = discord.utils.escape_markdown(clip(found.topic, 200))
        sent = t("replies.export.files", session=found.id, topic=topic)
        await interaction.followup.send(
            localize(sent, str(interaction.locale)), files=files, ephemeral=True
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def leaderboard(
        self,
        interaction: discord.Interaction[discord.Client],
        scope: Scope = "server",
        period: Period = "all",
        by: By = "model",
    ) -> None:
        """Rank the models or personas by the audience's votes, with 95% intervals.

        Args:
            scope: Councils in this server, or in every server the bot is in.
            period: Councils started in the last 24h, 7d, 30d, or all of them.
            by: Rank the models, or the personas that speak for them.
        """
        guild = require_guild(interaction)
        await interaction.response.defer(thinking=True)
        board = await standings.leaderboard(
            self.store, guild_id=guild.id if scope == "server" else None, period=period
        )
        locale = _server_locale(interaction)
        text = render_leaderboard(board, by, locale=locale)
        rows = [row.as_rating_row() for row in board.table(by)[:LEADERBOARD_ROWS]]
        if not rows:
            await interaction.followup.send(embed=_embed(text))
            return
        colors = await self._colors(guild.id, by)
        chart = await asyncio.to_thread(
            ratings_chart, rows, title=text.title, colors=colors, locale=locale
        )
        embed = _embed(text).set_image(url="attachment://leaderboard.png")
        await interaction.followup.send(
            embed=embed, file=discord.File(io.BytesIO(chart), filename="leaderboard.png")
        )

    async def _find(
        self, interaction: discord.Interaction[discord.Client], session_id: int | None
    ) -> Session:
        """The council asked for: this thread's, or one of this guild's by number."""
        if session_id is None:
            return await session_here(interaction, self.store)
        guild = require_guild(interaction)
        found = await self.store.get_session(session_id)
        # Another guild's council reads exactly like a missing one: no hint that it exists.
        if found is None or found.guild_id != guild.id:
            raise UserFacingError(t("replies.export.unknown-council", session=session_id))
        return found

    async def _colors(self, guild_id: int, by: By) -> dict[str, str]:
        """Chart colours: each persona's (with this server's changes), or for a model the
        colour of the first persona that speaks for it."""
        personas = await self.bot.personas.personas(guild_id)
        if by == "persona":
            return {p.name: p.color for p in personas}
        models = self.bot.config.models
        colors: dict[str, str] = {}
        for persona in self.bot.config.personas:
            model = models.get(persona.model)
            if model is not None:
                colors.setdefault(model.model, persona.color)
        return colors


def _server_locale(interaction: discord.Interaction[discord.Client]) -> str | None:
    """The server's preferred language: a public board is read by everyone in the channel."""
    return str(interaction.guild_locale) if interaction.guild_locale else None


def _embed(board: Board) -> discord.Embed:
    embed = discord.Embed(title=board.title, description=board.description, color=EMBED_COLOR)
    if board.footer:
        embed.set_footer(text=board.footer)
    return embed


def _file(text: str, filename: str) -> discord.File:
    return discord.File(io.BytesIO(text.encode()), filename=filename)
