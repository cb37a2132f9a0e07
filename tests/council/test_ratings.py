"""Bradley-Terry ratings, bootstrap intervals and the leaderboard built from them."""

from __future__ import annotations

import math

import pytest

from bot.council import ratings
from bot.council.ratings import (
    Outcome,
    bootstrap_intervals,
    fit_bradley_terry,
    leaderboard,
    pairwise_outcomes,
)

# --------------------------------------------------------------------------- outcomes


def test_every_pair_in_a_round_gives_one_outcome_by_net_votes() -> None:
    outcomes = pairwise_outcomes([{"A": 3, "B": 1, "C": 3}, {"A": -1, "B": 0}])
    assert outcomes == [
        Outcome("A", "B", 1.0, 0),
        Outcome("A", "C", 0.5, 0),
        Outcome("B", "C", 0.0, 0),
        Outcome("A", "B", 0.0, 1),
    ]


def test_a_round_with_one_competitor_compares_nothing() -> None:
    assert pairwise_outcomes([{"A": 5}, {}]) == []


@pytest.mark.parametrize(("a", "b", "score"), [("A", "B", 0.7), ("A", "A", 1.0)])
def test_an_impossible_outcome_is_refused(a: str, b: str, score: float) -> None:
    with pytest.raises(ValueError, match=r"score_a|itself"):
        Outcome(a, b, score)


# --------------------------------------------------------------------------- fitting


def _games(a: str, b: str, wins: int, losses: int, ties: int = 0) -> list[Outcome]:
    results = [1.0] * wins + [0.0] * losses + [0.5] * ties
    return [Outcome(a, b, score, index) for index, score in enumerate(results)]


@pytest.mark.parametrize(("wins", "losses"), [(3, 1), (7, 2), (5, 5), (1, 9)])
def test_two_players_differ_by_400_log10_of_their_win_ratio(wins: int, losses: int) -> None:
    ratings = fit_bradley_terry(_games("A", "B", wins, losses), prior=0.0)
    assert ratings["A"] - ratings["B"] == pytest.approx(400 * math.log10(wins / losses))


def test_ratings_average_1000() -> None:
    ratings = fit_bradley_terry(_games("A", "B", 3, 1) + _games("B", "C", 2, 2), prior=0.0)
    assert sum(ratings.values()) / 3 == pytest.approx(1000.0)


def test_three_players_match_the_hand_computed_maximum_likelihood() -> None:
    # Strengths 4:2:1 predict exactly these results (A-B 2 of 3, B-C 2 of 3, A-C 4 of 5),
    # so they solve the likelihood equations: ratings 1000 + 400*log10(4, 2, 1) - 120.41.
    outcomes = _games("A", "B", 2, 1) + _games("B", "C", 2, 1) + _games("A", "C", 4, 1)
    ratings = fit_bradley_terry(outcomes, prior=0.0)
    step = 400 * math.log10(2)
    assert ratings == pytest.approx({"A": 1000 + step, "B": 1000.0, "C": 1000 - step})


def test_a_tie_counts_as_half_a_win_each_way() -> None:
    ratings = fit_bradley_terry(_games("A", "B", 1, 0, ties=1), prior=0.0)
    assert ratings["A"] - ratings["B"] == pytest.approx(400 * math.log10(1.5 / 0.5))


def test_only_ties_leave_everyone_at_1000() -> None:
    ratings = fit_bradley_terry(_games("A", "B", 0, 0, ties=4) + _games("B", "C", 0, 0, ties=2))
    assert ratings == pytest.approx({"A": 1000.0, "B": 1000.0, "C": 1000.0})


def test_the_fit_does_not_depend_on_which_side_of_an_outcome_a_player_is() -> None:
    outcomes = _games("A", "B", 3, 1) + _games("B", "C", 1, 2) + _games("C", "A", 2, 2)
    flipped = [Outcome(o.b, o.a, 1.0 - o.score_a, o.round_index) for o in outcomes]
    assert fit_bradley_terry(flipped) == pytest.approx(fit_bradley_terry(outcomes))


def test_mirrored_records_give_mirrored_ratings() -> None:
    ratings = fit_bradley_terry(_games("A", "B", 5, 2))
    mirrored = fit_bradley_terry(_games("A", "B", 2, 5))
    assert ratings["A"] - 1000 == pytest.approx(1000 - mirrored["A"])
    assert ratings["A"] == pytest.approx(mirrored["B"])


