"""What the engine tells its presenter, in order, as a session runs.

A presenter (Discord, the terminal, a test) receives these through `Presenter.handle`. Each
turn of a model is identified by a `TurnKey` so text deltas can be matched to their message.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from bot.council.models import AudienceQuestion, Member, MemberQuestion, Reply, ReplyKind, Session
from bot.council.synthesis import Synthesis


@dataclass(frozen=True, slots=True)
class TurnKey:
    """One model call in a session: a persona's turn of a kind in a round."""

    round_number: int
    persona: str
    kind: ReplyKind


@dataclass(frozen=True, slots=True)
class SessionStarted:
    """The session is open; members are seated."""

    session: Session
    members: Sequence[Member]


@dataclass(frozen=True, slots=True)
class RoundStarted:
    """A round begins; `questions` are the audience's, put to the council now."""

    number: int
    question: str | None
    questions: Sequence[AudienceQuestion]


@dataclass(frozen=True, slots=True)
class MemberStarted:
    """A model has been asked and is thinking."""

    turn: TurnKey
    display_name: str
    # The questions other members put to it that this turn is asked to answer.
    answering: Sequence[MemberQuestion] = ()


@dataclass(frozen=True, slots=True)
class TextDelta:
    """More visible text of a turn. `text` is the whole reply so far, not only the new piece."""

    turn: TurnKey
    text: str


@dataclass(frozen=True, slots=True)
class MemberFinished:
    """A turn ended with a reply, already stored with the questions it put to other members;
    `provider` is the config's provider that answered."""

    turn: TurnKey
    reply: Reply
    provider: str
    questions: Sequence[MemberQuestion] = ()


@dataclass(frozen=True, slots=True)
class MemberFailed:
    """A turn ended without a reply; `reply` is the stored failure record, `provider` the
    config's provider that was called."""

    turn: TurnKey
    reply: Reply
    reason: str
    provider: str


@dataclass(frozen=True, slots=True)
class RoundFinished:
    """A round is over; `replies` holds its stored replies and failures."""

    number: int
    replies: Sequence[Reply]


@dataclass(frozen=True, slots=True)
class AgreementReached:
    """Every member's position held through round `number` and no question between members is
    open: the host may wrap up now, or the council does (`is_ending`)."""

    number: int
    is_ending: bool


@dataclass(frozen=True, slots=True)
class SessionPaused:
    """The session waits for `resume` (quorum lost, or the host paused it)."""

    reason: str


@dataclass(frozen=True, slots=True)
class SessionResumed:
    """The session goes on after a pause."""

    next_round: int


@dataclass(frozen=True, slots=True)
class SynthesisReady:
    """The closing synthesis (None when too few members answered to synthesise)."""

    synthesis: Synthesis | None
    coverage: str


@dataclass(frozen=True, slots=True)
class SessionEnded:
    """The session is over: finished, stopped or failed, as `session.status` says."""

    session: Session


@dataclass(frozen=True, slots=True)
class ModelCalled:
    """A model call made outside a session (a challenge's) ended: the config's provider that
    was called, its outcome ("ok" or the error kind), and what it took and cost."""

    provider: str
    outcome: str
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float | None = None
    first_token_s: float | None = None


Event = (
    SessionStarted
    | RoundStarted
    | MemberStarted
    | TextDelta
    | MemberFinished
    | MemberFailed
    | RoundFinished
    | AgreementReached
    | SessionPaused
    | SessionResumed
    | SynthesisReady
    | SessionEnded
    | ModelCalled
)


@runtime_checkable
class Presenter(Protocol):
    """Shows a session to people. Must return quickly: the engine awaits every call."""

    async def handle(self, event: Event) -> None:
        """Show one event."""
        ...


class Watcher(Protocol):
    """Follows sessions for the operator (metrics). Sees every event but the text deltas."""

    def observe(self, event: Event) -> None:
        """Note one event; must return at once and never raise: a session waits on it."""
        ...


@dataclass(frozen=True, slots=True)
class Watched:
    """A presenter whose events a watcher sees too, each before the presenter does (so that a
    presenter's failure hides nothing from the watcher)."""

    presenter: Presenter
    watcher: Watcher

    async def handle(self, event: Event) -> None:
        """Let the watcher note `event` (not a text delta), then show it."""
        if not isinstance(event, TextDelta):
            self.watcher.observe(event)
        await self.presenter.handle(event)
