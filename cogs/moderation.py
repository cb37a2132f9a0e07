"""/council-admin moderation: the server's rules for what the council's personas may post.

A mixin of `AdminCog`, so the `moderation` group joins /council-admin (Manage Server). Rules
have the shape of AutoMod's keyword rules (see `bot.council.moderation`); the operator's
moderation model is set in council.toml and only named here. Every change is audited.
"""

from __future__ import annotations

import re
import sqlite3
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.moderation import (
    ModerationPolicy,
    ModerationRule,
    PolicyError,
    RuleAction,
    RuleKind,
    check_new_allowed,
    check_new_rule,
    clean_category,
)
from bot.discord_ui.posting import NO_MENTIONS
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from bot.store.errors import RecordNotFoundError
from bot.store.store import Store
from cogs.checks import ensure_manager, require_guild

if TYPE_CHECKING:
    from bot.app import CouncilBot

    _Owner = commands.Cog
else:
    _Owner = object

Action = Literal["withhold", "spoiler"]
POLICY_PAGE_LINES = 15
# Lines on a page at most this long in all, leaving the heading room under Discord's 2000.
PAGE_CHARS = 1700
# Allowed keywords (60 characters at most) per line, so that one line never fills a page.
ALLOWED_PER_LINE = 5
POLICY_ID_RE = r"council:modrules:(?P<page>[0-9]{1,6})"
_KIND_NAMES = {
    RuleKind.KEYWORD: "replies.moderation.kind.keyword",
    RuleKind.REGEX: "replies.moderation.kind.regex",
}
_ACTION_NAMES = {
    RuleAction.WITHHOLD: "replies.moderation.action.withhold",
    RuleAction.SPOILER: "replies.moderation.action.spoiler",
}


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
        said = t("replies.moderation.removed", rule=rule, pattern=_code(removed.pattern))
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
        await _reply(interaction, t("replies.moderation.allowed", keyword=_code(cleaned)))

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
            raise UserFacingError(t("replies.moderation.not-allowed", keyword=_code(word)))
        await self.store.audit(
            guild.id, interaction.user.id, "moderation.allow", detail=f"unallowed {removed}"
        )
        await _reply(interaction, t("replies.moderation.unallowed", keyword=_code(removed)))

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
        except sqlite3.IntegrityError:  # added by someone else a moment ago
            raise PolicyError(t("replies.moderation.already-a-rule", pattern=cleaned)) from None
        await self.store.audit(
            guild.id, interaction.user.id, "moderation.rule", detail=f"added {rule.describe()}"
        )
        said = t(
            "replies.moderation.added",
            rule=rule.id,
            kind=t(_KIND_NAMES[kind]),
            pattern=_code(cleaned),
            action=t(_ACTION_NAMES[action]),
        )
        await _reply(interaction, said)


async def _reply(interaction: discord.Interaction[discord.Client], said: Text) -> None:
    await interaction.response.send_message(
        localize(said, str(interaction.locale)), ephemeral=True, allowed_mentions=NO_MENTIONS
    )


def _code(text: str) -> str:
    """Text shown as inline code (a backtick in it can't end the span)."""
    plain = text.replace("`", "'")
    return f"`{plain}`"


class PolicyPageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=POLICY_ID_RE):
    """Another page of the moderation policy; the custom_id holds only the page."""

    def __init__(self, page: int, *, label: str = "") -> None:
        super().__init__(
            discord.ui.Button(
                label=label or f"Page {page}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"council:modrules:{page}",
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PolicyPageButton:
        """Rebuild the button from its custom_id alone."""
        return cls(int(match["page"]))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Show that page in place; checked again, the member may have lost Manage Server."""
        store = getattr(interaction.client, "store", None)
        manager = getattr(interaction.client, "manager", None)
        locale = str(interaction.locale)
        try:
            ensure_manager(interaction.user)
            guild = require_guild(interaction)
            if not isinstance(store, Store):
                raise UserFacingError(t("replies.audit.unavailable"))
        except UserFacingError as refused:
            await interaction.response.send_message(refused.localized(locale), ephemeral=True)
            return
        model = manager.screening.model_name if manager is not None else None
        content, view = await policy_page(store, guild.id, self.page, model, locale)
        await interaction.response.edit_message(
            content=content, view=view, allowed_mentions=NO_MENTIONS
        )


async def policy_page(
    store: Store, guild_id: int, page: int, model: str | None, locale: str
) -> tuple[str, discord.ui.View | None]:
    """One page of the guild's policy (the last, if `page` is past it) and its buttons."""
    policy = await store.moderation_policy(guild_id)
    pages = _paged(_policy_lines(policy, locale))
    page = min(max(page, 1), len(pages))
    heading = _heading(policy, model, page, len(pages))
    content = "\n".join([localize(heading, locale), *pages[page - 1]])
    if len(pages) == 1:
        return content, None
    earlier = PolicyPageButton(page - 1, label=localize(t("replies.moderation.earlier"), locale))
    later = PolicyPageButton(page + 1, label=localize(t("replies.moderation.later"), locale))
    earlier.item.disabled = page == 1
    later.item.disabled = page == len(pages)
    return content, discord.ui.View(timeout=None).add_item(earlier).add_item(later)


def _paged(lines: list[str]) -> list[list[str]]:
    """Lines cut into pages that fit a message with their heading (at least one page)."""
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and (len(pages[-1]) >= POLICY_PAGE_LINES or size + len(line) > PAGE_CHARS):
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return pages


def _heading(policy: ModerationPolicy, model: str | None, page: int, pages: int) -> Text:
    counts = t(
        "replies.moderation.counts",
        words=tn("replies.moderation.words", policy.keyword_count),
        patterns=tn("replies.moderation.patterns", policy.pattern_count),
        allowed=tn("replies.moderation.allowed-count", len(policy.allowed)),
    )
    model_line = (
        t("replies.moderation.model", model=model) if model else t("replies.moderation.no-model")
    )
    if pages == 1:
        return t("replies.moderation.heading", counts=counts, model=model_line)
    return t(
        "replies.moderation.heading-page", counts=counts, model=model_line, page=page, pages=pages
    )


def _policy_lines(policy: ModerationPolicy, locale: str) -> list[str]:
    lines = [_rule_line(rule, locale) for rule in policy.rules]
    for start in range(0, len(policy.allowed), ALLOWED_PER_LINE):
        group = policy.allowed[start : start + ALLOWED_PER_LINE]
        allowed = ", ".join(_code(keyword) for keyword in group)
        lines.append(localize(t("replies.moderation.allow-list", keywords=allowed), locale))
    if not lines:
        lines.append(localize(t("replies.moderation.no-rules"), locale))
    return lines


def _rule_line(rule: ModerationRule, locale: str) -> str:
    said = t(
        "replies.moderation.rule-line",
        rule=rule.id,
        kind=t(_KIND_NAMES[rule.kind]),
        pattern=_code(rule.pattern),
        action=t(_ACTION_NAMES[rule.action]),
    )
    line = localize(said, locale)
    if rule.category:
        line += f" — {discord.utils.escape_markdown(rule.category)}"
    return line
