"""The leaderboard and history boards: ranked lines, tie marks and Discord's embed limits."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from bot.council.models import SessionStatus
from bot.council.standings import PastSession, Standing, Standings
from bot.render.standings import (
    DESCRIPTION_MAX,
    LEADERBOARD_ROWS,
    render_history,
    render_leaderboard,
)

T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def _standing(name: str, rating: float, low: float, high: float, **fields: object) -> Standing:
    values: dict = {
        "rank": 1,
        "name": name,
        "rating": rating,
        "low": low,
        "high": high,
        "sessions": 3,
        "rounds": 6,
        "votes": 12,
        "is_tied_with_above": False,
    }
    values.update(fields)
    return Standing(**values)


def _standings(rows: tuple[Standing, ...], period="all", guild_id: int | None = 1) -> Standings:
    return Standings(
        guild_id=guild_id,
        period=period,
        since=None,
        sessions=4,
        rounds=9,
        votes=31,
        by_model=rows,
        by_persona=(),
    )


def test_each_entry_shows_rank_name_rating_interval_councils_and_votes() -> None:
    rows = (
        _standing("claude-opus", 1123.4, 1080.2, 1170.9),
        _standing("gemini-pro", 876.6, 830.0, 910.0, rank=2, sessions=1, votes=1),
    )

    board = render_leaderboard(_standings(rows, period="7d"), "model")

    assert board.title == "Leaderboard: models, this server, the last 7 days"
    lines = board.description.splitlines()
    assert lines[0].startswith("Models rated from the audience's votes in 9 rounds of 4 councils")
    assert lines[2:] == [
        "**1.** **claude-opus** — **1123** (1080 to 1171) · 3 councils · 12 votes",
        "**2.** **gemini-pro** — **877** (830 to 910) · 1 council · 1 vote",
    ]
    assert "Bradley-Terry" in board.footer


def test_an_entry_whose_interval_overlaps_the_one_above_is_marked_tied() -> None:
    rows = (
        _standing("A", 1050, 1000, 1100),
        _standing("B", 1020, 990, 1060, is_tied_with_above=True),
        _standing("C", 930, 900, 980, rank=3),
    )

    lines = render_leaderboard(_standings(rows, guild_id=None), "model").description

    assert "**1.** ≈ **B**" in lines
    assert "**3.** **C**" in lines
    assert lines.endswith("≈ statistically tied with the entry above: the intervals overlap.")


def test_without_ties_there_is_no_tie_legend() -> None:
    rows = (_standing("A", 1100, 1090, 1110), _standing("B", 900, 890, 910, rank=2))
    assert "≈" not in render_leaderboard(_standings(rows), "model").description


def test_an_unknown_interval_says_so() -> None:
    rows = (_standing("A", 1000, -math.inf, math.inf),)
    assert "(interval unknown)" in render_leaderboard(_standings(rows), "model").description


def test_names_are_shown_as_written_not_as_markdown() -> None:
    rows = (_standing("gpt_4*o <@1>", 1000, 990, 1010),)
    text = render_leaderboard(_standings(rows), "model").description
    assert r"**gpt\_4\*o \<@1>**" in text


def test_a_long_table_lists_the_top_rows_and_stays_within_the_embed_limit() -> None:
    rows = tuple(
        _standing("model-" + "x" * 200 + str(i), 1000 - i, 990 - i, 1010 - i, rank=i + 1)
        for i in range(40)
    )

    text = render_leaderboard(_standings(rows), "model").description

    assert len(text) <= DESCRIPTION_MAX
    assert text.count("**model-") == LEADERBOARD_ROWS
    assert text.endswith(f"…and {40 - LEADERBOARD_ROWS} more.")


def test_an_empty_table_explains_how_ratings_are_earned() -> None:
    board = render_leaderboard(_standings(()), "persona")
    assert board.title == "Leaderboard: personas, this server, all time"
    assert board.description.startswith("No ratings yet")


def test_history_shows_number_topic_status_date_and_outcome_per_council() -> None:
    past = [
        PastSession(3, "Tea *or* coffee?", SessionStatus.RUNNING, T0, None, 1, 0, ()),
        PastSession(2, "Trains?", SessionStatus.FINISHED, T0, T0, 2, 4, ("Claude", "Gemini")),
        PastSession(1, "Cars?", SessionStatus.STOPPED, T0, T0, 1, 2, ()),
    ]

    board = render_history(past)

    stamp = f"<t:{int(T0.timestamp())}:d>"
    assert board.description.splitlines() == [
        rf"`#3` **Tea \*or\* coffee?** · running · {stamp} · no votes",
        f"`#2` **Trains?** · finished · {stamp} · 🏆 Claude & Gemini",
        f"`#1` **Cars?** · stopped · {stamp} · no member ahead",
    ]
    assert "/council export" in board.footer


def test_history_clips_long_topics_to_one_line() -> None:
    topic = "Why?\n" + "very " * 100
    [line] = render_history(
        [PastSession(1, topic, SessionStatus.FINISHED, T0, T0, 1, 0, ())]
    ).description.splitlines()
    assert "**Why? very very" in line
    assert "…**" in line
    assert len(line) < 200


def test_an_empty_history_says_how_to_start() -> None:
    assert "/council start" in render_history([]).description
