"""Persistent buttons: votes (the custom_id carries the reply id; the store holds the state)
and a council's "Wrap up now" (the custom_id carries the session id)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.council.models import VoteValue
from bot.i18n import localize, t

if TYPE_CHECKING:
    from bot.discord_ui.votes import VoteDesk

VOTE_ID_RE = r"council:vote:(?P<reply>[0-9]{1,19}):(?P<value>up|down)"
_LABELS = {VoteValue.UP: "👍", VoteValue.DOWN: "👎"}


def vote_custom_id(reply_id: int, value: VoteValue) -> str:
    """The button's custom_id, e.g. `council:vote:42:up` (well under Discord's 100 chars)."""
    return f"council:vote:{reply_id}:{value}"


class VoteButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=VOTE_ID_RE):
    """A 👍 or 👎 button under a persona's reply. Works across restarts: nothing in memory."""

    def __init__(
        self, reply_id: int, value: VoteValue, count: int = 0, *, is_closed: bool = False
    ) -> None:
        super().__init__(
            discord.ui.Button(
                label=f"{_LABELS[value]} {count}",
                style=discord.ButtonStyle.secondary,
                custom_id=vote_custom_id(reply_id, value),
                disabled=is_closed,
            )
        )
        self.reply_id = reply_id
        self.value = value

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> VoteButton:
        """Rebuild the button from its custom_id alone."""
        return cls(int(match["reply"]), VoteValue(match["value"]))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Record the click, then acknowledge; the desk refreshes the counts shortly."""
        desk: VoteDesk | None = getattr(interaction.client, "vote_desk", None)
        if desk is None:
            await interaction.response.send_message(
                localize(t("replies.vote.unavailable"), str(interaction.locale)), ephemeral=True
            )
            return
        await desk.click(interaction, self.reply_id, self.value)


def vote_view(reply_id: int, up: int, down: int, *, is_closed: bool = False) -> discord.ui.View:
    """The two vote buttons with their counts."""
    view = discord.ui.View(timeout=None)
    view.add_item(VoteButton(reply_id, VoteValue.UP, up, is_closed=is_closed))
    view.add_item(VoteButton(reply_id, VoteValue.DOWN, down, is_closed=is_closed))
    return view


WRAP_ID_RE = r"council:wrap:(?P<session>[0-9]{1,19})"


def wrap_button(
    session_id: int, locale: str | None, *, is_closed: bool = False
) -> discord.ui.Button[Any]:
    """The "Wrap up now" button a council offers its hosts when the members' positions held
    for a round; its custom_id is `council:wrap:<session>`."""
    return discord.ui.Button(
        label=localize(t("council.agreement.wrap-up"), locale),
        emoji="🤝",
        style=discord.ButtonStyle.primary,
        custom_id=f"council:wrap:{session_id}",
        disabled=is_closed,
    )


def wrap_view(session_id: int, locale: str | None, *, is_closed: bool = False) -> discord.ui.View:
    """A view holding only the "Wrap up now" button (see `cogs.wrap.WrapButton`)."""
    view = discord.ui.View(timeout=None)
    view.add_item(wrap_button(session_id, locale, is_closed=is_closed))
    return view
