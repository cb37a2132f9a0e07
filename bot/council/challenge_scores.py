"""Scoring a challenge's three arms on the same questions.

1. a single member alone: each member's independent first answer;
2. the majority of the independent answers (no debate);
3. the majority of the final answers, after debate.

Later work on multi-agent debate finds most of its gain comes from the vote alone; arm 2
separates the two.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from bot.council.answers import is_right
from bot.council.challenge import Question

# The normal quantile for a two-sided 95 % interval.
Z_95: Final = 1.959963984540054

Stage = Literal["first", "final"]


@dataclass(frozen=True, slots=True)
class MemberAnswer:
    """What one member said at one stage: the reply and the answer read from it (None: none)."""

    text: str
    answer: str | None


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """One question's answers, by member name in seat order: independent first, then final."""

    question: Question
    first: Mapping[str, MemberAnswer]
    final: Mapping[str, MemberAnswer]


@dataclass(frozen=True, slots=True)
class Accuracy:
    """`correct` of `total` right, with a 95 % Wilson score interval on the share."""

    correct: int
    total: int
    low: float
    high: float

    @property
    def share(self) -> float:
        """The share right, 0 when nothing was asked."""
        return self.correct / self.total if self.total else 0.0


@dataclass(frozen=True, slots=True)
class Unparsed:
    """A reply no answer could be read from; it was counted as wrong."""

    question: int  # 1-based
    member: str
    stage: Stage
    text: str


@dataclass(frozen=True, slots=True)
class ChallengeScore:
    """The three arms compared, and how debate changed members' answers."""

    questions: int
    members: Mapping[str, Accuracy]  # arm 1, each member alone
    average_member: float  # the mean of the members' shares
    best_member: str
    majority_independent: Accuracy  # arm 2
    majority_debate: Accuracy  # arm 3
    wrong_to_right: int  # member answers, across all questions
    right_to_wrong: int
    unparsed: tuple[Unparsed, ...]


def wilson_interval(correct: int, total: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval for a share `correct / total` (0, 1 when `total` is 0).

    Wilson rather than the textbook normal ("Wald") interval: a challenge has few questions and
    its shares sit near 0 or 1, where Wald's interval collapses to zero width (10 of 10 right
    would claim certainty) or spills outside [0, 1], and its coverage falls well short of 95 %.
    Wilson's stays inside [0, 1] and keeps close to its nominal coverage for small samples
    (Brown, Cai & DasGupta 2001, "Interval Estimation for a Binomial Proportion").
    """
    if total <= 0:
        return 0.0, 1.0
    share = correct / total
    z2 = z * z
    centre = (share + z2 / (2 * total)) / (1 + z2 / total)
    half = (z / (1 + z2 / total)) * math.sqrt(share * (1 - share) / total + z2 / (4 * total**2))
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy(correct: int, total: int) -> Accuracy:
    """`correct` of `total` with its interval."""
    low, high = wilson_interval(correct, total)
    return Accuracy(correct, total, low, high)


def majority(answers: Sequence[str | None]) -> str | None:
    """The answer most members gave, `answers` being in seat order; None if none was read.

    A tie goes to the tied answer given first in seat order: deterministic, and it favours no
    particular answer value. An unreadable answer never takes part in the vote.
    """
    counts = Counter(a for a in answers if a is not None)
    if not counts:
        return None
    top = max(counts.values())
    return next(a for a in answers if a is not None and counts[a] == top)


def score_challenge(results: Sequence[QuestionResult], members: Sequence[str]) -> ChallengeScore:
    """Score the three arms on `results`, members named in seat order."""
    total = len(results)
    alone = {
        name: accuracy(
            sum(is_right(r.first[name].answer, r.question.answer) for r in results), total
        )
        for name in members
    }
    independent = sum(
        is_right(majority([r.first[n].answer for n in members]), r.question.answer) for r in results
    )
    debated = sum(
        is_right(majority([r.final[n].answer for n in members]), r.question.answer) for r in results
    )
    wrong_to_right = right_to_wrong = 0
    unparsed: list[Unparsed] = []
    for number, result in enumerate(results, start=1):
        expected = result.question.answer
        for name in members:
            before = is_right(result.first[name].answer, expected)
            after = is_right(result.final[name].answer, expected)
            wrong_to_right += not before and after
            right_to_wrong += before and not after
            stages: tuple[tuple[Stage, MemberAnswer], ...] = (
                ("first", result.first[name]),
                ("final", result.final[name]),
            )
            unparsed.extend(
                Unparsed(number, name, stage, said.text)
                for stage, said in stages
                if said.answer is None
            )
    # Ties for best go to the first in seat order, like the vote.
    best = max(members, key=lambda name: (alone[name].correct, -members.index(name)))
    return ChallengeScore(
        questions=total,
        members=alone,
        average_member=sum(a.share for a in alone.values()) / len(members) if members else 0.0,
        best_member=best,
        majority_independent=accuracy(independent, total),
        majority_debate=accuracy(debated, total),
        wrong_to_right=wrong_to_right,
        right_to_wrong=right_to_wrong,
        unparsed=tuple(unparsed),
    )
