"""Leaderboard maths: Bradley-Terry ratings from audience votes, with bootstrap intervals.

As Chatbot Arena does it. Every round of a session is a small tournament: each pair of members
who answered it is one comparison, won by the reply with more net votes (a tie when equal).
Strengths are fitted by maximum likelihood, shown on an Elo-like scale, and given percentile
intervals by resampling whole rounds.

Pure Python and CPU-bound: callers on the event loop run `leaderboard` via `asyncio.to_thread`.
"""

from __future__ import annotations

import math
import operator
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

BASE_RATING = 1000.0
"""The rating of a competitor of average strength."""

ELO_SCALE = 400.0
"""Rating points per factor of ten in strength: a 400-point gap means 10:1 odds."""

_LOG10_SCALE = ELO_SCALE / math.log(10.0)  # rating points per unit of natural log-strength
_MAX_ITERATIONS = 100
_TOLERANCE = 1e-9  # in log-strength: about 4e-7 rating points


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

    ``rating`` is the maximum-likelihood fit of every round; ``low``..``high`` is the bootstrap's
    percentile interval as the resamples give it, so on a sparse or lopsided record it can sit to
    one side of ``rating``, or even miss it. ``rank`` is one more than the number of entries that
    are better beyond doubt (their ``low`` above this ``high``), so statistically tied entries
    share a rank. ``is_tied_with_above`` says this entry's interval overlaps the one listed just
    above it.
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

    Finds the strengths p maximising the likelihood of the outcomes, where i beats j with
    probability p_i / (p_i + p_j) and a tie counts as half a win each way. ``prior`` adds that
    many virtual tied games for each competitor, spread evenly over its opponents: it keeps an
    undefeated or winless competitor's rating finite and pulls sparse records towards the
    middle, and weighs little against a long record.

    Ratings are ``400 * log10(p)`` shifted so that their mean is 1000 (the geometric-mean
    strength maps to 1000); only differences carry meaning.

    The maximum is the one Hunter's MM algorithm (2004) converges to, but found by Newton's
    method on log-strengths, where the likelihood is concave: a few steps instead of MM's tens
    of thousands when one competitor (nearly) always wins. It stops once no log-strength moves
    more than ``tol``, or after ``iterations`` steps.

    Raises:
        ValueError: if ``prior`` is negative, or zero when the outcomes have no finite maximum
            (some group of competitors never won or tied against the rest).
    """
    names, pairs = _aggregate(outcomes)
    thetas = _fit_log_strengths(len(names), pairs, prior, iterations, tol)
    return dict(zip(names, _to_ratings(thetas), strict=True))


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
    resampler = _RoundResampler(outcomes, {name: i for i, name in enumerate(names)})
    rng = random.Random(seed)  # noqa: S311  # statistics, not secrets: reproducible on purpose
    samples: list[list[float]] = [[] for _ in names]
    for _ in range(rounds):
        present, pairs = resampler.draw(rng)
        thetas = _fit_log_strengths(len(present), pairs, prior, _MAX_ITERATIONS, _TOLERANCE)
        for player, rating in zip(present, _to_ratings(thetas), strict=True):
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

    Best first means by rank, then rating (see `RatingRow`). ``votes`` gives each competitor's
    total votes cast for the ``votes`` column; without it the column holds the sum of absolute
    net votes. Competitors never compared with anyone (alone in every round they appeared in)
    are not rated. ``bootstrap_rounds=0`` skips intervals (each becomes just the rating).
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
    # The bootstrap's own percentiles, never stretched to reach the rating: a stretched interval
    # would no longer be the 95% the leaderboard says it is.
    bounds = {name: intervals.get(name, (ratings[name], ratings[name])) for name in ratings}
    ranks = {
        name: 1 + sum(1 for other in bounds if bounds[other][0] > high)
        for name, (_, high) in bounds.items()
    }
    # An interval need not contain its rating, so an entry can be better beyond doubt than one
    # rated higher; listing by rank first never puts an entry below one it beats beyond doubt.
    order = sorted(ratings, key=lambda name: (ranks[name], -ratings[name], name))
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
                rank=ranks[name],
                is_tied_with_above=above is not None and low <= above[1] and high >= above[0],
            )
        )
    return rows


# --------------------------------------------------------------------------- internals

_Pair = tuple[int, int]  # player indices, the lower first
_Pairs = dict[_Pair, tuple[float, float]]  # per pair: games played, points scored by the first


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


class _RoundResampler:
    """Draws bootstrap resamples of whole rounds and tallies them per pair.

    Rounds with identical results share a pattern (with a few members there are only a handful
    of possible orders), and each pair's games and points are kept as a column over patterns, so
    a resample is tallied by C-level dot products instead of a Python loop over outcomes.
    """

    def __init__(self, outcomes: Iterable[Outcome], index: Mapping[str, int]) -> None:
        by_round: dict[int, list[tuple[int, int, float]]] = {}
        for o in outcomes:
            a, b = index[o.a], index[o.b]
            entry = (a, b, o.score_a) if a < b else (b, a, 1.0 - o.score_a)
            by_round.setdefault(o.round_index, []).append(entry)
        pattern_ids: dict[tuple[tuple[int, int, float], ...], int] = {}
        self._round_patterns: list[int] = [
            pattern_ids.setdefault(tuple(sorted(entries)), len(pattern_ids))
            for entries in by_round.values()
        ]
        played: dict[_Pair, list[float]] = {}
        self._scored: dict[_Pair, list[float]] = {}
        for pattern, column in pattern_ids.items():
            for a, b, score in pattern:
                played.setdefault((a, b), [0.0] * len(pattern_ids))[column] += 1.0
                self._scored.setdefault((a, b), [0.0] * len(pattern_ids))[column] += score
        # Pairs that met in the same rounds (all of them, when members never change) share a
        # games column: one dot product serves them all.
        groups: dict[tuple[float, ...], list[_Pair]] = {}
        for pair, column_values in played.items():
            groups.setdefault(tuple(column_values), []).append(pair)
        self._played_groups = list(groups.items())
        self._patterns = len(pattern_ids)

    def draw(self, rng: random.Random) -> tuple[list[int], _Pairs]:
        """One resample: the players in it (by original index), and its games and points per
        pair, re-indexed to positions in that list."""
        drawn = Counter(rng.choices(self._round_patterns, k=len(self._round_patterns)))
        counts = [float(drawn.get(column, 0)) for column in range(self._patterns)]
        totals: _Pairs = {}
        for played, pairs in self._played_groups:
            games = sum(map(operator.mul, counts, played))
            if games:
                for pair in pairs:
                    totals[pair] = (games, sum(map(operator.mul, counts, self._scored[pair])))
        present = sorted({player for pair in totals for player in pair})
        local = {player: i for i, player in enumerate(present)}
        return present, {(local[a], local[b]): result for (a, b), result in totals.items()}


def _fit_log_strengths(
    n: int, pairs: _Pairs, prior: float, iterations: int, tol: float
) -> list[float]:
    """Maximum-likelihood log-strengths (mean 0) by damped Newton steps.

    ``prior`` virtual tied games per player are spread evenly over every pair. Only differences
    of log-strengths are determined, so the last one is held at 0 while solving.
    """
    if prior < 0.0:
        msg = f"prior must be at least 0, not {prior!r}"
        raise ValueError(msg)
    if n < 2:
        return [0.0] * n
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
    thetas = [0.0] * n
    likelihood = _log_likelihood(thetas, games)
    for _ in range(iterations):
        gradient = [0.0] * n
        information = [[0.0] * n for _ in range(n)]
        for (a, b), (played, scored) in games.items():
            p_ab = _logistic(thetas[a] - thetas[b])
            surplus = scored - played * p_ab
            gradient[a] += surplus
            gradient[b] -= surplus
            weight = played * p_ab * (1.0 - p_ab)
            information[a][a] += weight
            information[b][b] += weight
            information[a][b] -= weight
            information[b][a] -= weight
        step = [
            *_solve_positive_definite([row[:-1] for row in information[:-1]], gradient[:-1]),
            0.0,
        ]
        # The likelihood is concave, so halving an overshooting step always finds an ascent.
        damping = 1.0
        while True:
            candidate = [t + damping * s for t, s in zip(thetas, step, strict=True)]
            candidate_likelihood = _log_likelihood(candidate, games)
            if candidate_likelihood >= likelihood or damping < 1e-6:
                break
            damping /= 2.0
        thetas, likelihood = candidate, candidate_likelihood
        if max(abs(damping * s) for s in step) < tol:
            break
    mean = math.fsum(thetas) / n
    return [t - mean for t in thetas]


def _log_likelihood(thetas: Sequence[float], games: _Pairs) -> float:
    total = 0.0
    for (a, b), (played, scored) in games.items():
        ta, tb = thetas[a], thetas[b]
        # log(e^ta + e^tb) without overflow
        log_sum = max(ta, tb) + math.log1p(math.exp(-abs(ta - tb)))
        total += scored * ta + (played - scored) * tb - played * log_sum
    return total


def _logistic(x: float) -> float:
    """1 / (1 + e^-x), without overflow for large |x|."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _solve_positive_definite(
    matrix: Sequence[Sequence[float]], vector: Sequence[float]
) -> list[float]:
    """x with matrix @ x == vector, by Cholesky decomposition (matrix symmetric positive
    definite, as the reduced information matrix of a connected comparison graph is)."""
    n = len(vector)
    lower = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1):
            s = matrix[i][j] - math.fsum(lower[i][k] * lower[j][k] for k in range(j))
            if i == j:
                if s <= 0.0:
                    msg = "information matrix is not positive definite"
                    raise ArithmeticError(msg)
                lower[i][i] = math.sqrt(s)
            else:
                lower[i][j] = s / lower[j][j]
    forward = [0.0] * n
    for i in range(n):
        forward[i] = (vector[i] - math.fsum(lower[i][k] * forward[k] for k in range(i))) / lower[i][
            i
        ]
    solution = [0.0] * n
    for i in reversed(range(n)):
        tail = math.fsum(lower[k][i] * solution[k] for k in range(i + 1, n))
        solution[i] = (forward[i] - tail) / lower[i][i]
    return solution


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


def _to_ratings(thetas: Sequence[float]) -> list[float]:
    """Elo-like ratings from natural log-strengths: 400 * log10(p), averaging 1000."""
    mean = math.fsum(thetas) / len(thetas) if thetas else 0.0
    return [BASE_RATING + _LOG10_SCALE * (t - mean) for t in thetas]


def _quantile(ordered: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, interpolating linearly between neighbours."""
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
