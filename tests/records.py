"""Builders for stored records with sensible defaults, shared by every test that seeds a store."""

from __future__ import annotations

from bot.council.models import Member, NewReply, NewSession, Reply, Session
from bot.store import Store


class Make:
    """Builders for records with sensible defaults; keyword arguments override any field."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def on(self, other: Store) -> Make:
        """The same builders writing through another Store."""
        return Make(other)

    async def session(self, **fields: object) -> Session:
        values: dict[str, object] = {"topic": "Is a hot dog a sandwich?", "guild_id": 1}
        values.update(fields)
        return await self.store.create_session(NewSession.model_validate(values))

    async def reply(self, session_id: int, **fields: object) -> Reply:
        values: dict[str, object] = {
            "session_id": session_id,
            "round_number": 1,
            "persona": "Claude",
            "text": "It is a taco.",
        }
        values.update(fields)
        return await self.store.add_reply(NewReply.model_validate(values))

    @staticmethod
    def member(session_id: int, position: int, persona: str, **fields: object) -> Member:
        values: dict[str, object] = {
            "session_id": session_id,
            "position": position,
            "persona": persona,
            "model_key": persona.lower(),
            "model": f"{persona.lower()}-large",
            "provider": "fake",
        }
        values.update(fields)
        return Member.model_validate(values)
