"""The summary document: a review council's peer ranking beside the audience's."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from bot.council.models import Member, Reply, Session, SessionRecord
from bot.render.summary import (
    Field,
    compare_rankings,
    member_stats,
    render_summary,
)

AT = datetime(2025, 1, 1, tzinfo=UTC)
SEATS = ("Claude", "DeepSeek", "Gemini")
# Borda points per ballot 2, 1, 0: the council ranked Claude > DeepSeek > Gemini.
STRICT_RANKING = [("Claude", 4.0, 2), ("DeepSeek", 2.0, 2), ("Gemini", 0.0, 2)]


def _record(
    votes: dict[str, tuple[int, int]],
    ranking: list[tuple[str, float, int]] | list[dict[str, object]] = STRICT_RANKING,
) -> SessionRecord:
    """A finished review council: one answer per member, with (up, down) votes on each."""
    entries = [
        e if isinstance(e, dict) else {"persona": e[0], "points": e[1], "ballots": e[2]}
        for e in ranking
    ]
    session = Session(
        id=7,
        topic="Tabs or spaces?",
        format="review",
        started_at=AT,
        synthesis_json=json.dumps({"coverage": "all", "synthesis": None, "ranking": entries}),
    )
    members = tuple(
        Member(session_id=7, position=i, persona=p, model_key=p.lower(), model=p, provider="x")
        for i, p in enumerate(SEATS)
    )
    replies = tuple(
        Reply(id=i + 1, session_id=7, round_number=1, persona=p, created_at=AT)
        for i, p in enumerate(SEATS)
    )
    counts = {i + 1: votes[p] for i, p in enumerate(SEATS) if p in votes}
    return SessionRecord(session=session, members=members, rounds=(), replies=replies, votes=counts)


def _peer_field(record: SessionRecord) -> Field:
    return next(f for f in render_summary(record).fields if f.name == "Peer review vs audience")


def test_too_few_votes_are_said_in_words_instead_of_a_correlation() -> None:
    # Two votes for three ranked members: Gemini drew none, so the audience's order means little.
    field = _peer_field(_record({"Claude": (1, 0), "DeepSeek": (1, 0)}))

    lines = field.value.splitlines()
    assert lines[:2] == [
        "Models: Claude > DeepSeek > Gemini",
        "Audience: Claude = DeepSeek > Gemini",
    ]
    assert lines[2] == (
        "Agreement: too few votes to compare with the council's ranking (2 of the 3 needed)"
    )
    assert "τ" not in field.value
    assert "n/a" not in field.value


def test_a_council_without_votes_has_too_few_to_compare() -> None:
    field = _peer_field(_record({}))

    assert "too few votes to compare with the council's ranking (0 of the 3 needed)" in field.value


def test_one_vote_per_ranked_member_is_enough_to_compare() -> None:
    enough = _record({"Claude": (2, 0), "DeepSeek": (0, 0), "Gemini": (0, 1)})

    assert _peer_field(enough).value.endswith("Agreement (Kendall τ-b): +1.00")


def test_members_level_in_the_audience_count_as_tied() -> None:
    # DeepSeek and Gemini both net +1: a tie, not whichever of them happens to be seated first.
    # Pairs Claude-DeepSeek and Claude-Gemini concordant, DeepSeek-Gemini level: 2 / sqrt(3 * 2).
    record = _record({"Claude": (3, 0), "DeepSeek": (1, 0), "Gemini": (2, 1)})

    field = _peer_field(record)

    assert "Audience: Claude > DeepSeek = Gemini" in field.value
    assert field.value.endswith(f"Agreement (Kendall τ-b): +{2 / math.sqrt(6):.2f}")
    assert field.value.endswith("+0.82")


def test_members_level_in_the_peer_review_count_as_tied() -> None:
    # Borda points per ballot 1.5, 1.5, 0: Claude and DeepSeek share the council's first place.
    ranking = [("Claude", 3.0, 2), ("DeepSeek", 3.0, 2), ("Gemini", 0.0, 2)]
    record = _record({"Claude": (0, 0), "DeepSeek": (3, 0), "Gemini": (0, 2)}, ranking)

    comparison = compare_rankings(
        json.loads(record.session.synthesis_json or ""), member_stats(record)
    )

    assert comparison is not None
    assert comparison.peers == [["Claude", "DeepSeek"], ["Gemini"]]
    assert comparison.audience == [["DeepSeek"], ["Claude"], ["Gemini"]]
    # Claude-Gemini and DeepSeek-Gemini concordant, Claude-DeepSeek level among the peers.
    assert comparison.tau == pytest.approx(2 / math.sqrt(2 * 3))
    assert "Models: Claude = DeepSeek > Gemini" in _peer_field(record).value


def test_votes_that_leave_everyone_level_have_no_order_to_compare() -> None:
    field = _peer_field(_record({"Claude": (1, 1), "DeepSeek": (2, 2), "Gemini": (0, 0)}))

    assert field.value.endswith(
        "Agreement: the audience's votes leave every member level: no order to compare"
    )


def test_a_ranking_saved_without_points_is_read_in_its_order() -> None:
    ranking: list[dict[str, object]] = [{"persona": p} for p in ("Gemini", "Claude", "DeepSeek")]
    record = _record({"Claude": (1, 0), "DeepSeek": (0, 1), "Gemini": (2, 0)}, ranking)

    assert _peer_field(record).value.startswith("Models: Gemini > Claude > DeepSeek\n")


def test_a_council_without_a_peer_ranking_shows_no_comparison() -> None:
    record = _record({"Claude": (1, 0)}, ranking=[])

    assert all(f.name != "Peer review vs audience" for f in render_summary(record).fields)
