"""/council withheld and /council release: hosts review what moderation withheld, and show it.

A mixin of `CouncilCog`, like the history commands, so both join the /council group. The list
holds the withheld text, so it is only ever sent privately.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.blind import shown_names
from bot.council.models import Reply, ReplyStatus, Session
from bot.council.moderation import category_label
from bot.discord_ui.posting import NO_MENTIONS
from bot.discord_ui.withheld import ReplyRelease
from bot.errors import UserFacingError
from bot.graphemes import ellipsize
from bot.i18n import Text, localize, t, tn
from cogs.checks import ensure_host, require_guild, session_here

if TYPE_CHECKING:
    from bot.app import CouncilBot
    from bot.store.store import Store

    _Owner = commands.Cog
else:
    _Owner = object

WithheldScope = Literal["council", "server"]
WITHHELD_LISTED = 10
# How much of each reply the list quotes; `reply:` shows one in full.
LISTED_TEXT_CHARS = 120
MESSAGE_MAX_CHARS = 2000
# The list's entries fit this much, leaving room for the "and N more" line.
LIST_CHARS = 1850


def is_moderator(user: discord.User | discord.Member) -> bool:
    """Moderators have Manage Messages or Manage Server."""
    if not isinstance(user, discord.Member):
        return False
    permissions = user.guild_permissions
    return permissions.manage_messages or permissions.manage_guild


class WithheldCommands(_Owner):
    """The /council commands about withheld replies; needs `bot` and `store` from the cog."""

    bot: CouncilBot
    store: Store

    @app_commands.command()
    @app_commands.guild_only()
    async def withheld(
        self,
        interaction: discord.Interaction[discord.Client],
        scope: WithheldScope = "council",
        reply: app_commands.Range[int, 1] | None = None,
    ) -> None:
        """List the replies moderation withheld, with their text (only you see it).

        Args:
            scope: This thread's council (hosts), or the whole server (moderators).
            reply: Show this withheld reply in full.
        """
        guild = require_guild(interaction)
        locale = str(interaction.locale)
        settings = await self.store.guild_settings(guild.id)
        if scope == "server":
            if not is_moderator(interaction.user):
                raise UserFacingError(t("replies.withheld.moderators-only"))
            session: Session | None = None
        else:
            session = await session_here(interaction, self.store)
            ensure_host(interaction.user, settings)
        if reply is not None:
            found = await self._withheld_reply(guild.id, reply, session)
            [author] = (await self._authors([found])).values()
            await _send_in_full(interaction, found, author, locale)
            return
        session_id = None if session is None else session.id
        listed = await self.store.withheld_replies(
            guild.id, session_id=session_id, limit=WITHHELD_LISTED
        )
        total = await self.store.count_withheld(guild.id, session_id=session_id)
        heading = (
            tn("replies.withheld.heading-server", total)
            if session is None
            else tn("replies.withheld.heading-council", total, session=session.id)
        )
        lines = [localize(heading, locale)]
        size = len(lines[0])
        authors = await self._authors(listed)
        for entry in (_entry(r, authors[r.id], locale) for r in listed):
            if size + len(entry) > LIST_CHARS:
                break
            lines.append(entry)
            size += len(entry) + 1
        if (unlisted := total - (len(lines) - 1)) > 0:
            lines.append(localize(tn("replies.withheld.more", unlisted), locale))
        await interaction.response.send_message(
            "\n".join(lines), ephemeral=True, allowed_mentions=NO_MENTIONS
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def release(
        self, interaction: discord.Interaction[discord.Client], reply: app_commands.Range[int, 1]
    ) -> None:
        """Show a reply moderation withheld, in its place, with its vote buttons (hosts).

        Args:
            reply: The withheld reply's number (see /council withheld).
        """
        guild = require_guild(interaction)
        settings = await self.store.guild_settings(guild.id)
        ensure_host(interaction.user, settings)
        found = await self._withheld_reply(guild.id, reply, None)
        session = await self.store.get_session(found.session_id)
        if session is None:  # a reply outlives no session; kept total for the type checker
            raise UserFacingError(t("replies.withheld.unknown", reply=reply))
        await interaction.response.defer(ephemeral=True, thinking=True)
        desk = ReplyRelease(
            client=self.bot, pool=self.bot.webhooks, store=self.store, personas=self.bot.personas
        )
        await desk.release(found, session, interaction.user.id)
        where = f"<#{session.thread_id}>" if session.thread_id else f"#{session.id}"
        shown = t("replies.withheld.released", reply=reply, thread=where)
        await interaction.followup.send(localize(shown, str(interaction.locale)), ephemeral=True)

    async def _withheld_reply(self, guild_id: int, reply_id: int, session: Session | None) -> Reply:
        """A withheld reply of this guild (of `session`, if given), or a refusal that gives
        nothing of another guild's away."""
        found = await self.store.get_reply(reply_id)
        owner = None if found is None else await self.store.get_session(found.session_id)
        if (
            found is None
            or owner is None
            or owner.guild_id != guild_id
            or (session is not None and owner.id != session.id)
        ):
            raise UserFacingError(t("replies.withheld.unknown", reply=reply_id))
        if found.status is not ReplyStatus.WITHHELD:
            raise UserFacingError(t("replies.withheld.not-withheld", reply=reply_id))
        return found

    async def _authors(self, replies: list[Reply]) -> dict[int, str]:
        """Who wrote each reply, by reply id, as its thread names them: a blind council's
        members by alias until its summary reveals them."""
        names: dict[int, dict[str, str]] = {}
        for session_id in {r.session_id for r in replies}:
            session = await self.store.get_session(session_id)
            if session is not None:
                names[session_id] = shown_names(session, await self.store.members(session_id))
        return {r.id: names.get(r.session_id, {}).get(r.persona, "?") for r in replies}


def _about(reply: Reply, author: str) -> Text:
    """One withheld reply's heading: its number, council, author, round and why."""
    return t(
        "replies.withheld.entry",
        reply=reply.id,
        session=reply.session_id,
        name=author,
        round=reply.round_number,
        category=category_label(reply.moderation_category),
        source=reply.moderation_source or "-",
    )


def _entry(reply: Reply, author: str, locale: str) -> str:
    text = " ".join(reply.text.split())
    quoted = discord.utils.escape_markdown(ellipsize(text, LISTED_TEXT_CHARS))
    return f"{localize(_about(reply, author), locale)}\n> {quoted}"


async def _send_in_full(
    interaction: discord.Interaction[discord.Client], reply: Reply, author: str, locale: str
) -> None:
    """The reply's heading, the rule it broke, its text quoted (or attached, if that would be
    too long for one message) and how to release it."""
    lines = [localize(_about(reply, author), locale)]
    if reply.moderation_rule:
        lines.append(f"-# {discord.utils.escape_markdown(reply.moderation_rule)}")
    release = localize(t("replies.withheld.how-to-release", reply=reply.id), locale)
    quoted = "\n".join(f"> {line}" for line in reply.text.splitlines() or [""])
    inline = "\n".join([*lines, quoted, release])
    if len(inline) <= MESSAGE_MAX_CHARS:
        await interaction.response.send_message(
            inline, ephemeral=True, allowed_mentions=NO_MENTIONS
        )
        return
    attached = discord.File(io.BytesIO(reply.text.encode()), filename=f"reply-{reply.id}.txt")
    await interaction.response.send_message(
        "\n".join([*lines, release]),
        file=attached,
        ephemeral=True,
        allowed_mentions=NO_MENTIONS,
    )
