"""Leaderboard maths: Bradley-Terry ratings from audience votes, with bootstrap intervals.

As Chatbot Arena does it. Every round of a session is a small tournament: each pair of members
who answered it is one comparison, won by the reply with more net votes (a tie when equal).
Strengths are fitted by maximum likelihood with Hunter's MM algorithm, shown on an Elo-like
scale, and given percentile intervals by resampling whole rounds.

Pure Python and CPU-bound: callers on the event loop run `leaderboard` via `asyncio.to_thread`.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BASE_RATING = 1000.0
"""The rating of a competitor of average strength."""

ELO_SCALE = 400.0
"""Rating points per factor of ten in strength: a 400-point gap means 10:1 odds."""

_Pair = tuple[int, int]
_MAX_ITERATIONS = 10_000
_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Outcome:
    """One comparison: ``a`` against ``b`` in round ``round_index``.

    ``score_a`` is 1 when ``a`` won, 0.5 for a tie and 0 when ``b`` won.
    """

    a: str
    b: str
    score_a: float
    round_index: int = 0

    def __post_init__(self) -> None:
        if self.score_a not in (0.0, 0.5, 1.0):
            msg = f"score_a must be 0, 0.5 or 1, not {self.score_a!r}"
            raise ValueError(msg)
        if self.a == self.b:
            msg = f"a competitor cannot meet itself ({self.a!r})"
            raise ValueError(msg)


@dataclass(frozen=True, slots=True)
class RatingRow:
    """One leaderboard entry.

    ``low``..``high`` is the bootstrap interval (always containing ``rating``). ``rank`` is one
    more than the number of entries that are better beyond doubt (their ``low`` above this
    ``high``), so statistically tied entries share a rank. ``is_tied_with_above`` says this
    entry's interval overlaps the one listed just above it.
    """

    name: str
    rating: float
    low: float
    high: float
    rounds: int
    votes: int
    rank: int
    is_tied_with_above: bool


def pairwise_outcomes(rounds: Iterable[Mapping[str, int]]) -> list[Outcome]:
    """Every pairwise comparison in each round of ``{competitor: net votes}``.

    Outcomes carry their round's position in ``rounds`` so that bootstrapping can resample whole
    rounds. A round with one competitor compares nothing.
    """
    outcomes: list[Outcome] = []
    for index, nets in enumerate(rounds):
        names = list(nets)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                diff = nets[a] - nets[b]
                score = 1.0 if diff > 0 else 0.0 if diff < 0 else 0.5
                outcomes.append(Outcome(a, b, score, index))
    return outcomes


def fit_bradley_terry(
    outcomes: Iterable[Outcome],
    *,
    prior: float = 1.0,
    iterations: int = _MAX_ITERATIONS,
    tol: float = _TOLERANCE,
) -> dict[str, float]:
    """Bradley-Terry ratings for every competitor in ``outcomes``, by name.

    The MM algorithm (Hunter 2004) finds the strengths p maximising the likelihood of the
    outcomes, where i beats j with probability p_i / (p_i + p_j) and a tie counts as half a win
    each way. ``prior`` adds that many virtual tied games for each competitor, spread evenly
    over its opponents: it keeps an undefeated or winless competitor's rating finite and pulls
    sparse records towards the middle, and weighs little against a long record.

    Ratings are ``400 * log10(p)`` shifted so that their mean is 1000 (the geometric-mean
    strength maps to 1000); only differences carry meaning.

    Iterates until no log-strength moves more than ``tol``, or ``iterations`` updates.

    Raises:
        ValueError: if ``prior`` is negative, or zero when the outcomes have no finite maximum
            (some group of competitors never lost, or tied, to the rest).
    """
    names, pairs = _aggregate(outcomes)
    if not names:
        return {}
    strengths = _fit_strengths(len(names), pairs, prior, iterations, tol)
    return dict(zip(names, _to_ratings(strengths), strict=True))


def bootstrap_intervals(
    outcomes: Iterable[Outcome],
    *,
    rounds: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
    prior: float = 1.0,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals for each competitor's rating, by refitting resampled rounds.

    Each of ``rounds`` resamples draws as many rounds as there are, with replacement, keeping
    each round's outcomes together (votes within a round are not independent). A competitor
    absent from a resample gets no rating from it; one with fewer than two ratings across all
    resamples gets the interval (-inf, inf). The same ``seed`` gives the same intervals.

    Raises:
        ValueError: if ``confidence`` is not strictly between 0 and 1, ``rounds`` < 1 or
            ``prior`` is not positive (a resample may have no finite unregularised fit).
    """
    if not 0.0 < confidence < 1.0:
        msg = f"confidence must be between 0 and 1, not {confidence!r}"
        raise ValueError(msg)
    if rounds < 1:
        msg = f"need at least one bootstrap round, not {rounds!r}"
        raise ValueError(msg)
    if prior <= 0.0:
        msg = f"bootstrapping needs a positive prior, not {prior!r}"
        raise ValueError(msg)
    outcomes = list(outcomes)
    names, _ = _aggregate(outcomes)
    index = {name: i for i, name in enumerate(names)}
    patterns, round_patterns = _round_patterns(outcomes, index)
    rng = random.Random(seed)  # noqa: S311  # statistics, not secrets: reproducible on purpose
    samples: list[list[float]] = [[] for _ in names]
    for _ in range(rounds):
        counts = [0] * len(patterns)
        for pattern in rng.choices(round_patterns, k=len(round_patterns)):
            counts[pattern] += 1
        present, pairs = _resampled_pairs(patterns, counts)
        strengths = _fit_strengths(len(present), pairs, prior, _MAX_ITERATIONS, _TOLERANCE)
        for player, rating in zip(present, _to_ratings(strengths), strict=True):
            samples[player].append(rating)
    tail = (1.0 - confidence) / 2.0
    intervals: dict[str, tuple[float, float]] = {}
    for name, values in zip(names, samples, strict=True):
        if len(values) < 2:
            intervals[name] = (-math.inf, math.inf)
            continue
        values.sort()
        intervals[name] = (_quantile(values, tail), _quantile(values, 1.0 - tail))
    return intervals


