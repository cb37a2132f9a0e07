"""Vote and rating charts: real PNGs of the promised size, in the members' colours."""

from __future__ import annotations

import io
import math

import pytest
from PIL import Image

from bot.council.ratings import RatingRow
from bot.render.chart import ChartBar, ratings_chart, votes_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
CLAUDE = (0xD9, 0x77, 0x57)
GEMINI = (0x1A, 0x73, 0xE8)
BLURPLE = (0x58, 0x65, 0xF2)
GREY = (0x80, 0x84, 0x8E)


def _open(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()
    return image.convert("RGB")


def _count(image: Image.Image, color: tuple[int, int, int]) -> int:
    colors = image.getcolors(maxcolors=image.width * image.height) or []
    return sum(count for count, pixel in colors if pixel == color)


def _row(name: str, rating: float, low: float, high: float, rank: int = 1) -> RatingRow:
    return RatingRow(
        name, rating, low, high, rounds=10, votes=20, rank=rank, is_tied_with_above=False
    )


# --------------------------------------------------------------------------- votes_chart


def test_votes_chart_is_a_png_of_800_by_120_plus_60_per_member() -> None:
    bars = [ChartBar("Claude", "#D97757", 5, 2), ChartBar("Gemini", "#1A73E8", 3, 4)]
    image = _open(votes_chart(bars, title="Votes"))
    assert image.size == (800, 240)


def test_votes_chart_draws_each_member_in_its_colour_and_down_votes_in_grey() -> None:
    bars = [ChartBar("Claude", "#D97757", 5, 0), ChartBar("Gemini", "#1A73E8", 0, 4)]
    image = _open(votes_chart(bars, title="Votes"))
    assert _count(image, CLAUDE) > 0
    assert _count(image, GEMINI) > 0
    assert _count(image, GREY) > 0


def test_more_up_votes_draw_a_longer_bar() -> None:
    bars = [ChartBar("Claude", "#D97757", 8, 0), ChartBar("Gemini", "#1A73E8", 2, 0)]
    image = _open(votes_chart(bars, title="Votes"))
    assert _count(image, CLAUDE) > 3 * _count(image, GEMINI)


def test_votes_chart_with_no_votes_at_all_still_renders() -> None:
    bars = [ChartBar("Claude", "#D97757", 0, 0), ChartBar("Gemini", "#1A73E8", 0, 0)]
    image = _open(votes_chart(bars, title="Nobody voted"))
    assert image.size == (800, 240)
    assert _count(image, GREY) == 0, "no down bar is drawn for zero votes"


def test_votes_chart_fits_eight_members_with_long_names() -> None:
    bars = [
        ChartBar(f"Member {i} with a rather long persona name", "#D97757", i, 8 - i)
        for i in range(8)
    ]
    image = _open(votes_chart(bars, title="A long title " * 10))
    assert image.size == (800, 120 + 60 * 8)


def test_an_unreadable_colour_falls_back_to_blurple() -> None:
    image = _open(votes_chart([ChartBar("Llama", "not a colour", 3, 1)], title="Votes"))
    assert _count(image, BLURPLE) > 0


def test_votes_chart_is_deterministic() -> None:
    bars = [ChartBar("Claude", "#D97757", 5, 2), ChartBar("Gemini", "#1A73E8", 3, 4)]
    assert votes_chart(bars, title="Votes") == votes_chart(bars, title="Votes")


# --------------------------------------------------------------------------- ratings_chart


def test_ratings_chart_is_a_png_of_800_by_120_plus_60_per_entry() -> None:
    rows = [_row("Claude", 1050, 1010, 1090), _row("Gemini", 950, 900, 1000, rank=2)]
    image = _open(ratings_chart(rows, title="Leaderboard"))
    assert image.size == (800, 240)


def test_ratings_chart_draws_entries_in_their_colours_or_blurple() -> None:
    rows = [_row("Claude", 1050, 1010, 1090), _row("Gemini", 950, 900, 1000, rank=2)]
    image = _open(ratings_chart(rows, title="Leaderboard", colors={"Claude": "#D97757"}))
    assert _count(image, CLAUDE) > 0
    assert _count(image, BLURPLE) > 0


def test_a_wider_interval_draws_a_longer_line() -> None:
    narrow = _open(
        ratings_chart(
            [_row("Claude", 1000, 990, 1010), _row("X", 800, 600, 1200)],
            title="t",
            colors={"Claude": "#D97757"},
        )
    )
    wide = _open(
        ratings_chart(
            [_row("Claude", 1000, 700, 1100), _row("X", 800, 600, 1200)],
            title="t",
            colors={"Claude": "#D97757"},
        )
    )
    assert _count(wide, CLAUDE) > _count(narrow, CLAUDE)


@pytest.mark.parametrize("rows", [[], [_row("Solo", 1000, -math.inf, math.inf)]])
def test_ratings_chart_handles_no_entries_and_unknown_intervals(rows: list[RatingRow]) -> None:
    image = _open(ratings_chart(rows, title="Leaderboard"))
    assert image.size == (800, 120 + 60 * len(rows))


def test_ratings_chart_is_deterministic() -> None:
    rows = [_row("Claude", 1050, 1010, 1090), _row("Gemini", 950, 900, 1000, rank=2)]
    assert ratings_chart(rows, title="t") == ratings_chart(rows, title="t")
