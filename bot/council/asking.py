"""Whom a member's answer puts questions to: its footer's `ask:` entries, else its text.

Read as the answer is stored, so that its questions are stored with it (a restart mid-round
keeps them) and the thread can show them under it at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.council.prompts import directed_questions
from bot.council.stance import StanceFooter


@dataclass(frozen=True, slots=True)
class Asking:
    """Who one speaker may put questions to, and which of its questions still wait."""

    speaker: str
    # Every participant who may be asked (persona → the name the models use), the speaker too.
    names: Mapping[str, str]
    # (addressee, question) pairs the speaker put earlier that still wait for an answer.
    waiting: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def questions(self, footer: StanceFooter | None, text: str) -> list[tuple[str, str]]:
        """The (addressee persona, question) pairs an answer puts, in order.

        With a footer, its `ask:` entries; without one (a model ignoring it, or echoing its
        placeholders), the questions the text puts by name. None goes to the speaker itself,
        to a name nobody here has, or again while the same question still waits.
        """
        me = self.names.get(self.speaker, self.speaker)
        asks = (
            footer.asks
            if footer is not None
            else directed_questions(text, me, list(self.names.values()))
        )
        persona_of = {name.casefold(): persona for persona, name in self.names.items()}
        seen = set(self.waiting)
        put: list[tuple[str, str]] = []
        for name, question in asks:
            addressee = persona_of.get(name.strip().casefold())
            if addressee is None or addressee == self.speaker or (addressee, question) in seen:
                continue
            seen.add((addressee, question))
            put.append((addressee, question))
        return put
