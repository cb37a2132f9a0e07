"""Counting: Borda aggregation of peer-review rankings, audience vote tallies, winners, and
how far two rankings agree."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.council.models import MemberRole, Reply, ReplyKind, ReplyStatus, SessionRecord


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


def winners(net: Mapping[str, int]) -> list[str]:
    """Everyone sharing the top net score (up minus down votes), in the mapping's order.

    The audience favoured no one, and there are no winners, when no net score is above zero:
    an empty tally, a session nobody voted in, or one where every reply drew more down than up.
    """
    best = max(net.values(), default=0)
    if best <= 0:
        return []
    return [name for name, score in net.items() if score == best]


def kendall_tau(a: Mapping[str, float], b: Mapping[str, float]) -> float | None:
    """Kendall's tau-b between two scorings (higher is better) of the items scored in both.

    Every pair of shared items is concordant when both scorings order it the same way,
    discordant when they order it oppositely, and tied when either scores the two level; ties
    count for neither side. Tau-b divides concordant minus discordant pairs by the geometric
    mean of the pairs each scoring orders, so 1.0 means the same order (the same ties
    included) and -1.0 the reverse. None when the scorings share fewer than two items or
    either scores every shared item level: no ordered pair is left to compare.
    """
    common = [item for item in a if item in b]
    concordant = discordant = level_in_a = level_in_b = 0
    for i, first in enumerate(common):
        for second in common[i + 1 :]:
            in_a = _sign(a[first] - a[second])
            in_b = _sign(b[first] - b[second])
            if not in_a:
                level_in_a += 1
            if not in_b:
                level_in_b += 1
            if in_a and in_b and in_a == in_b:
                concordant += 1
            elif in_a and in_b:
                discordant += 1
    pairs = len(common) * (len(common) - 1) // 2
    ordered = (pairs - level_in_a) * (pairs - level_in_b)
    if ordered == 0:
        return None
    return (concordant - discordant) / math.sqrt(ordered)


def _sign(difference: float) -> int:
    return (difference > 0) - (difference < 0)


def round_nets(record: SessionRecord) -> list[dict[str, int]]:
    """Each voted round's net votes per member, as `bot.council.ratings.leaderboard` takes them.

    Counts the members' answers that were produced (not failures, chair turns, reviews or
    syntheses). A round in which no answer drew a single vote is left out: silence says nothing
    about which answer was better, and counting it as a draw would pull ratings together.
    """
    rounds: dict[int, dict[str, int]] = {}
    voted: set[int] = set()
    for reply in _answers(record):
        up, down = record.votes.get(reply.id, (0, 0))
        nets = rounds.setdefault(reply.round_number, {})
        nets[reply.persona] = nets.get(reply.persona, 0) + up - down
        if up or down:
            voted.add(reply.round_number)
    return [rounds[number] for number in sorted(rounds) if number in voted]


def net_totals(record: SessionRecord) -> dict[str, int]:
    """Each competing member's net votes over the session, in seating order.

    Members who never produced an answer are included with 0; pass the result to `winners`.
    """
    totals = {
        m.persona: 0
        for m in sorted(record.members, key=lambda m: m.position)
        if m.role is MemberRole.MEMBER
    }
    for reply in _answers(record):
        up, down = record.votes.get(reply.id, (0, 0))
        totals[reply.persona] = totals.get(reply.persona, 0) + up - down
    return totals


def _answers(record: SessionRecord) -> list[Reply]:
    return [r for r in record.replies if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK]