def leaderboard(
    rounds: Sequence[Mapping[str, int]],
    *,
    votes: Mapping[str, int] | None = None,
    bootstrap_rounds: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> list[RatingRow]:
    """Rated competitors, best first, from rounds of ``{competitor: net votes}``.

    ``votes`` gives each competitor's total votes cast for the ``votes`` column; without it the
    column holds the sum of absolute net votes. Competitors never compared with anyone (alone
    in every round they appeared in) are not rated. ``bootstrap_rounds=0`` skips intervals
    (each becomes just the rating).
    """
    outcomes = pairwise_outcomes(rounds)
    ratings = fit_bradley_terry(outcomes)
    intervals = (
        bootstrap_intervals(outcomes, rounds=bootstrap_rounds, seed=seed, confidence=confidence)
        if bootstrap_rounds > 0
        else {}
    )
    appearances: dict[str, int] = {}
    abs_net: dict[str, int] = {}
    for nets in rounds:
        for name, net in nets.items():
            appearances[name] = appearances.get(name, 0) + 1
            abs_net[name] = abs_net.get(name, 0) + abs(net)
    vote_counts = votes if votes is not None else abs_net
    order = sorted(ratings, key=lambda name: (-ratings[name], name))
    bounds: dict[str, tuple[float, float]] = {}
    for name in order:
        low, high = intervals.get(name, (ratings[name], ratings[name]))
        # A percentile interval can miss a skewed point estimate; a row must never look that way.
        bounds[name] = (min(low, ratings[name]), max(high, ratings[name]))
    rows: list[RatingRow] = []
    for position, name in enumerate(order):
        low, high = bounds[name]
        above = bounds[order[position - 1]] if position else None
        rows.append(
            RatingRow(
                name=name,
                rating=ratings[name],
                low=low,
                high=high,
                rounds=appearances.get(name, 0),
                votes=vote_counts.get(name, 0),
                rank=1 + sum(1 for other in order if bounds[other][0] > high),
                is_tied_with_above=above is not None and high >= above[0],
            )
        )
    return rows


# --------------------------------------------------------------------------- internals

# Per pair of player indices (i < j): games played, and points scored by i.
_Pairs = dict[_Pair, tuple[float, float]]
# One round's results as (i, j, score of i) with i < j, sorted.
_Pattern = tuple[tuple[int, int, float], ...]


def _aggregate(outcomes: Iterable[Outcome]) -> tuple[list[str], _Pairs]:
    """Names in order of first appearance, and the games and points per pair of indices."""
    index: dict[str, int] = {}
    pairs: _Pairs = {}
    for outcome in outcomes:
        for name in (outcome.a, outcome.b):
            index.setdefault(name, len(index))
        a, b, score = index[outcome.a], index[outcome.b], outcome.score_a
        pair, points = ((a, b), score) if a < b else ((b, a), 1.0 - score)
        played, scored = pairs.get(pair, (0.0, 0.0))
        pairs[pair] = (played + 1.0, scored + points)
    return list(index), pairs


def _round_patterns(
    outcomes: Sequence[Outcome], index: Mapping[str, int]
) -> tuple[list[_Pattern], list[int]]:
    """Distinct per-round results, and which of them each round had.

    Rounds with identical results (common: a few members, a handful of possible orders) share a
    pattern, so a resample is tallied per pattern rather than per outcome.
    """
    by_round: dict[int, list[tuple[int, int, float]]] = {}
    for o in outcomes:
        a, b = index[o.a], index[o.b]
        entry = (a, b, o.score_a) if a < b else (b, a, 1.0 - o.score_a)
        by_round.setdefault(o.round_index, []).append(entry)
    pattern_ids: dict[_Pattern, int] = {}
    round_patterns: list[int] = []
    for entries in by_round.values():
        pattern = tuple(sorted(entries))
        round_patterns.append(pattern_ids.setdefault(pattern, len(pattern_ids)))
    return list(pattern_ids), round_patterns


def _resampled_pairs(
    patterns: Sequence[_Pattern], counts: Sequence[int]
) -> tuple[list[int], _Pairs]:
    """The players present in a resample (by original index), and its pairs re-indexed to
    positions in that list."""
    totals: dict[_Pair, tuple[float, float]] = {}
    for pattern, count in zip(patterns, counts, strict=True):
        if not count:
            continue
        for a, b, score in pattern:
            played, scored = totals.get((a, b), (0.0, 0.0))
            totals[(a, b)] = (played + count, scored + score * count)
    present = sorted({player for pair in totals for player in pair})
    local = {player: i for i, player in enumerate(present)}
    return present, {(local[a], local[b]): result for (a, b), result in totals.items()}


def _fit_strengths(n: int, pairs: _Pairs, prior: float, iterations: int, tol: float) -> list[float]:
    """Bradley-Terry strengths by Hunter's MM updates, geometric mean 1.

    ``prior`` virtual tied games per player are spread evenly over every pair. A tie prior only
    constrains ratios, like the data, so each update can be rescaled freely; a fixed pseudo-
    opponent would instead pin the overall scale so weakly that MM crawls towards it.
    """
    if prior < 0.0:
        msg = f"prior must be at least 0, not {prior!r}"
        raise ValueError(msg)
    if n < 2:
        return [1.0] * n
    if prior == 0.0 and not _is_strongly_connected(n, pairs):
        msg = "without a prior these ratings diverge: some competitors never lost to the rest"
        raise ValueError(msg)
    games = dict(pairs)
    if prior > 0.0:
        virtual = prior / (n - 1)
        for a in range(n):
            for b in range(a + 1, n):
                played, scored = games.get((a, b), (0.0, 0.0))
                games[(a, b)] = (played + virtual, scored + virtual / 2.0)
    neighbours: list[list[tuple[int, float]]] = [[] for _ in range(n)]
    targets = [0.0] * n  # each player's wins, ties counting half
    for (a, b), (played, scored) in games.items():
        neighbours[a].append((b, played))
        neighbours[b].append((a, played))
        targets[a] += scored
        targets[b] += played - scored
    strengths = [1.0] * n
    for _ in range(iterations):
        updated = []
        for i in range(n):
            p = strengths[i]
            denominator = 0.0
            for j, played in neighbours[i]:
                denominator += played / (p + strengths[j])
            updated.append(targets[i] / denominator)
        # Only ratios are determined: pin the geometric mean at 1.
        scale = math.exp(math.fsum(math.log(p) for p in updated) / n)
        updated = [p / scale for p in updated]
        change = max(abs(math.log(new / old)) for new, old in zip(updated, strengths, strict=True))
        strengths = updated
        if change < tol:
            break
    return strengths


def _is_strongly_connected(n: int, pairs: _Pairs) -> bool:
    """Whether every competitor scored, directly or through others, against every other one.

    This is Hunter's condition for the unregularised likelihood to have a finite maximum: for
    every split of the competitors into two groups, each group won or tied a game against the
    other.
    """
    forward: list[set[int]] = [set() for _ in range(n)]
    backward: list[set[int]] = [set() for _ in range(n)]
    for (a, b), (played, scored) in pairs.items():
        if scored > 0.0:
            forward[a].add(b)
            backward[b].add(a)
        if played - scored > 0.0:
            forward[b].add(a)
            backward[a].add(b)
    return all(_reaches_all(edges, n) for edges in (forward, backward))


def _reaches_all(edges: Sequence[set[int]], n: int) -> bool:
    seen = {0}
    frontier = [0]
    while frontier:
        for j in edges[frontier.pop()] - seen:
            seen.add(j)
            frontier.append(j)
    return len(seen) == n


def _to_ratings(strengths: Sequence[float]) -> list[float]:
    """Elo-like ratings, 400 * log10(strength), shifted so that they average 1000."""
    logs = [ELO_SCALE * math.log10(p) for p in strengths]
    shift = BASE_RATING - math.fsum(logs) / len(logs)
    return [r + shift for r in logs]


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly between neighbours."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
