"""Peer review mechanics: ballots, ranking parsing and Borda aggregation."""

from __future__ import annotations

import random

from bot.council.review import make_ballot, parse_ranking
from bot.council.tally import borda

ANSWERS = {name: f"answer of {name}" for name in ("A1", "B2", "C3", "D4", "E5")}


def test_a_ballot_leaves_out_the_reviewers_own_answer():
    ballot = make_ballot("C3", ANSWERS, random.Random(1))
    assert sorted(p for _, p, _ in ballot.entries) == ["A1", "B2", "D4", "E5"]
    assert [label for label, _, _ in ballot.entries] == [
        "Response A",
        "Response B",
        "Response C",
        "Response D",
    ]


def test_each_reviewer_gets_its_own_shuffle():
    rng = random.Random(3)
    orders = {
        tuple(p for _, p, _ in make_ballot(name, ANSWERS, rng).entries if p != "A1")
        for name in ("A1",) * 1 + ("B2", "C3", "D4", "E5")
    }
    assert len(orders) > 1


def test_rankings_parse_from_json_fenced_json_or_plain_mentions():
    ballot = make_ballot("A1", {"A1": "x", "B2": "y", "C3": "z"}, random.Random(0))
    label_of = {p: label for label, p, _ in ballot.entries}
    order = [label_of["C3"], label_of["B2"]]
    as_json = f'{{"ranking": ["{order[0]}", "{order[1]}"], "reasons": "r"}}'
    assert parse_ranking(as_json, ballot) == ["C3", "B2"]
    assert parse_ranking(f"```json\n{as_json}\n```", ballot) == ["C3", "B2"]
    letters = f'{{"ranking": ["{order[0][-1]}", "{order[1][-1]}"]}}'
    assert parse_ranking(letters, ballot) == ["C3", "B2"]
    prose = f"Best is {order[0]}, clearly; then {order[1]}."
    assert parse_ranking(prose, ballot) == ["C3", "B2"]


def test_an_incomplete_or_unreadable_ranking_is_rejected():
    ballot = make_ballot("A1", {"A1": "x", "B2": "y", "C3": "z"}, random.Random(0))
    assert parse_ranking("They are all great.", ballot) is None
    assert parse_ranking('{"ranking": ["Response A"]}', ballot) is None
    assert parse_ranking('{"ranking": ["Response A", "Response Z"]}', ballot) is None


def test_borda_gives_k_minus_one_points_to_the_first_and_normalises_by_ballots():
    scores = borda({"A": ["B", "C"], "B": ["A", "C"], "C": ["A", "B"]})
    assert [(s.candidate, s.points, s.ballots) for s in scores] == [
        ("A", 2.0, 2),
        ("B", 1.0, 2),
        ("C", 0.0, 2),
    ]
    # A and B both have 2 points, but A earned them on one ballot and B on two.
    uneven = borda({"X": ["A", "B", "C"], "Y": ["B", "C"]})
    assert [(s.candidate, s.points, s.average) for s in uneven] == [
        ("A", 2.0, 2.0),
        ("B", 2.0, 1.0),
        ("C", 0.0, 0.0),
    ]
