"""Messages for a host that the bot could not post where the council ran.

When the bot can't reach a council's thread or its channel (permissions lost, the channel
gone), what the host needs to know waits here and goes with the reply to their next command,
in the language that host's Discord is set to then.
"""

from __future__ import annotations

import logging

import discord

from bot.graphemes import ellipsize
from bot.i18n import Text, localize

log = logging.getLogger(__name__)

# A host who never comes back must not make the bot hold their notices forever.
NOTICES_PER_HOST_MAX = 5
# Discord's limit on a message's content.
MESSAGE_MAX_CHARS = 2000


class HostNotices:
    """Undelivered notices, per host, handed over once."""

    def __init__(self) -> None:
        self._waiting: dict[int, list[str | Text]] = {}

    def leave(self, user_id: int, text: str | Text) -> None:
        """Keep a notice for the host's next command (the oldest go past the cap).

        A `Text` is put into the host's language when it is delivered.
        """
        waiting = self._waiting.setdefault(user_id, [])
        waiting.append(text)
        del waiting[:-NOTICES_PER_HOST_MAX]

    def take(self, user_id: int) -> list[str | Text]:
        """The host's waiting notices, removed."""
        return self._waiting.pop(user_id, [])

    async def deliver(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Send the user's waiting notices privately after their command was answered."""
        waiting = self.take(interaction.user.id)
        if not waiting:
            return
        locale = str(interaction.locale)
        lines = "\n".join(f"⚠️ {localize(line, locale)}" for line in waiting)
        text = ellipsize(lines, MESSAGE_MAX_CHARS)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(
                    text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
            else:
                await interaction.response.send_message(
                    text, ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
                )
        except discord.HTTPException:
            log.warning("could not hand %d notice(s) to user %d", len(waiting), interaction.user.id)
            for line in waiting:
                self.leave(interaction.user.id, line)
