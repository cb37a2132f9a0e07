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
            self.store, guild.id, 1, member.id if member else None, action
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
        try:
            ensure_manager(interaction.user)
            guild = require_guild(interaction)
            if not isinstance(store, Store):
                raise UserFacingError("The audit log is not available right now.")
        except UserFacingError as refused:
            await interaction.response.send_message(refused.message, ephemeral=True)
            return
        content, view = await audit_page(store, guild.id, self.page, self.member_id, self.action)
        await interaction.response.edit_message(
            content=content, view=view, allowed_mentions=NO_MENTIONS
        )


async def audit_page(
    store: Store, guild_id: int, page: int, member_id: int | None, action: str | None
) -> tuple[str, discord.ui.View | None]:
    """One page of the guild's audit log (the last, if `page` is past it) and its buttons."""
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
    filters = [f"by <@{member_id}>" if member_id else "", f"`{action}`" if action else ""]
    heading = " ".join(["**Audit log**", *filter(None, filters)])
    if not entries:
        return f"{heading}: nothing recorded.", None
    lines = [f"{heading} — page {page} of {pages}, {total} in all", *map(_audit_line, entries)]
    if pages == 1:
        return "\n".join(lines), None
    newer = AuditPageButton(page - 1, member_id, action, label="◀ Newer")
    older = AuditPageButton(page + 1, member_id, action, label="Older ▶")
    newer.item.disabled = page == 1
    older.item.disabled = page == pages
    return "\n".join(lines), discord.ui.View(timeout=None).add_item(newer).add_item(older)


def _audit_line(entry: AuditEntry) -> str:
    who = "automatic" if entry.user_id is None else f"<@{entry.user_id}>"
    parts = [discord.utils.format_dt(entry.at, "f"), who, f"`{entry.action}`"]
    if entry.session_id is not None:
        parts.append(f"council #{entry.session_id}")
    detail = discord.utils.escape_markdown(" ".join(entry.detail.split()))
    if len(detail) > AUDIT_DETAIL_CHARS:
        # Cut after escaping, so the cap holds; never leave half an escape at the end.
        detail = detail[: AUDIT_DETAIL_CHARS - 1].rstrip("\\") + "…"
    if detail:
        parts.append(detail)
    return " · ".join(parts)
