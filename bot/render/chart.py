"""Vote and rating charts as PNG bytes, drawn with Pillow's shapes and the shipped fonts.

Text in any script the fonts cover is drawn (see ``bot.render.text``). The fonts have no
emoji, so bars are labelled "up" and "down" (in the chart's locale) rather than 👍/👎. The
same input always gives the same bytes. Charts use Discord's dark surface colours so they sit
naturally in a channel.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PIL import Image, ImageColor, ImageDraw

from bot.council.ratings import RatingRow
from bot.graphemes import clusters, rstrip
from bot.i18n import localize, t
from bot.render.text import FontSet, default_fonts

WIDTH_PX = 800
ROW_HEIGHT_PX = 60
HEADER_HEIGHT_PX = 72
FOOTER_HEIGHT_PX = 48

_RGB = tuple[int, int, int]

_BACKGROUND: _RGB = (0x31, 0x33, 0x38)
_TEXT: _RGB = (0xF2, 0xF3, 0xF5)
_MUTED: _RGB = (0xB5, 0xBA, 0xC1)
_GRID: _RGB = (0x4E, 0x50, 0x58)
_DOWN: _RGB = (0x80, 0x84, 0x8E)
_DEFAULT_COLOR: _RGB = (0x58, 0x65, 0xF2)  # Discord blurple, for a missing or unreadable colour

_MARGIN_PX = 24
_NAME_WIDTH_PX = 190
_PLOT_LEFT_PX = 240
_SWATCH_PX = 12
_TITLE_SIZE = 24
_NAME_SIZE = 18
_SMALL_SIZE = 14


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One member's votes: ``color`` is a CSS colour such as "#D97757"."""

    name: str
    color: str
    up: int
    down: int


def votes_chart(
    bars: Sequence[ChartBar],
    *,
    title: str,
    locale: str | None = None,
    fonts: FontSet | None = None,
) -> bytes:
    """A PNG with a pair of bars per member: up votes in its colour, down votes in grey.

    Bars share one scale; each is labelled with its count, and the labels and legend are in
    ``locale``. The image is 800 px wide and 120 + 60 px per member tall. ``fonts`` defaults to
    the shipped fonts and any CJK font installed.
    """
    fonts = fonts or default_fonts()
    image, draw = _canvas(len(bars), title, fonts)
    longest = max([1, *(b.up for b in bars), *(b.down for b in bars)])
    bar_room = WIDTH_PX - _PLOT_LEFT_PX - 110  # leaves room for the "down 999" label
    for position, bar in enumerate(bars):
        top = HEADER_HEIGHT_PX + position * ROW_HEIGHT_PX
        color = _parse_color(bar.color)
        _draw_name(draw, fonts, bar.name, color, top)
        for offset, count, fill, label in (
            (10, bar.up, color, t("council.chart.up", votes=bar.up)),
            (32, bar.down, _DOWN, t("council.chart.down", votes=bar.down)),
        ):
            length = round(bar_room * max(count, 0) / longest)
            y = top + offset
            if length:
                draw.rectangle((_PLOT_LEFT_PX, y, _PLOT_LEFT_PX + length - 1, y + 17), fill=fill)
            fonts.draw(
                draw,
                (_PLOT_LEFT_PX + length + 8, y + 9),
                localize(label, locale),
                size=_SMALL_SIZE,
                fill=_MUTED,
                anchor="lm",
            )
    legend = localize(t("council.chart.votes-legend"), locale)
    _draw_footer(draw, fonts, legend, len(bars))
    return _png(image)


def ratings_chart(
    rows: Sequence[RatingRow],
    *,
    title: str,
    colors: Mapping[str, str] | None = None,
    locale: str | None = None,
    fonts: FontSet | None = None,
) -> bytes:
    """A PNG with each entry's rating as a dot on its interval, one row per entry.

    ``colors`` maps names to CSS colours (blurple otherwise); the legend is in ``locale``. Rows
    are drawn in the order given, labelled with their rank; an infinite interval bound runs to
    the plot's edge. The image is 800 px wide and 120 + 60 px per row tall. ``fonts`` defaults
    to the shipped fonts and any CJK font installed.
    """
    fonts = fonts or default_fonts()
    image, draw = _canvas(len(rows), title, fonts)
    plot_right = WIDTH_PX - 120
    low, high = _axis_range(rows)
    span = high - low

    def x_of(value: float) -> float:
        clipped = min(max(value, low), high)
        return _PLOT_LEFT_PX + (plot_right - _PLOT_LEFT_PX) * (clipped - low) / span

    grid_bottom = HEADER_HEIGHT_PX + ROW_HEIGHT_PX * len(rows)
    for tick in _ticks(low, high):
        x = x_of(tick)
        draw.line((x, HEADER_HEIGHT_PX - 8, x, grid_bottom), fill=_GRID, width=1)
        fonts.draw(
            draw, (x, grid_bottom + 4), f"{tick:g}", size=_SMALL_SIZE, fill=_MUTED, anchor="mt"
        )
    for position, row in enumerate(rows):
        top = HEADER_HEIGHT_PX + position * ROW_HEIGHT_PX
        middle = top + ROW_HEIGHT_PX // 2
        color = _parse_color((colors or {}).get(row.name, ""))
        _draw_name(draw, fonts, f"{row.rank}. {row.name}", color, top)
        left, right = x_of(row.low), x_of(row.high)
        draw.line((left, middle, right, middle), fill=color, width=3)
        for end in (left, right):
            draw.line((end, middle - 7, end, middle + 7), fill=color, width=2)
        x = x_of(row.rating)
        draw.ellipse((x - 6, middle - 6, x + 6, middle + 6), fill=color, outline=_TEXT)
        fonts.draw(
            draw,
            (plot_right + 16, middle - 9),
            f"{row.rating:.0f}",
            size=_NAME_SIZE,
            fill=_TEXT,
            anchor="lm",
        )
        fonts.draw(
            draw,
            (plot_right + 16, middle + 11),
            _interval_label(row, locale),
            size=_SMALL_SIZE,
            fill=_MUTED,
            anchor="lm",
        )
    _draw_footer(draw, fonts, localize(t("council.chart.ratings-legend"), locale), len(rows))
    return _png(image)


