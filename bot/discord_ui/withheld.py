"""Withheld replies in Discord: hosts list them (with the text) and release one in place.

Releasing edits the note that stood in the reply's place back into the reply, with its vote
buttons, through the same webhook that posted the note; a reply too long for one message gets
its further parts posted after it.
"""

from __future__ import annotations

import logging

import discord

from bot.council.models import Reply, ReplyKind, ReplyStatus, Session
from bot.discord_ui.embeds import COUNCIL_COLOR, color_int
from bot.discord_ui.failures import DeliveryFailed, MessageGone
from bot.discord_ui.posting import Identity, PersonaPoster
from bot.discord_ui.presenter import BLIND_COLOR
from bot.discord_ui.views import vote_view
from bot.discord_ui.webhooks import WebhookPool
from bot.errors import UserFacingError
from bot.i18n import Text, t
from bot.personas import PersonaBook
from bot.render.moderated import kind_prefix, reply_parts
from bot.store.store import Store

log = logging.getLogger(__name__)


class ReplyRelease:
    """Shows a withheld reply in its thread again, and records that a host released it."""

    def __init__(
        self, *, client: discord.Client, pool: WebhookPool, store: Store, personas: PersonaBook
    ) -> None:
        self.client = client
        self.pool = pool
        self.store = store
        self.personas = personas

    async def release(self, reply: Reply, session: Session, user_id: int) -> Reply:
        """Show `reply` in place of its note, mark it released and audit who did it.

        Raises:
            UserFacingError: it is not withheld, or the thread can't show it now (it stays
                withheld then).
        """
        if reply.status is not ReplyStatus.WITHHELD:
            raise UserFacingError(t("replies.withheld.not-withheld", reply=reply.id))
        shown = reply.model_copy(update={"status": ReplyStatus.OK})
        identity = await self._identity(reply, session)
        message_ids = await self._show(shown, session, identity)
        try:
            await self.store.release_reply(reply.id)
        except ValueError:
            # Another host released it a moment ago; the messages say the same either way.
            raise UserFacingError(t("replies.withheld.not-withheld", reply=reply.id)) from None
        released = await self.store.set_reply_messages(reply.id, message_ids)
        # Named as the thread names it: a blind council's member by its alias.
        detail = f"reply {reply.id} of {identity.name}: {reply.moderation_category or '-'}"
        await self.store.audit(session.guild_id, user_id, "reply.release", session.id, detail)
        return released

    async def _show(self, reply: Reply, session: Session, identity: Identity) -> list[int]:
        thread = await self._thread(session)
        poster = PersonaPoster(
            pool=self.pool, thread=thread, on_fallback=self._fell_back, house=self._house()
        )
        prefix = kind_prefix(reply.kind, session.locale)
        parts = reply_parts(reply, identity.name, prefix=prefix, locale=session.locale)
        view = vote_view(reply.id, 0, 0) if reply.kind is ReplyKind.ANSWER else None
        ids = list(reply.message_ids[:1])
        try:
            for index, part in enumerate(parts):
                last = view if index == len(parts) - 1 else None
                if index < len(ids):
                    try:
                        await poster.edit(ids[index], identity, part, view=last)
                        continue
                    except MessageGone:
                        del ids[index:]
                ids.append(await poster.send(identity, part, view=last))
        except DeliveryFailed as exc:
            raise UserFacingError(
                t("replies.withheld.not-shown", reply=reply.id, reason=str(exc))
            ) from exc
        return ids

    async def _thread(self, session: Session) -> discord.Thread:
        thread_id = session.thread_id
        found = self.client.get_channel(thread_id) if thread_id else None
        if found is None and thread_id:
            try:
                found = await self.client.fetch_channel(thread_id)
            except discord.HTTPException:
                found = None
        if not isinstance(found, discord.Thread):
            raise UserFacingError(t("replies.withheld.no-thread", session=session.id))
        return found

    async def _identity(self, reply: Reply, session: Session) -> Identity:
        if session.is_blind:
            members = await self.store.members(session.id)
            alias = next((m.alias for m in members if m.persona == reply.persona), None)
            return Identity(alias or reply.persona, None, BLIND_COLOR)
        for persona in await self.personas.personas(session.guild_id):
            if persona.name == reply.persona:
                return Identity(persona.name, persona.avatar_url, color_int(persona.color))
        return Identity(reply.persona, None, COUNCIL_COLOR)

    def _house(self) -> Identity:
        me = self.client.user
        return Identity(
            me.display_name if me else "Council", me.display_avatar.url if me else None, 0
        )

    async def _fell_back(self, text: Text) -> None:
        log.warning("releasing a reply: %s", text)
