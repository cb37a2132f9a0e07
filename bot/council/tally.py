"""Counting: Borda aggregation of peer-review rankings, audience vote tallies and winners."""

from __future__ import annotations

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


def kendall_tau(a: Sequence[str], b: Sequence[str]) -> float | None:
    """Kendall's rank correlation of two rankings (best first) over the items in both.

    1.0 means the same order, -1.0 the reverse. Both are strict rankings, so this is tau-a; a
    name repeated in a ranking counts at its first (best) place. None when the rankings share
    fewer than two items, since no pair can then be compared.
    """
    position_a = _positions(a)
    position_b = _positions(b)
    common = [item for item in position_a if item in position_b]
    if len(common) < 2:
        return None
    score = 0
    for i, first in enumerate(common):
        for second in common[i + 1 :]:
            in_a = position_a[first] - position_a[second]
            in_b = position_b[first] - position_b[second]
            score += 1 if (in_a > 0) == (in_b > 0) else -1
    pairs = len(common) * (len(common) - 1) // 2
    return score / pairs


def _positions(ranking: Sequence[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for place, item in enumerate(ranking):
        positions.setdefault(item, place)
    return positions


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
