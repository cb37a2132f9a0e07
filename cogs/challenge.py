"""/council challenge: does the council beat one model? Questions with known answers, in a channel.

Each question is posted with prediction buttons; the members answer alone, then once after
seeing the others' answers; the bot then reveals the right answer and who was right before and
after the debate, and at the end compares the three arms (see `bot.discord_ui.challenges`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.challenge import ARITHMETIC, arithmetic_questions, check_set_name
from bot.council.challenge_records import NewChallenge
from bot.discord_ui.challenges import ChallengeChannel
from bot.errors import UserFacingError
from bot.i18n import localize, t, tn
from cogs.challenge_sets import suggestions, uploaded_set_names
from cogs.checks import ensure_host, require_guild

if TYPE_CHECKING:
    from bot.app import CouncilBot
    from bot.store.store import Store

    # As in cogs/history.py: typed as a Cog, but at run time only part of CouncilCog.
    _Owner = commands.Cog
else:
    _Owner = object


async def suggest_sets(
    interaction: discord.Interaction[discord.Client], typed: str
) -> list[app_commands.Choice[str]]:
    """The built-in set and the server's uploaded ones whose names contain what was typed."""
    return suggestions([ARITHMETIC, *await uploaded_set_names(interaction)], typed)


async def suggest_presets(
    interaction: discord.Interaction[discord.Client], typed: str
) -> list[app_commands.Choice[str]]:
    """The operator's presets whose names contain what was typed."""
    manager = getattr(interaction.client, "manager", None)
    return suggestions(list(manager.config.presets) if manager is not None else [], typed)


class ChallengeCommands(_Owner):
    """/council challenge; needs `bot` and `store` from the cog."""

    bot: CouncilBot
    store: Store

    @app_commands.command()
    @app_commands.guild_only()
    @app_commands.autocomplete(set=suggest_sets, preset=suggest_presets)
    async def challenge(
        self,
        interaction: discord.Interaction[discord.Client],
        set: str = ARITHMETIC,
        count: app_commands.Range[int, 1, 10] = 3,
        preset: str | None = None,
    ) -> None:
        """Test the council on questions with known answers: does it beat one model?

        Args:
            set: arithmetic (built in, the same questions every time) or a set this server uploaded.
            count: How many questions (1-10), from the start of the set.
            preset: The line-up that answers (default: the server's default preset).
        """
        guild = require_guild(interaction)
        # Checked before acknowledging, so that a refusal is private: the acknowledgement is
        # public, as the challenge's opening line is its reply. Local reads are quick.
        settings = await self.store.guild_settings(guild.id)
        ensure_host(interaction.user, settings)
        channel = interaction.channel
        if not isinstance(channel, ChallengeChannel):
            raise UserFacingError(t("replies.start.wrong-channel"))
        if set == ARITHMETIC:
            questions = arithmetic_questions(count)
        else:
            name = check_set_name(set)
            uploaded = await self.store.challenge_set_questions(guild.id, name)
            if uploaded is None:
                raise UserFacingError(t("replies.challenge.unknown-set", name=set))
            set, questions = name, uploaded[:count]
        contenders = self.bot.challenges.contenders(preset or settings.default_preset)
        await interaction.response.defer(thinking=True)
        locale = str(interaction.guild_locale) if interaction.guild_locale else None
        record = await self.store.create_challenge(
            NewChallenge(
                guild_id=guild.id,
                channel_id=channel.id,
                user_id=interaction.user.id,
                set_name=set,
                preset=preset or settings.default_preset,
                locale=locale,
                questions=questions,
            )
        )
        await self.store.audit(
            guild.id, interaction.user.id, "challenge.start", detail=f"{set}, {len(questions)}"
        )
        names = ", ".join(c.name for c in contenders)
        started = tn("council.challenge.started", len(questions), members=names, set=set)
        await interaction.followup.send(localize(started, locale))
        self.bot.challenges.start(record, contenders)
