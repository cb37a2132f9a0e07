"""Reading finished councils back: each round's start, its members' model calls and messages."""

from __future__ import annotations

from dataclasses import dataclass

from bench.observe import MessageTimes, requests_about
from bench.world import Fakes, model_of, monotonic_of
from bot.council.models import ReplyKind, ReplyStatus, Session
from bot.store.store import Store
from tests.fakellm import RecordedRequest


@dataclass(frozen=True)
class Answer:
    """One member's answer in a round: its model call and its Discord messages, timed."""

    persona: str
    request: RecordedRequest
    first_token_at: float
    first_message: MessageTimes
    last_message: MessageTimes

    @property
    def generation_s(self) -> float:
        """How long the model took, as the model server saw it."""
        finished = self.request.finished_at or self.request.received_at
        return finished - self.request.received_at


@dataclass(frozen=True)
class PlayedRound:
    """A round: when the engine started it, and its answers."""

    session_id: int
    number: int
    started_at: float
    answers: tuple[Answer, ...]

    @property
    def last_final_at(self) -> float | None:
        """When the round's last answer got its final text and buttons on Discord."""
        finals = [a.last_message.final_at for a in self.answers]
        if not finals or any(f is None for f in finals):
            return None
        return max(f for f in finals if f is not None)

    @property
    def wall_s(self) -> float | None:
        """From the round's start to its last final message on Discord."""
        last = self.last_final_at
        return None if last is None else last - self.started_at


async def played_rounds(
    fakes: Fakes, store: Store, session: Session, times: dict[int, MessageTimes]
) -> list[PlayedRound]:
    """Every round of a finished council, with its answers matched to their model calls.

    A member's n-th model call about this council's topic is its answer in round n (the
    synthesis, by the Scribe, runs on another model).
    """
    played: list[PlayedRound] = []
    calls: dict[str, list[RecordedRequest]] = {}
    for round_ in await store.rounds(session.id):
        answers = []
        replies = await store.replies(session.id, round_.number)
        for reply in replies:
            if reply.kind is not ReplyKind.ANSWER or reply.status is not ReplyStatus.OK:
                continue
            if reply.persona not in calls:
                calls[reply.persona] = requests_about(
                    fakes.llm, model_of(reply.persona), session.topic
                )
            request = calls[reply.persona][round_.number - 1]
            pace = fakes.paces[reply.persona]
            answers.append(
                Answer(
                    persona=reply.persona,
                    request=request,
                    first_token_at=request.received_at + pace.first_token_s,
                    first_message=times.get(reply.message_ids[0], MessageTimes()),
                    last_message=times.get(reply.message_ids[-1], MessageTimes()),
                )
            )
        played.append(
            PlayedRound(
                session_id=session.id,
                number=round_.number,
                started_at=monotonic_of(round_.started_at),
                answers=tuple(answers),
            )
        )
    return played
