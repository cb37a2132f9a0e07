"""/council-admin moderation: the server's rules for what the council's personas may post.

A mixin of `AdminCog`, so the `moderation` group joins /council-admin (Manage Server). Rules
have the shape of AutoMod's keyword rules (see `bot.council.moderation`); the operator's
moderation model is set in council.toml and only named here. Every change is audited.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.moderation import (
    PolicyError,
    RuleAction,
    RuleKind,
    check_new_allowed,
    check_new_rule,
    clean_category,
)
from bot.discord_ui.posting import NO_MENTIONS
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t
from bot.store.errors import ConstraintError, RecordNotFoundError
from bot.store.store import Store
from cogs.checks import ensure_manager, require_guild
from cogs.moderation_list import ACTION_NAMES, KIND_NAMES, as_code, policy_page

if TYPE_CHECKING:
    from bot.app import CouncilBot

    _Owner = commands.Cog
else:
    _Owner = object

Action = Literal["withhold", "spoiler"]


class ModerationCommands(_Owner):
    """The /council-admin moderation group; needs `bot` and `store` from the cog."""

    bot: CouncilBot
    store: Store

    moderation = app_commands.Group(
        name="moderation", description="What the council's personas may post in this server."
    )

    @moderation.command(name="block")
    async def block(
        self,
        interaction: discord.Interaction[discord.Client],
        word: app_commands.Range[str, 1, 60],
        action: Action = "withhold",
        note: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        """Act on replies with a word or phrase; * as in AutoMod: cat*, *cat, *cat*.

        Args:
            word: cat (the whole word), cat* (starts with), *cat (ends with), *cat* (anywhere).
            action: withhold (the reply is not shown) or spoiler (shown behind a spoiler).
            note: The content note shown for it (default: "blocked word").
        """
        await self._add_rule(interaction, RuleKind.KEYWORD, word, RuleAction(action), note)

    @moderation.command(name="pattern")
    async def pattern(
        self,
        interaction: discord.Interaction[discord.Client],
        regex: app_commands.Range[str, 1, 260],
        action: Action = "withhold",
        note: app_commands.Range[str, 1, 60] | None = None,
    ) -> None:
        """Act on replies a regular expression matches (at most 10, as in AutoMod).

        Args:
            regex: The pattern, matched ignoring case, e.g. (buy|sell) now.
            action: withhold (the reply is not shown) or spoiler (shown behind a spoiler).
            note: The content note shown for it (default: "blocked pattern").
        """
        await self._add_rule(interaction, RuleKind.REGEX, regex, RuleAction(action), note)

    @moderation.command(name="remove")
    async def remove(
        self, interaction: discord.Interaction[discord.Client], rule: app_commands.Range[int, 1]
    ) -> None:
        """Remove a rule by its number (see /council-admin moderation list).

        Args:
            rule: The rule's number.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        try:
            removed = await self.store.remove_moderation_rule(guild.id, rule)
        except RecordNotFoundError:
            raise UserFacingError(t("replies.moderation.no-such-rule", rule=rule)) from None
        await self.store.audit(
            guild.id, interaction.user.id, "moderation.rule", detail=f"removed {removed.describe()}"
        )
        said = t("replies.moderation.removed", rule=rule, pattern=as_code(removed.pattern))
        await _reply(interaction, said)

    @moderation.command(name="allow")
    async def allow(
        self,
        interaction: discord.Interaction[discord.Client],
        word: app_commands.Range[str, 1, 60],
    ) -> None:
        """Exempt a word or phrase from the rules, as AutoMod's allow list does.

        Args:
            word: What to allow, with the same * wildcards, e.g. *scunthorpe*.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        policy = await self.store.moderation_policy(guild.id)
        cleaned = check_new_allowed(policy, word)
        await self.store.allow_keyword(guild.id, cleaned, created_by=interaction.user.id)
        await self.store.audit(
            guild.id, interaction.user.id, "moderation.allow", detail=f"allowed {cleaned}"
        )
        await _reply(interaction, t("replies.moderation.allowed", keyword=as_code(cleaned)))

    @moderation.command(name="unallow")
    async def unallow(
        self,
        interaction: discord.Interaction[discord.Client],
        word: app_commands.Range[str, 1, 60],
    ) -> None:
        """Take a word or phrase off the allow list.

        Args:
            word: The allowed word or phrase, as listed.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        removed = await self.store.unallow_keyword(guild.id, " ".join(word.split()))
        if removed is None:
            raise UserFacingError(t("replies.moderation.not-allowed", keyword=as_code(word)))
        await self.store.audit(
            guild.id, interaction.user.id, "moderation.allow", detail=f"unallowed {removed}"
        )
        await _reply(interaction, t("replies.moderation.unallowed", keyword=as_code(removed)))

    @moderation.command(name="list")
    async def list_policy(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Show this server's moderation rules, allow list and the operator's model."""
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        content, view = await policy_page(
            self.store, guild.id, 1, self.bot.manager.screening.model_name, str(interaction.locale)
        )
        await interaction.response.send_message(
            content,
            view=view or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )

    async def _add_rule(
        self,
        interaction: discord.Interaction[discord.Client],
        kind: RuleKind,
        pattern: str,
        action: RuleAction,
        note: str | None,
    ) -> None:
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        policy = await self.store.moderation_policy(guild.id)
        cleaned = check_new_rule(policy, kind, pattern)
        category = clean_category(note)
        try:
            rule = await self.store.add_moderation_rule(
                guild.id, kind, cleaned, action, category=category, created_by=interaction.user.id
            )
        except ConstraintError:  # added by someone else a moment ago
            raise PolicyError(t("replies.moderation.already-a-rule", pattern=cleaned)) from None
        await self.store.audit(
            guild.id, interaction.user.id, "moderation.rule", detail=f"added {rule.describe()}"
        )
        said = t(
            "replies.moderation.added",
            rule=rule.id,
            kind=t(KIND_NAMES[kind]),
            pattern=as_code(cleaned),
            action=t(ACTION_NAMES[action]),
        )
        await _reply(interaction, said)


async def _reply(interaction: discord.Interaction[discord.Client], said: Text) -> None:
    await interaction.response.send_message(
        localize(said, str(interaction.locale)), ephemeral=True, allowed_mentions=NO_MENTIONS
    )
