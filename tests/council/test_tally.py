"""Vote tallies: winners, rank correlation, and per-round nets from a stored session."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from bot.council.models import (
    Member,
    MemberRole,
    Reply,
    ReplyKind,
    ReplyStatus,
    Session,
    SessionRecord,
)
from bot.council.tally import kendall_tau, net_totals, round_nets, winners

AT = datetime(2025, 1, 1, tzinfo=UTC)

# --------------------------------------------------------------------------- winners


def test_the_member_with_the_top_net_score_wins() -> None:
    assert winners({"Claude": 3, "Gemini": 5, "Llama": -1}) == ["Gemini"]


def test_everyone_sharing_the_top_score_wins_in_seating_order() -> None:
    assert winners({"Llama": 4, "Claude": 1, "Gemini": 4}) == ["Llama", "Gemini"]


@pytest.mark.parametrize(
    "net",
    [{}, {"Claude": 0, "Gemini": 0}, {"Claude": -1, "Gemini": -3}, {"Claude": 0, "Gemini": -2}],
)
def test_no_one_wins_when_no_net_score_is_positive(net: dict[str, int]) -> None:
    assert winners(net) == []


# --------------------------------------------------------------------------- kendall_tau


def _scores(*names: str) -> dict[str, float]:
    """A strict ranking, best first, as scores (higher is better)."""
    return {name: float(-place) for place, name in enumerate(names)}


def test_identical_rankings_correlate_fully() -> None:
    assert kendall_tau(_scores("a", "b", "c", "d"), _scores("a", "b", "c", "d")) == 1.0


def test_reversed_rankings_correlate_negatively() -> None:
    assert kendall_tau(_scores("a", "b", "c", "d"), _scores("d", "c", "b", "a")) == -1.0


def test_one_adjacent_swap_in_four_leaves_five_of_six_pairs_concordant() -> None:
    assert kendall_tau(_scores("a", "b", "c", "d"), _scores("a", "c", "b", "d")) == pytest.approx(
        4 / 6
    )


def test_only_items_in_both_rankings_are_compared() -> None:
    assert kendall_tau(_scores("a", "x", "b", "c"), _scores("c", "b", "y", "a")) == -1.0


def test_ties_in_one_ranking_follow_tau_b() -> None:
    # x = 1..5 against y = (1, 1, 2, 2, 3): 10 pairs, 2 of them level in y, the other 8
    # concordant. Tau-b = 8 / sqrt(10 * 8) = 0.8944 (scipy.stats.kendalltau gives the same).
    x = {"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0, "e": 5.0}
    y = {"a": 1.0, "b": 1.0, "c": 2.0, "d": 2.0, "e": 3.0}
    assert kendall_tau(x, y) == pytest.approx(8 / math.sqrt(80))
    assert kendall_tau(x, y) == pytest.approx(0.894427191)


def test_ties_in_both_rankings_follow_tau_b() -> None:
    # x = (1, 2, 2, 3), y = (1, 3, 2, 2). Pairs: ab, ac, ad concordant; bd discordant; bc level
    # in x; cd level in y. Tau-b = (3 - 1) / sqrt((6 - 1) * (6 - 1)) = 0.4.
    x = {"a": 1.0, "b": 2.0, "c": 2.0, "d": 3.0}
    y = {"a": 1.0, "b": 3.0, "c": 2.0, "d": 2.0}
    assert kendall_tau(x, y) == pytest.approx(0.4)


def test_the_same_ties_on_both_sides_correlate_fully() -> None:
    tied = {"a": 2.0, "b": 2.0, "c": 0.0}
    assert kendall_tau(tied, dict(tied)) == pytest.approx(1.0)


def test_a_tie_counts_as_a_tie_whichever_way_it_is_listed() -> None:
    # The audience put a and b level: neither order of listing them may break the tie.
    # Pairs ac and bc concordant, ab level in the audience: 2 / sqrt(3 * 2).
    peers = _scores("a", "b", "c")
    expected = 2 / math.sqrt(6)
    assert kendall_tau(peers, {"a": 2.0, "b": 2.0, "c": 0.0}) == pytest.approx(expected)
    assert kendall_tau(peers, {"b": 2.0, "a": 2.0, "c": 0.0}) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ({}, {}),
        (_scores("a"), _scores("a")),
        (_scores("a", "b"), _scores("b", "c")),
        (_scores("a", "b", "c"), {"a": 0.0, "b": 0.0, "c": 0.0}),
        ({"a": 1.0, "b": 1.0}, _scores("a", "b")),
    ],
)
def test_no_correlation_without_an_ordered_pair_on_each_side(
    a: dict[str, float], b: dict[str, float]
) -> None:
    assert kendall_tau(a, b) is None


# --------------------------------------------------------------------------- from a session


def _reply(
    reply_id: int,
    persona: str,
    round_number: int,
    *,
    kind: ReplyKind = ReplyKind.ANSWER,
    status: ReplyStatus = ReplyStatus.OK,
) -> Reply:
    return Reply(
        id=reply_id,
        session_id=1,
        round_number=round_number,
        persona=persona,
        kind=kind,
        status=status,
        created_at=AT,
    )


def _record(replies: list[Reply], votes: dict[int, tuple[int, int]]) -> SessionRecord:
    members = tuple(
        Member(
            session_id=1,
            position=position,
            persona=persona,
            model_key=persona.lower(),
            model=persona.lower(),
            provider="fake",
            role=MemberRole.CHAIR if persona == "Chair" else MemberRole.MEMBER,
        )
        for position, persona in enumerate(["Gemini", "Claude", "Llama", "Chair"])
    )
    session = Session(id=1, topic="Tea or coffee?", started_at=AT)
    return SessionRecord(
        session=session, members=members, rounds=(), replies=tuple(replies), votes=votes
    )


def test_round_nets_count_answers_per_round_and_skip_rounds_nobody_voted_in() -> None:
    replies = [
        _reply(1, "Gemini", 1),
        _reply(2, "Claude", 1),
        _reply(3, "Gemini", 2),
        _reply(4, "Claude", 2),
        _reply(5, "Gemini", 3),
        _reply(6, "Claude", 3),
    ]
    votes = {1: (3, 1), 2: (0, 2), 5: (1, 0)}
    assert round_nets(_record(replies, votes)) == [
        {"Gemini": 2, "Claude": -2},
        {"Gemini": 1, "Claude": 0},
    ]


def test_round_nets_leave_out_failures_chair_turns_reviews_and_syntheses() -> None:
    replies = [
        _reply(1, "Gemini", 1),
        _reply(2, "Claude", 1, status=ReplyStatus.FAILED),
        _reply(3, "Chair", 1, kind=ReplyKind.CHAIR),
        _reply(4, "Llama", 1, kind=ReplyKind.REVIEW),
        _reply(5, "Llama", 1, kind=ReplyKind.SYNTHESIS),
    ]
    votes = dict.fromkeys(range(1, 6), (1, 0))
    assert round_nets(_record(replies, votes)) == [{"Gemini": 1}]


def test_net_totals_sum_the_session_per_member_in_seating_order() -> None:
    replies = [_reply(1, "Claude", 1), _reply(2, "Claude", 2), _reply(3, "Gemini", 1)]
    votes = {1: (4, 1), 2: (2, 0), 3: (1, 3)}
    totals = net_totals(_record(replies, votes))
    assert list(totals.items()) == [("Gemini", -2), ("Claude", 5), ("Llama", 0)]
    assert winners(totals) == ["Claude"]
