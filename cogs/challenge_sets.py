"""/council-admin challenge-set: the question sets a server uploads for /council challenge.

A mixin of `AdminCog`, so the group joins /council-admin (Manage Server). A set is a JSON or
CSV file (see `bot.council.challenge.parse_question_set`); a file that is refused in any part
is refused whole, with one line naming the problem, and nothing is kept. Changes are audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.council.challenge import (
    SET_MAX_BYTES,
    SET_NAME_MAX_CHARS,
    QuestionSetError,
    check_set_name,
    parse_question_set,
    set_format,
)
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from bot.store.store import Store
from cogs.checks import ensure_manager, require_guild

if TYPE_CHECKING:
    _Owner = commands.Cog
else:
    _Owner = object

# Discord shows at most 25 autocomplete suggestions.
MAX_SUGGESTIONS = 25


async def uploaded_set_names(interaction: discord.Interaction[discord.Client]) -> list[str]:
    """The names of the sets the interaction's server uploaded."""
    store: Store | None = getattr(interaction.client, "store", None)
    if store is None or interaction.guild_id is None:
        return []
    return [s.name for s in await store.challenge_sets(interaction.guild_id)]


def suggestions(names: list[str], typed: str) -> list[app_commands.Choice[str]]:
    """Those of `names` that contain what was typed, as autocomplete suggestions."""
    folded = typed.casefold()
    return [
        app_commands.Choice(name=name, value=name) for name in names if folded in name.casefold()
    ][:MAX_SUGGESTIONS]


async def suggest_uploaded_sets(
    interaction: discord.Interaction[discord.Client], typed: str
) -> list[app_commands.Choice[str]]:
    """The server's uploaded sets whose names contain what was typed."""
    return suggestions(await uploaded_set_names(interaction), typed)


class ChallengeSetCommands(_Owner):
    """The /council-admin challenge-set group; needs `store` from the cog."""

    store: Store

    challenge_set = app_commands.Group(
        name="challenge-set",
        description="Question sets this server uploads for /council challenge.",
    )

    @challenge_set.command(name="upload")
    async def upload_set(
        self,
        interaction: discord.Interaction[discord.Client],
        file: discord.Attachment,
        name: app_commands.Range[str, 1, SET_NAME_MAX_CHARS],
    ) -> None:
        """Add (or replace) a question set from a JSON or CSV file: question, answer, choices.

        Args:
            file: JSON: [{"question", "answer", "choices"?}]; CSV: question,answer,choices (a|b|c).
            name: What to call the set in /council challenge: letters, digits, - and _.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        folded = check_set_name(name)
        kind = set_format(file.filename)
        # Discord states the file's size: a file too big is refused before anything is fetched.
        if file.size > SET_MAX_BYTES:
            raise QuestionSetError(t("replies.challenge-set.too-large", kib=SET_MAX_BYTES // 1024))
        await interaction.response.defer(ephemeral=True)
        try:
            data = await file.read()
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            raise UserFacingError(t("replies.challenge-set.not-fetched")) from exc
        questions = parse_question_set(data, kind)
        replaced = await self.store.save_challenge_set(
            guild.id, folded, questions, interaction.user.id
        )
        await self.store.audit(
            guild.id, interaction.user.id, "challenge.upload", detail=f"{folded}, {len(questions)}"
        )
        choices = sum(q.is_multiple_choice for q in questions)
        saved = tn(
            "replies.challenge-set.replaced" if replaced else "replies.challenge-set.saved",
            len(questions),
            name=folded,
            choices=choices,
        )
        await interaction.followup.send(localize(saved, str(interaction.locale)), ephemeral=True)

    @challenge_set.command(name="list")
    async def list_sets(self, interaction: discord.Interaction[discord.Client]) -> None:
        """The question sets this server uploaded."""
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        sets = await self.store.challenge_sets(guild.id)
        lines: list[Text] = [t("replies.challenge-set.heading")]
        lines += [
            tn(
                "replies.challenge-set.entry",
                s.question_count,
                name=s.name,
                member=f"<@{s.uploaded_by}>",
                when=f"<t:{int(s.uploaded_at.timestamp())}:R>",
            )
            for s in sets
        ]
        if not sets:
            lines.append(t("replies.challenge-set.none"))
        locale = str(interaction.locale)
        await interaction.response.send_message(
            "\n".join(localize(line, locale) for line in lines), ephemeral=True
        )

    @challenge_set.command(name="remove")
    @app_commands.autocomplete(name=suggest_uploaded_sets)
    async def remove_set(
        self,
        interaction: discord.Interaction[discord.Client],
        name: app_commands.Range[str, 1, SET_NAME_MAX_CHARS],
    ) -> None:
        """Forget a question set this server uploaded.

        Args:
            name: The set's name.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        folded = name.strip().casefold()
        if not await self.store.remove_challenge_set(guild.id, folded):
            raise UserFacingError(t("replies.challenge.unknown-set", name=name))
        await self.store.audit(guild.id, interaction.user.id, "challenge.remove", detail=folded)
        removed = t("replies.challenge-set.removed", name=folded)
        await interaction.response.send_message(
            localize(removed, str(interaction.locale)), ephemeral=True
        )
