"""What the store keeps of challenges: uploaded question sets, runs, and predictions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from bot.council.challenge import Question
from bot.council.challenge_scores import QuestionResult

Prediction = Literal["right", "wrong"]


@dataclass(frozen=True, slots=True)
class ChallengeSetInfo:
    """An uploaded question set, without its questions."""

    guild_id: int
    name: str
    question_count: int
    uploaded_by: int
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class NewChallenge:
    """A challenge about to start in a channel."""

    guild_id: int
    channel_id: int
    user_id: int
    set_name: str
    preset: str | None
    locale: str | None
    questions: tuple[Question, ...]


@dataclass(frozen=True, slots=True)
class ChallengeRecord:
    """A challenge as stored: what it asks, which questions are posted (their message ids) and
    which revealed (their results), by 1-based number."""

    id: int
    guild_id: int
    channel_id: int
    user_id: int
    set_name: str
    preset: str | None
    locale: str | None
    questions: tuple[Question, ...]
    started_at: datetime
    ended_at: datetime | None = None
    posted: Mapping[int, int] = field(default_factory=dict)
    results: Mapping[int, QuestionResult] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PredictionCount:
    """The predictions on one question when it was revealed."""

    right: int
    wrong: int

    def correct(self, *, is_right: bool) -> int:
        """How many guessed the council's outcome."""
        return self.right if is_right else self.wrong
