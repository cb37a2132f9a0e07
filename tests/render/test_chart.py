"""Vote and rating charts: real PNGs of the promised size, in the members' colours."""

from __future__ import annotations

import io
import math
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageDraw

from bot.check import name_font_warnings
from bot.council.ratings import RatingRow
from bot.render.chart import ChartBar, ratings_chart, votes_chart
from bot.render.text import SHIPPED_FONTS, FontSet, default_fonts

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


# --------------------------------------------------------------------------- every script

# Pairs of different names of the same length in one script: a font without the script draws
# both as the same row of boxes.
SCRIPT_PAIRS = {
    "latin": ("Orca", "Lynx"),
    "cyrillic": ("Клод", "Дима"),
    "greek": ("Ζεύς", "Ήρας"),
    "arabic": ("علي", "سعد"),
    "hebrew": ("שלום", "אבנר"),
}
TITLES = {
    "latin": ("Votes", "Polls"),
    "cyrillic": ("Голоса", "Оценки"),
    "greek": ("Ψήφοι", "Κρίση"),
    "arabic": ("تصويت", "نتائج"),
    "hebrew": ("הצבעה", "תוצאה"),
}
NAME_BOX = (40, 72, 240, 132)  # the first row's name, right of its swatch
TITLE_BOX = (0, 0, 800, 72)


def _region(png: bytes, box: tuple[int, int, int, int]) -> bytes:
    return _open(png).crop(box).tobytes()


def _mixed_bars(first: str) -> list[ChartBar]:
    others = [name for pair in SCRIPT_PAIRS.values() for name in pair]
    return [ChartBar(name, "#D97757", 2, 1) for name in [first, *others]]


@pytest.mark.parametrize("script", sorted(SCRIPT_PAIRS))
def test_names_in_every_script_are_drawn_as_their_own_letters(script: str) -> None:
    one, other = SCRIPT_PAIRS[script]
    assert len(one) == len(other)
    title = " / ".join(t for pair in TITLES.values() for t in pair)
    first = votes_chart(_mixed_bars(one), title=title)
    second = votes_chart(_mixed_bars(other), title=title)
    assert _region(first, NAME_BOX) != _region(second, NAME_BOX)
    ranked = [_row(one, 1000, 990, 1010)], [_row(other, 1000, 990, 1010)]
    first, second = (ratings_chart(rows, title=title) for rows in ranked)
    assert _region(first, NAME_BOX) != _region(second, NAME_BOX)


@pytest.mark.parametrize("script", sorted(TITLES))
def test_titles_in_every_script_are_drawn_as_their_own_letters(script: str) -> None:
    one, other = TITLES[script]
    assert len(one) == len(other)
    bars = _mixed_bars("Orca")
    first, second = (votes_chart(bars, title=title) for title in (one, other))
    assert _region(first, TITLE_BOX) != _region(second, TITLE_BOX)


@pytest.mark.parametrize(
    "text",
    [name for pair in [*SCRIPT_PAIRS.values(), *TITLES.values()] for name in pair]
    + ["Orca علي", "Клод שלום Ζεύς", "1. سعد"],
)
def test_each_run_is_drawn_in_a_font_that_covers_every_character(text: str) -> None:
    runs = default_fonts().runs(text)
    assert "".join(run.text for run in runs) == text
    for run in runs:
        drawn = [c for c in run.text if not c.isspace()]
        assert all(ord(c) in run.face.codepoints for c in drawn), (run.text, run.face.path)


def test_a_character_the_main_font_lacks_comes_from_the_next_font() -> None:
    runs = default_fonts().runs("Orca علي")
    assert [run.face.path.name for run in runs if not run.text.isspace()] == [
        "NotoSans-Regular.ttf",
        "NotoSansArabic-Regular.ttf",
    ]


def test_a_right_to_left_name_is_shaped_not_drawn_letter_by_letter() -> None:
    # Arabic letters join: shaped, the word is narrower than its isolated letters side by side.
    fonts = default_fonts()
    word = "سعد"
    isolated = sum(fonts.length(letter, 18) for letter in word)
    assert fonts.length(word, 18) < isolated


def test_a_font_set_with_only_the_shipped_fonts_has_no_cjk() -> None:
    assert FontSet(SHIPPED_FONTS).missing("Клод 双子座") == ["双", "子", "座"]
    assert FontSet(SHIPPED_FONTS).missing("Клод Ζεύς علي שלום") == []


# --------------------------------------------------------------------------- an installed font

CJK_NAME, CJK_OTHER = "双子座", "座子双"


