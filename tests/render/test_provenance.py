"""The "About this reply" card: the moderation line and what a blind council keeps back."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.council.blind import is_revealed
from bot.council.models import Member, Reply, ReplyKind, ReplyStatus, Session, SessionStatus
from bot.render.provenance import ModerationFacts, ReplyFacts, render_provenance

T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def _facts(*, is_blind: bool = False, moderation: ModerationFacts | None = None, **reply_fields):
    session = Session(id=7, topic="Tea?", is_blind=is_blind, started_at=T0)
    member = Member(
        session_id=7,
        position=0,
        persona="Claude",
        model_key="claude",
        model="claude-sonnet",
        provider="anthropic",
        alias="Councillor C" if is_blind else None,
    )
    values: dict = {
        "id": 3,
        "session_id": 7,
        "round_number": 2,
        "persona": "Claude",
        "created_at": T0,
        "message_ids": (11, 12),
        "input_tokens": 900,
        "output_tokens": 80,
        "latency_s": 4.25,
    }
    values.update(reply_fields)
    return ReplyFacts(
        session=session,
        member=member,
        reply=Reply(**values),
        message_id=12,
        up=2,
        down=1,
        is_revealed=is_revealed(session),
        moderation=moderation,
    )


@pytest.mark.parametrize(
    ("moderation", "verdict", "edits"),
    [
        (None, "not checked beyond mentions", "Not edited since it was posted."),
        (
            ModerationFacts("passed", source="rules"),
            "passed, by rules",
            "Not edited since it was posted.",
        ),
        (
            ModerationFacts("flagged", category="violence", source="llama-guard", state="withheld"),
            "flagged (violence), by llama-guard",
            "Withheld by moderation: its text was never shown.",
        ),
        (
            ModerationFacts("flagged", category="hate", state="released"),
            "flagged (hate)",
            "Edited after it was posted: withheld by moderation, then released by a host.",
        ),
    ],
)
def test_the_moderation_verdict_and_state_end_the_card(moderation, verdict, edits):
    lines = render_provenance(_facts(moderation=moderation), "en").splitlines()

    assert lines[-3:] == [f"Moderation: {verdict}", "Votes: 👍 2 · 👎 1", edits]


def test_a_card_names_the_part_of_a_long_reply_and_a_timing_without_a_first_token():
    lines = render_provenance(_facts(), "en").splitlines()

    assert "Part 2 of 2 of the reply." in lines
    assert "Took 4.2 s" in lines


def test_a_failed_chair_reply_says_so_and_has_no_votes():
    card = render_provenance(
        _facts(kind=ReplyKind.CHAIR, status=ReplyStatus.FAILED, error_kind="timeout"), "en"
    )

    assert "Spoke as the council's chair." in card
    assert "The model did not finish: timeout" in card
    assert "Votes" not in card


def test_a_blind_council_keeps_back_everything_that_points_at_the_model_until_it_is_revealed():
    withheld = ModerationFacts("flagged", category="violence", state="withheld")
    hidden = render_provenance(
        _facts(
            is_blind=True,
            moderation=withheld,
            kind=ReplyKind.CHAIR,
            status=ReplyStatus.FAILED,
            error_kind="rate_limited",
            first_token_s=0.5,
            tokens_estimated=True,
            cost_usd=0.25,
        ),
        "en",
    )

    assert hidden.splitlines()[1].startswith("By **Councillor C** in a blind council")
    assert "Moderation: flagged (violence)" in hidden
    leaks = ("Claude", "claude", "anthropic", "900", "Tokens", "Cost", "Took", "chair", "rate")
    assert [word for word in leaks if word in hidden] == []


def test_a_blind_council_is_revealed_once_it_has_ended_and_posted_its_summary():
    running = Session(id=1, topic="x", is_blind=True, started_at=T0)
    ended = running.model_copy(update={"status": SessionStatus.FINISHED})
    summarised = ended.model_copy(update={"summary_message_id": 99})

    assert [is_revealed(s) for s in (running, ended, summarised)] == [False, False, True]
    assert is_revealed(running.model_copy(update={"is_blind": False}))