def test_a_cycle_has_a_finite_fit_without_a_prior() -> None:
    outcomes = _games("A", "B", 1, 0) + _games("B", "C", 1, 0) + _games("C", "A", 1, 0)
    assert fit_bradley_terry(outcomes, prior=0.0) == pytest.approx(
        {"A": 1000.0, "B": 1000.0, "C": 1000.0}
    )


def test_the_prior_keeps_an_undefeated_player_finite_and_ahead() -> None:
    ratings = fit_bradley_terry(_games("A", "B", 3, 0))
    assert math.isfinite(ratings["A"])
    assert ratings["A"] > 1000 > ratings["B"]


def test_without_a_prior_an_undefeated_player_is_refused() -> None:
    with pytest.raises(ValueError, match="diverge"):
        fit_bradley_terry(_games("A", "B", 3, 0), prior=0.0)


def test_a_stronger_prior_pulls_ratings_towards_1000() -> None:
    outcomes = _games("A", "B", 6, 2)
    weak = fit_bradley_terry(outcomes, prior=1.0)
    strong = fit_bradley_terry(outcomes, prior=8.0)
    unregularised = fit_bradley_terry(outcomes, prior=0.0)
    assert unregularised["A"] > weak["A"] > strong["A"] > 1000


def test_a_nearly_unbeaten_player_over_a_long_record_is_fitted_to_convergence() -> None:
    # A slow fixed-point iteration stops early here; the true maximum makes the gradient zero:
    # A's 999.5 expected points against B equal its actual points.
    outcomes = _games("A", "B", 999, 0, ties=1)
    ratings = fit_bradley_terry(outcomes, prior=0.0)
    p_a = 1 / (1 + 10 ** ((ratings["B"] - ratings["A"]) / 400))
    assert 1000 * p_a == pytest.approx(999.5)


def test_no_outcomes_give_no_ratings() -> None:
    assert fit_bradley_terry([]) == {}


def test_a_negative_prior_is_refused() -> None:
    with pytest.raises(ValueError, match="prior"):
        fit_bradley_terry(_games("A", "B", 1, 1), prior=-1.0)


# --------------------------------------------------------------------------- intervals


def _season(repeats: int) -> list[dict[str, int]]:
    """Rounds in fixed proportions: A usually first, B and C evenly matched."""
    block = [
        {"A": 3, "B": 1, "C": 1},
        {"A": 3, "B": 2, "C": 1},
        {"A": 3, "B": 1, "C": 2},
        {"A": 0, "B": 2, "C": 1},
        {"A": 0, "B": 1, "C": 2},
    ]
    return block * repeats


def test_on_a_long_even_record_the_intervals_contain_the_point_estimate() -> None:
    outcomes = pairwise_outcomes(_season(20))
    ratings = fit_bradley_terry(outcomes)
    for name, (low, high) in bootstrap_intervals(outcomes).items():
        assert low < ratings[name] < high


def test_intervals_shrink_with_more_data() -> None:
    def width(repeats: int) -> float:
        low, high = bootstrap_intervals(pairwise_outcomes(_season(repeats)))["A"]
        return high - low

    assert width(100) < width(4) / 3


def test_a_higher_confidence_gives_a_wider_interval() -> None:
    outcomes = pairwise_outcomes(_season(10))
    low_90, high_90 = bootstrap_intervals(outcomes, confidence=0.90)["B"]
    low_99, high_99 = bootstrap_intervals(outcomes, confidence=0.99)["B"]
    assert low_99 <= low_90 < high_90 <= high_99
    assert high_99 - low_99 > high_90 - low_90


def test_the_same_seed_gives_the_same_intervals_and_another_seed_does_not() -> None:
    outcomes = pairwise_outcomes(_season(6))
    assert bootstrap_intervals(outcomes, seed=3) == bootstrap_intervals(outcomes, seed=3)
    assert bootstrap_intervals(outcomes, seed=3) != bootstrap_intervals(outcomes, seed=4)


def test_resampling_draws_whole_rounds() -> None:
    # Every round is a sweep, A > B > C or C > B > A. However many of each a resample of whole
    # rounds draws, B's record stays balanced and its rating exactly 1000; resampling single
    # comparisons would unbalance it. A's rating does move with the draw.
    sweeps = [{"A": 2, "B": 1, "C": 0}, {"A": 0, "B": 1, "C": 2}] * 30
    intervals = bootstrap_intervals(pairwise_outcomes(sweeps), rounds=50)
    assert intervals["B"] == pytest.approx((1000.0, 1000.0))
    low, high = intervals["A"]
    assert high - low > 50


