"""The "Wrap up now" button a council offers its hosts once the members' positions held for a
whole round (see `SessionRun._agreed`): pressing it goes to the synthesis, like `/council end`.

The button is persistent: its custom_id carries the session, so it works across restarts
while the council runs, and `WrapUpButtons` registers it with the cog.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from bot.discord_ui.views import WRAP_ID_RE, wrap_button, wrap_view
from bot.errors import UserFacingError
from bot.i18n import localize, t
from bot.sessions import SessionManager
from bot.store.store import Store
from cogs.checks import ensure_host

if TYPE_CHECKING:
    from bot.app import CouncilBot

    _Owner = commands.Cog  # see cogs/history.py: the mixin is only ever part of CouncilCog
else:
    _Owner = object


class WrapButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=WRAP_ID_RE):
    """A council's "Wrap up now" button; only its hosts may press it, once."""

    def __init__(self, session_id: int) -> None:
        super().__init__(wrap_button(session_id, None))
        self.session_id = session_id

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> WrapButton:
        """Rebuild the button from its custom_id alone."""
        return cls(int(match["session"]))

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """End the council's rounds now, and close the button; a refusal is private."""
        store = getattr(interaction.client, "store", None)
        manager = getattr(interaction.client, "manager", None)
        locale = str(interaction.locale)
        not_running = UserFacingError(t("replies.wrap.over", session=self.session_id))
        try:
            if not isinstance(store, Store) or not isinstance(manager, SessionManager):
                raise not_running
            session = await store.get_session(self.session_id)
            if session is None:
                raise not_running
            settings = await store.guild_settings(session.guild_id or 0)
            ensure_host(interaction.user, settings)
            run = manager.run_for(session.id)
            if run is None or run.is_ending or run.is_stopping or session.status.is_final:
                raise not_running
        except UserFacingError as refused:
            await interaction.response.send_message(refused.localized(locale), ephemeral=True)
            return
        run.end()
        await interaction.response.edit_message(
            view=wrap_view(session.id, session.locale, is_closed=True)
        )
        await interaction.followup.send(localize(t("replies.end.ending"), locale), ephemeral=True)
        await store.audit(interaction.guild_id, interaction.user.id, "session.end", session.id)


class WrapUpButtons(_Owner):
    """Registers the "Wrap up now" buttons with `CouncilCog`; needs `bot` from the cog."""

    bot: CouncilBot

    async def cog_load(self) -> None:
        """Make the buttons work, also on those posted before a restart."""
        self.bot.add_dynamic_items(WrapButton)

    async def cog_unload(self) -> None:
        """Forget the buttons with the cog."""
        self.bot.remove_dynamic_items(WrapButton)