def _face(codepoints: list[int], family: str) -> TTFont:
    """A tiny TrueType face: each code point a rectangle of its own size and place."""
    builder = FontBuilder(1000, isTTF=True)
    names = [".notdef", *(f"uni{cp:04X}" for cp in codepoints)]
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({cp: f"uni{cp:04X}" for cp in codepoints})
    glyphs = {}
    for step, name in enumerate(names):
        pen = TTGlyphPen(None)
        left, top = 80 + 120 * (step % 5), 300 + 100 * (step % 5)
        pen.moveTo((left, 0))
        pen.lineTo((left, top))
        pen.lineTo((left + 200, top))
        pen.lineTo((left + 200, 0))
        pen.closePath()
        glyphs[name] = pen.glyph()
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics(dict.fromkeys(names, (1000, 0)))
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    return builder.font


@pytest.fixture(scope="module")
def cjk_collection(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A .ttc like Debian's NotoSansCJK-Regular.ttc, the CJK glyphs in its second face."""
    path = tmp_path_factory.mktemp("fonts") / "TestCJK-Regular.ttc"
    collection = TTCollection()
    collection.fonts = [_face([0x41], "Test Latin"), _face(list(map(ord, CJK_NAME)), "Test CJK")]
    collection.save(str(path))
    return path


def test_cjk_names_come_from_an_installed_collection_face(cjk_collection: Path) -> None:
    fonts = FontSet((*SHIPPED_FONTS, cjk_collection))
    assert fonts.missing(f"ДипСик {CJK_NAME}") == []
    cjk_runs = [run for run in fonts.runs(f"ДипСик {CJK_NAME}") if CJK_NAME in run.text]
    assert [(run.face.path, run.face.index) for run in cjk_runs] == [(cjk_collection, 1)]

    def name_pixels(fonts: FontSet, name: str) -> bytes:
        png = votes_chart([ChartBar(name, "#D97757", 1, 0)], title="Votes", fonts=fonts)
        return _region(png, NAME_BOX)

    assert name_pixels(fonts, CJK_NAME) != name_pixels(fonts, CJK_OTHER)
    # The premise: without that font both names are the same row of boxes.
    shipped = FontSet(SHIPPED_FONTS)
    assert name_pixels(shipped, CJK_NAME) == name_pixels(shipped, CJK_OTHER)


def test_a_name_an_installed_font_covers_gets_no_check_warning(cjk_collection: Path) -> None:
    assert name_font_warnings([CJK_NAME], FontSet(SHIPPED_FONTS)) != []
    assert name_font_warnings([CJK_NAME], FontSet((*SHIPPED_FONTS, cjk_collection))) == []


def test_a_name_too_long_for_its_row_is_shortened_between_grapheme_clusters():
    from bot.graphemes import clusters
    from bot.render.chart import _NAME_SIZE, _NAME_WIDTH_PX, _fit_text
    from bot.render.text import default_fonts

    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    for name in (family * 40, "e\u0301" * 200, "Орка" + "\U0001f44d\U0001f3fd" * 60):
        shown = _fit_text(default_fonts(), name, _NAME_SIZE, _NAME_WIDTH_PX)
        assert shown.endswith("…")
        kept = shown.removesuffix("…")
        assert kept
        assert name.startswith(kept)
        assert "".join(clusters(name)[: len(clusters(kept))]) == kept


@pytest.mark.parametrize(
    ("text", "visual"),
    [
        # A Hebrew line with a Latin name: the first word is on the right (each right-to-left
        # run is drawn from the right, so its trailing space lands on its left).
        ("שלום Claude עולם", ["עולם", " ", "Claude", "שלום "]),
        # A Latin line with Hebrew words: their run reads right to left as one piece.
        ("Claude: שלום עולם!", ["Claude: ", "שלום עולם", "!"]),
        # A number inside Arabic keeps its digits left to right, in its place.
        ("سعد 42 علي", ["علي", " ", "42", "سعد "]),
        ("Orca 7", ["Orca 7"]),
    ],
)
def test_a_line_mixing_directions_is_laid_out_in_visual_order(text: str, visual: list[str]) -> None:
    runs = default_fonts().visual_runs(text)
    assert [run.text for run in runs] == visual
    assert sorted("".join(run.text for run in runs)) == sorted(text)


def test_a_right_to_left_line_with_a_latin_name_starts_on_the_right() -> None:
    # Drawn in visual order, the line's last Hebrew word is its leftmost ink.
    fonts = default_fonts()
    line, last_word = "שלום Claude עולם", "עולם"
    width = int(fonts.length(last_word, 24))

    def ink(text: str) -> bytes:
        image = Image.new("RGB", (400, 40))
        fonts.draw(ImageDraw.Draw(image), (4, 30), text, size=24, fill=(255, 255, 255))
        return image.crop((0, 0, 4 + width, 40)).tobytes()

    assert ink(line) == ink(last_word)