def test_too_few_resampled_ratings_give_an_unbounded_interval() -> None:
    intervals = bootstrap_intervals(pairwise_outcomes(_season(2)), rounds=1)
    assert intervals["A"] == (-math.inf, math.inf)


@pytest.mark.parametrize(
    "options",
    [{"confidence": 0.0}, {"confidence": 1.0}, {"rounds": 0}, {"prior": 0.0}],
)
def test_invalid_bootstrap_options_are_refused(options: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011  # each option has its own message
        bootstrap_intervals(pairwise_outcomes(_season(1)), **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- leaderboard


def test_the_leaderboard_is_sorted_by_rating_with_rounds_and_votes() -> None:
    rounds = _season(10)
    rows = leaderboard(rounds, votes={"A": 50, "B": 40})
    assert [row.rating for row in rows] == sorted((row.rating for row in rows), reverse=True)
    assert (rows[0].name, rows[0].rounds) == ("A", 50)
    assert {row.name: row.votes for row in rows} == {"A": 50, "B": 40, "C": 0}


def test_without_vote_counts_the_leaderboard_sums_absolute_nets() -> None:
    rows = leaderboard([{"A": 2, "B": -3}, {"A": -1, "B": 0}], bootstrap_rounds=0)
    assert {row.name: row.votes for row in rows} == {"A": 3, "B": 3}


def test_a_rows_interval_is_the_bootstraps_own_even_when_it_misses_the_rating() -> None:
    # A came last in all three rounds, so every resample gives it the same record; only B and C
    # vary. Only the 7 of 27 equally likely resamples in which B and C come out even, as in the
    # data, rate A as the full fit does; the other 20 rate it lower. So the middle 30% of the
    # resampled ratings lies wholly below A's rating, and the row must show it that way.
    rounds = [{"A": 0, "B": 2, "C": 2}, {"A": 0, "B": 2, "C": 1}, {"A": 0, "B": 1, "C": 2}]
    outcomes = pairwise_outcomes(rounds)
    fitted = fit_bradley_terry(outcomes)["A"]
    low, high = bootstrap_intervals(outcomes, confidence=0.3)["A"]
    assert high < fitted - 1.0

    row = next(r for r in leaderboard(rounds, confidence=0.3) if r.name == "A")

    assert (row.rating, row.low, row.high) == (fitted, low, high)


def test_an_entry_whose_interval_lies_above_another_is_ranked_and_listed_above_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A is rated higher, but B's interval lies wholly above A's: B is better beyond doubt, so it
    # comes first, and the two are not tied, whichever order their ratings suggest.
    intervals = {"A": (900.0, 950.0), "B": (960.0, 1000.0)}
    monkeypatch.setattr(ratings, "bootstrap_intervals", lambda *args, **kwargs: intervals)

    rows = leaderboard([{"A": 1, "B": 0}] * 3 + [{"A": 0, "B": 1}])

    assert rows[1].rating > rows[0].rating
    assert [(r.name, r.rank, r.is_tied_with_above) for r in rows] == [
        ("B", 1, False),
        ("A", 2, False),
    ]
    assert [(r.low, r.high) for r in rows] == [intervals["B"], intervals["A"]]


def test_evenly_matched_entries_share_a_rank_and_are_marked_tied() -> None:
    rows = leaderboard(_season(30))
    assert [(row.rank, row.is_tied_with_above) for row in rows] == [
        (1, False),
        (2, False),
        (2, True),
    ]
    assert {rows[1].name, rows[2].name} == {"B", "C"}


def test_a_competitor_never_compared_is_not_rated() -> None:
    rows = leaderboard([{"A": 1, "B": 0}, {"Solo": 4}])
    assert {row.name for row in rows} == {"A", "B"}


def test_without_bootstrap_the_interval_is_the_rating() -> None:
    rows = leaderboard(_season(3), bootstrap_rounds=0)
    assert all(row.low == row.rating == row.high for row in rows)


def test_the_leaderboard_is_deterministic_for_a_seed() -> None:
    assert leaderboard(_season(5), seed=9) == leaderboard(_season(5), seed=9)


def test_no_rounds_give_an_empty_leaderboard() -> None:
    assert leaderboard([]) == []
