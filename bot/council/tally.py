"""Counting: Borda aggregation of peer-review rankings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BordaScore:
    """A candidate's Borda points and how many reviewers ranked it."""

    candidate: str
    points: float
    ballots: int

    @property
    def average(self) -> float:
        """Points per ballot, so candidates ranked by fewer reviewers compare fairly."""
        return self.points / self.ballots if self.ballots else 0.0


def borda(rankings: Mapping[str, Sequence[str]]) -> list[BordaScore]:
    """Aggregate rankings (reviewer -> candidates best first) by Borda count.

    In a ballot of k candidates the first gets k-1 points and the last 0. Candidates are
    ordered by average points (every reviewer leaves itself out, so ballot counts differ),
    then total points, then name.
    """
    points: dict[str, float] = {}
    ballots: dict[str, int] = {}
    for ranking in rankings.values():
        k = len(ranking)
        for position, candidate in enumerate(ranking):
            points[candidate] = points.get(candidate, 0.0) + (k - 1 - position)
            ballots[candidate] = ballots.get(candidate, 0) + 1
    scores = [BordaScore(c, points[c], ballots[c]) for c in points]
    return sorted(scores, key=lambda s: (-s.average, -s.points, s.candidate))
