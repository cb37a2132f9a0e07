"""Hosts muting a council's members: a muted member sits out the rounds that follow.

Discord-free: the cog names the council, the member and the host; this checks the request
against the council's line-up, keeps the change in the store (so a resumed council keeps it),
tells the live run, audits it, and returns the note the thread shows.
"""

from __future__ import annotations

from bot.council.models import Member, MemberRole, Session
from bot.council.spec import MIN_MEMBERS
from bot.errors import UserFacingError
from bot.i18n import Text, t
from bot.sessions import SessionManager
from bot.store.store import Store


class Mutes:
    """Mutes and unmutes a council's members."""

    def __init__(self, store: Store, manager: SessionManager) -> None:
        self.store = store
        self.manager = manager

    async def mute(self, session: Session, name: str, *, user_id: int, host: str) -> Text:
        """Mute the member called `name` (its persona name, or its alias in a blind council)
        from the next round on; return the thread's note.

        The chair of a chaired council is refused: every round begins with its question, so
        the council can't go on without it. So is a mute that would leave fewer than two
        members speaking.
        """
        session, member, shown, members = await self._find(session, name)
        chairs = session.format == "chaired" and member.role is MemberRole.CHAIR
        if chairs:
            raise UserFacingError(t("replies.mute.chair", name=shown, session=session.id))
        if member.persona in session.muted:
            raise UserFacingError(t("replies.mute.already", name=shown, session=session.id))
        speaking = [
            m.persona
            for m in members
            if m.persona not in session.muted
            and m.persona != member.persona
            and not (session.format == "chaired" and m.role is MemberRole.CHAIR)
        ]
        if len(speaking) < MIN_MEMBERS:
            raise UserFacingError(t("replies.mute.too-few", name=shown, session=session.id))
        await self.store.set_muted(session.id, [*session.muted, member.persona])
        if (run := self.manager.run_for(session.id)) is not None:
            run.mute(member.persona)
        await self.store.audit(session.guild_id, user_id, "member.mute", session.id, shown)
        return t("council.mute.muted", name=shown, host=host)

    async def unmute(self, session: Session, name: str, *, user_id: int, host: str) -> Text:
        """Let a muted member speak again from the next round; return the thread's note."""
        session, member, shown, _ = await self._find(session, name)
        if member.persona not in session.muted:
            raise UserFacingError(t("replies.mute.not-muted", name=shown, session=session.id))
        await self.store.set_muted(session.id, [p for p in session.muted if p != member.persona])
        if (run := self.manager.run_for(session.id)) is not None:
            run.unmute(member.persona)
        await self.store.audit(session.guild_id, user_id, "member.unmute", session.id, shown)
        return t("council.mute.unmuted", name=shown, host=host)

    async def _find(self, session: Session, name: str) -> tuple[Session, Member, str, list[Member]]:
        """The session as stored now, the member called `name`, the name the thread knows it
        by (its alias in a blind council, which a refusal must not give away), and all the
        council's members."""
        stored = await self.store.get_session(session.id) or session
        members = await self.store.members(session.id)
        wanted = " ".join(name.split()).casefold()
        for member in members:
            # A blind council's members answer to their aliases only: a host trying real
            # names must not learn who sits behind which.
            shown = member.alias or member.persona
            if wanted == shown.casefold():
                return stored, member, shown, members
        names = ", ".join(m.alias or m.persona for m in members)
        raise UserFacingError(t("replies.mute.unknown", name=name, session=session.id, names=names))
