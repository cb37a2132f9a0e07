"""The moderation policy as /council-admin moderation list shows it: a page at a time.

The page buttons keep nothing in memory, like the audit log's: the custom_id holds the page,
and every click reads the store again for the guild the click came from.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.council.moderation import ModerationPolicy, ModerationRule, RuleAction, RuleKind
from bot.discord_ui.posting import NO_MENTIONS
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from bot.store.store import Store
from cogs.checks import ensure_manager, require_guild

POLICY_PAGE_LINES = 15
# Lines on a page at most this long in all, leaving the heading room under Discord's 2000.
PAGE_CHARS = 1700
# Allowed keywords (60 characters at most) per line, so that one line never fills a page.
ALLOWED_PER_LINE = 5
POLICY_ID_RE = r"council:modrules:(?P<page>[0-9]{1,6})"
KIND_NAMES = {
    RuleKind.KEYWORD: "replies.moderation.kind.keyword",
    RuleKind.REGEX: "replies.moderation.kind.regex",
}
ACTION_NAMES = {
    RuleAction.WITHHOLD: "replies.moderation.action.withhold",
    RuleAction.SPOILER: "replies.moderation.action.spoiler",
}


def as_code(text: str) -> str:
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
        allowed = ", ".join(as_code(keyword) for keyword in group)
        lines.append(localize(t("replies.moderation.allow-list", keywords=allowed), locale))
    if not lines:
        lines.append(localize(t("replies.moderation.no-rules"), locale))
    return lines


def _rule_line(rule: ModerationRule, locale: str) -> str:
    said = t(
        "replies.moderation.rule-line",
        rule=rule.id,
        kind=t(KIND_NAMES[rule.kind]),
        pattern=as_code(rule.pattern),
        action=t(ACTION_NAMES[rule.action]),
    )
    line = localize(said, locale)
    if rule.category:
        line += f" — {discord.utils.escape_markdown(rule.category)}"
    return line