# --------------------------------------------------------------------------- drawing helpers


def _canvas(rows: int, title: str, fonts: FontSet) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    """A blank chart tall enough for ``rows``, with its title drawn."""
    height = HEADER_HEIGHT_PX + ROW_HEIGHT_PX * rows + FOOTER_HEIGHT_PX
    image = Image.new("RGB", (WIDTH_PX, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    text = _fit_text(fonts, title, _TITLE_SIZE, WIDTH_PX - 2 * _MARGIN_PX)
    fonts.draw(draw, (_MARGIN_PX, 24), text, size=_TITLE_SIZE, fill=_TEXT)
    return image, draw


def _draw_name(draw: ImageDraw.ImageDraw, fonts: FontSet, name: str, color: _RGB, top: int) -> None:
    """A colour swatch and the (shortened if need be) name, centred on the row."""
    middle = top + ROW_HEIGHT_PX // 2
    half = _SWATCH_PX // 2
    draw.rectangle(
        (_MARGIN_PX, middle - half, _MARGIN_PX + _SWATCH_PX - 1, middle + half - 1), fill=color
    )
    text = _fit_text(fonts, name, _NAME_SIZE, _NAME_WIDTH_PX)
    x = _MARGIN_PX + _SWATCH_PX + 8
    fonts.draw(draw, (x, middle), text, size=_NAME_SIZE, fill=_TEXT, anchor="lm")


def _draw_footer(draw: ImageDraw.ImageDraw, fonts: FontSet, legend: str, rows: int) -> None:
    bottom = HEADER_HEIGHT_PX + ROW_HEIGHT_PX * rows + FOOTER_HEIGHT_PX
    xy = (WIDTH_PX - _MARGIN_PX, bottom - 12)
    fonts.draw(draw, xy, legend, size=_SMALL_SIZE, fill=_MUTED, anchor="rs")


def _fit_text(fonts: FontSet, text: str, size: int, width: float) -> str:
    """Text shortened with an ellipsis until it fits ``width`` pixels."""
    text = " ".join(text.split())
    if fonts.length(text, size) <= width:
        return text
    parts = clusters(text)
    # Shortened a whole grapheme cluster at a time: an emoji or accented letter is never split.
    while parts and fonts.length("".join(parts) + "…", size) > width:
        parts.pop()
    return rstrip("".join(parts)) + "…"


def _parse_color(color: str) -> _RGB:
    try:
        red, green, blue, *_ = ImageColor.getrgb(color)
    except ValueError:
        return _DEFAULT_COLOR
    return (red, green, blue)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def _axis_range(rows: Sequence[RatingRow]) -> tuple[float, float]:
    """The plotted rating range: every finite value, padded, at least 20 points wide."""
    values = [v for row in rows for v in (row.low, row.rating, row.high) if math.isfinite(v)]
    if not values:
        return 990.0, 1010.0
    low, high = min(values), max(values)
    pad = max((high - low) * 0.08, 10.0)
    return low - pad, high + pad


def _ticks(low: float, high: float) -> list[float]:
    """Round values between low and high, about five of them, at 1, 2 or 5 times a power of 10."""
    raw = (high - low) / 5
    power = 10.0 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step) * step
    return [first + i * step for i in range(int((high - first) / step) + 1)]


def _interval_label(row: RatingRow, locale: str | None) -> str:
    if not (math.isfinite(row.low) and math.isfinite(row.high)):
        return localize(t("council.chart.interval-unknown"), locale)
    return localize(
        t("council.chart.interval", low=f"{row.low:.0f}", high=f"{row.high:.0f}"), locale
    )
