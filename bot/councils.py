"""Permanent councils: a guild's named line-ups, and the memory their sessions share.

Discord-free: the cog passes names and options in and shows what comes back.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.config import CouncilConfig
from bot.council.charter import clean_charter
from bot.council.memory import DEFAULT_MEMORY_TOKENS, digest
from bot.council.models import PermanentCouncil
from bot.council.spec import build_spec
from bot.errors import UserFacingError
from bot.i18n import t, tn
from bot.store.errors import ConstraintError
from bot.store.store import Store

NAME_MAX_CHARS = 50
_NAME_RE = re.compile(r"^[\w][\w .'-]*$")


class CouncilBook:
    """Saves, finds and remembers a guild's permanent councils."""

    def __init__(
        self, config: CouncilConfig, store: Store, *, memory_tokens: int = DEFAULT_MEMORY_TOKENS
    ) -> None:
        self.config = config
        self.store = store
        self.memory_tokens = memory_tokens

    async def create(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        preset: str | None = None,
        members: Sequence[str] | None = None,
        chair: str | None = None,
        format: str | None = None,
        rounds: int | None = None,
        memory_sessions: int = 3,
        language: str | None = None,
        charter: str = "",
    ) -> PermanentCouncil:
        """Save a council after checking it could run (its personas, format and chair).

        `charter` holds rules every member's prompt carries ("" for none).
        """
        name = " ".join(name.split())
        if not (1 <= len(name) <= NAME_MAX_CHARS and _NAME_RE.match(name)):
            raise UserFacingError(tn("replies.councils.bad-name", NAME_MAX_CHARS))
        # The same checks a start would make, so a saved council can always be convened.
        spec = build_spec(
            self.config,
            "(checking the line-up)",
            preset=preset,
            members=members,
            chair=chair,
            format=format,
            rounds=rounds,
            language=language,
        )
        try:
            council = await self.store.create_council(
                guild_id,
                name,
                preset=spec.preset,
                members=[seat.name for seat in spec.members],
                chair=spec.chair.name if spec.chair else None,
                format=spec.format,
                rounds=spec.rounds,
                memory_sessions=memory_sessions,
                created_by=user_id,
                language=spec.language,
                charter=clean_charter(charter),
            )
        except ConstraintError:
            raise UserFacingError(t("replies.councils.name-taken", name=name)) from None
        await self.store.audit(guild_id, user_id, "council.create", detail=name)
        return council

    async def set_charter(
        self, council: PermanentCouncil, charter: str, user_id: int
    ) -> PermanentCouncil:
        """Replace the council's charter ("" clears it); the sessions it convenes later carry
        it, not one already running."""
        cleaned = clean_charter(charter)
        if charter and not cleaned:
            raise UserFacingError(t("replies.charter.empty"))
        changed = await self.store.set_council_charter(council.id, cleaned)
        detail = council.name if cleaned else f"{council.name} (cleared)"
        await self.store.audit(council.guild_id, user_id, "council.charter", detail=detail)
        return changed

    async def find(self, guild_id: int, name: str) -> PermanentCouncil:
        """The guild's council of that name, or a refusal listing the names."""
        council = await self.store.council_named(guild_id, " ".join(name.split()))
        if council is None:
            names = ", ".join(c.name for c in await self.store.councils(guild_id))
            if not names:
                raise UserFacingError(t("replies.councils.unknown-none-saved", name=name))
            raise UserFacingError(t("replies.councils.unknown", name=name, names=names))
        return council

    async def memory(self, council: PermanentCouncil) -> str:
        """The digest the council's next session will be given ("" when it remembers nothing)."""
        sessions = await self.store.remembered_sessions(council)
        return digest(sessions, max_tokens=self.memory_tokens)

    async def forget(self, council: PermanentCouncil, user_id: int) -> PermanentCouncil:
        """Clear the council's memory; its next session starts afresh."""
        await self.store.audit(council.guild_id, user_id, "council.forget", detail=council.name)
        return await self.store.clear_council_memory(council.id)
