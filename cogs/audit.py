"""/council-admin audit: the server's audit log, a page at a time, for members with Manage Server.

A mixin of `AdminCog`, like the history commands of `CouncilCog`, so it joins /council-admin.
The page buttons keep nothing in memory: the custom_id holds the page and the filters, and
every click reads the store again for the guild the click came from.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.models import AuditEntry
from bot.discord_ui.posting import NO_MENTIONS
from bot.errors import UserFacingError
from bot.graphemes import clip
from bot.i18n import Text, localize, t
from bot.store.store import Store
from cogs.checks import ensure_manager, require_guild

if TYPE_CHECKING:
    _Owner = commands.Cog
else:
    _Owner = object

# The actions hosts and the bot record, offered as the filter's choices.
AuditAction = Literal[
    "session.start",
    "session.next",
    "session.pause",
    "session.resume",
    "session.end",
    "session.stop",
    "session.autostop",
    "settings",
    "persona.edit",
    "council.create",
    "council.forget",
    "council.charter",
    "member.mute",
    "member.unmute",
    "guild.halt",
    "guild.resume",
    "reply.withhold",
    "reply.release",
    "moderation.rule",
    "moderation.allow",
    "challenge.start",
    "challenge.upload",
    "challenge.remove",
]
AUDIT_PAGE_SIZE = 10
# A page is ten lines of at most ~170 characters: under Discord's 2000 per message.
AUDIT_DETAIL_CHARS = 80
AUDIT_ID_RE = r"council:audit:(?P<page>[0-9]{1,6}):(?P<member>[0-9]{1,19}):(?P<action>[a-z.]{0,32})"


class AuditCommands(_Owner):
    """The /council-admin audit command; needs `store` from the cog."""

    store: Store

    @app_commands.command()
    @app_commands.guild_only()
    async def audit(
        self,
        interaction: discord.Interaction[discord.Client],
        member: discord.User | None = None,
        action: AuditAction | None = None,
    ) -> None:
        """Who did what to this server's councils and settings, newest first.

        Args:
            member: Only this member's actions.
            action: Only this kind of action.
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        content, view = await audit_page(
            self.store, guild.id, 1, member.id if member else None, action, str(interaction.locale)
        )
        await interaction.response.send_message(
            content,
            view=view or discord.utils.MISSING,
            ephemeral=True,
            allowed_mentions=NO_MENTIONS,
        )


class AuditPageButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=AUDIT_ID_RE):
    """Newer or older on an audit log page; the custom_id holds the page and the filters."""

    def __init__(
        self, page: int, member_id: int | None, action: str | None, *, label: str = ""
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=label or f"Page {page}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"council:audit:{page}:{member_id or 0}:{action or ''}",
            )
        )
        self.page = page
        self.member_id = member_id
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> AuditPageButton:
        """Rebuild the button from its custom_id alone."""
        return cls(int(match["page"]), int(match["member"]) or None, match["action"] or None)

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Show that page in place. Checked again: the member may have lost Manage Server."""
        store = getattr(interaction.client, "store", None)
        locale = str(interaction.locale)
        try:
            ensure_manager(interaction.user)
            guild = require_guild(interaction)
            if not isinstance(store, Store):
                raise UserFacingError(t("replies.audit.unavailable"))
        except UserFacingError as refused:
            await interaction.response.send_message(refused.localized(locale), ephemeral=True)
            return
        content, view = await audit_page(
            store, guild.id, self.page, self.member_id, self.action, locale
        )
        await interaction.response.edit_message(
            content=content, view=view, allowed_mentions=NO_MENTIONS
        )


async def audit_page(
    store: Store,
    guild_id: int,
    page: int,
    member_id: int | None,
    action: str | None,
    locale: str,
) -> tuple[str, discord.ui.View | None]:
    """One page of the guild's audit log (the last, if `page` is past it) and its buttons, in
    `locale`'s language."""
    total = await store.count_audit(guild_id, user_id=member_id, action=action)
    pages = max(1, math.ceil(total / AUDIT_PAGE_SIZE))
    page = min(max(page, 1), pages)
    entries = await store.audit_log(
        guild_id,
        AUDIT_PAGE_SIZE,
        user_id=member_id,
        action=action,
        offset=(page - 1) * AUDIT_PAGE_SIZE,
    )
    heading = _heading(member_id, action)
    if not entries:
        return localize(t("replies.audit.empty", heading=heading), locale), None
    first = t("replies.audit.page", heading=heading, page=page, pages=pages, total=total)
    lines = [localize(first, locale), *(_audit_line(entry, locale) for entry in entries)]
    if pages == 1:
        return "\n".join(lines), None
    newer_label = localize(t("replies.audit.newer"), locale)
    older_label = localize(t("replies.audit.older"), locale)
    newer = AuditPageButton(page - 1, member_id, action, label=newer_label)
    older = AuditPageButton(page + 1, member_id, action, label=older_label)
    newer.item.disabled = page == 1
    older.item.disabled = page == pages
    return "\n".join(lines), discord.ui.View(timeout=None).add_item(newer).add_item(older)


def _heading(member_id: int | None, action: str | None) -> Text:
    """The log's title with the filters it is shown with."""
    if member_id and action:
        return t("replies.audit.heading-by-member-and-action", member=member_id, action=action)
    if member_id:
        return t("replies.audit.heading-by-member", member=member_id)
    if action:
        return t("replies.audit.heading-by-action", action=action)
    return t("replies.audit.heading")


def _audit_line(entry: AuditEntry, locale: str) -> str:
    # Discord shows the timestamp in each reader's own language and time zone.
    when = discord.utils.format_dt(entry.at, "f")
    who = (
        localize(t("replies.audit.automatic"), locale)
        if entry.user_id is None
        else f"<@{entry.user_id}>"
    )
    parts = [when, who, f"`{entry.action}`"]
    if entry.session_id is not None:
        parts.append(localize(t("replies.audit.council", session=entry.session_id), locale))
    detail = discord.utils.escape_markdown(" ".join(entry.detail.split()))
    if len(detail) > AUDIT_DETAIL_CHARS:
        # Cut after escaping, so the cap holds; never leave half an escape at the end.
        detail = clip(detail, AUDIT_DETAIL_CHARS - 1).rstrip("\\") + "…"
    if detail:
        parts.append(detail)
    return " · ".join(parts)
