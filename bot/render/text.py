"""Text in any script for the charts: per-character font fallback, right-to-left runs shaped.

Text is split into runs, each drawn in the first font whose character map covers it, so a
glyph missing from the main font comes from another font rather than as a box. The fonts are
the Noto faces shipped in ``bot/render/fonts`` (Latin, Cyrillic, Greek, Arabic, Hebrew) and
a CJK font where one is installed (Debian's ``fonts-noto-cjk``). Runs follow one another left
right: the line is put in visual order first (the Unicode bidirectional algorithm's levels,
for a single line without explicit embeddings), so a Hebrew title with a Latin name in it, or
a number inside Arabic, reads in the right order; raqm then shapes each run, drawing a
right-to-left run (Arabic, Hebrew) from the right.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from fontTools.ttLib import TTCollection, TTFont
from PIL import ImageDraw, ImageFont

FONT_DIR = Path(__file__).parent / "fonts"
SHIPPED_FONTS: tuple[Path, ...] = (
    FONT_DIR / "NotoSans-Regular.ttf",
    FONT_DIR / "NotoSansArabic-Regular.ttf",
    FONT_DIR / "NotoSansHebrew-Regular.ttf",
)
# Where Debian's fonts-noto-cjk (and its older or truetype-packaged variants) put the faces.
SYSTEM_CJK_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf"),
    Path("/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
)

# Categories that never need a glyph of their own: controls, format characters (ZWJ, bidi
# marks), and separators such as spaces, which any font's fallback advance draws fine.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
# Scripts Debian's fonts-noto-cjk covers, as ``script_of`` names them.
CJK_SCRIPTS = frozenset({"CJK", "Hiragana", "Katakana", "Hangul", "Bopomofo"})


@dataclass(frozen=True, slots=True)
class Face:
    """One font file (and face within a collection) with the code points it draws."""

    path: Path
    index: int
    codepoints: frozenset[int] = field(repr=False)

    def covers(self, char: str) -> bool:
        return ord(char) in self.codepoints


@dataclass(frozen=True, slots=True)
class Run:
    """A stretch of text drawn in one face."""

    text: str
    face: Face
    is_rtl: bool = False


class FontSet:
    """Faces in order of preference; the first that covers a character draws it."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.faces: tuple[Face, ...] = tuple(
            face for path in paths if path.is_file() for face in _faces(path)
        )
        if not self.faces:
            raise ValueError("no font file found among " + ", ".join(map(str, paths)))

    def face_for(self, char: str) -> Face | None:
        """The first face that draws ``char``, or None when none does."""
        return next((face for face in self.faces if face.covers(char)), None)

    def missing(self, text: str) -> list[str]:
        """The characters of ``text`` that no face draws, each once, in order."""
        seen: dict[str, None] = {}
        for char in text:
            if needs_glyph(char) and self.face_for(char) is None:
                seen.setdefault(char, None)
        return list(seen)

    def _runs(self, text: str, *, is_rtl: bool) -> list[Run]:
        runs: list[Run] = []
        current: list[str] = []
        face: Face | None = None
        for char in text:
            if face is not None and (face.covers(char) or not needs_glyph(char)):
                current.append(char)
                continue
            wanted = self.face_for(char)
            if wanted is None or wanted == face:
                if face is None:
                    face = self.faces[0]
                current.append(char)
                continue
            if face is not None and current:
                runs.append(Run("".join(current), face, is_rtl))
            face, current = wanted, [char]
        if face is not None and current:
            runs.append(Run("".join(current), face, is_rtl))
        return runs

    def font(self, face: Face, size: int) -> ImageFont.FreeTypeFont:
        """``face`` at ``size`` pixels, laid out by raqm (loaded once per process)."""
        return _truetype(face.path, face.index, size)

    def visual_runs(self, text: str) -> list[Run]:
        """``text`` as runs in the order they appear on the line, from left to right.

        Each run keeps its characters in logical order and is right to left when its level is
        odd (raqm reverses and shapes it); only the order of the runs changes.
        """
        out: list[Run] = []
        for part, level in _visual_order(text):
            runs = self._runs(part, is_rtl=level % 2 == 1)
            out += reversed(runs) if level % 2 else runs
        return out

    def runs(self, text: str) -> list[Run]:
        """``text`` split into runs in logical order, each in a face that covers its characters.

        A character any face can draw but that needs no glyph of its own (a space, a joiner)
        stays in the current run when that run's face has it, so words are not split; a
        character no face covers stays in the current run (the main face at the start).
        """
        return self._runs(text, is_rtl=is_right_to_left(text))

    def length(self, text: str, size: int) -> float:
        """The width of ``text`` in pixels at ``size``."""
        return sum(self._length(run, size) for run in self.visual_runs(text))

    def _length(self, run: Run, size: int) -> float:
        return self.font(run.face, size).getlength(run.text, direction=_direction(run))

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        *,
        size: int,
        fill: tuple[int, int, int],
        anchor: str = "la",
    ) -> None:
        """Draw ``text`` at ``xy`` as ``ImageDraw.text`` would with ``anchor``.

        The horizontal anchor is l, m or r; the vertical one (a, t, m, s, b or d) is taken
        from the main face so that every run shares one baseline.
        """
        runs = self.visual_runs(text)
        widths = [self._length(run, size) for run in runs]
        x, y = xy
        x -= {"l": 0.0, "m": sum(widths) / 2, "r": sum(widths)}[anchor[0]]
        baseline = y + _baseline_offset(self.font(self.faces[0], size), anchor[1])
        for run, width in zip(runs, widths, strict=True):
            font = self.font(run.face, size)
            draw.text(
                (x, baseline),
                run.text,
                font=font,
                fill=fill,
                anchor="ls",
                direction=_direction(run),
            )
            x += width


def default_fonts() -> FontSet:
    """The shipped faces, then any CJK face installed on this machine."""
    return _font_set((*SHIPPED_FONTS, *SYSTEM_CJK_FONTS))


def needs_glyph(char: str) -> bool:
    """Whether ``char`` is drawn as a visible glyph (not a space, joiner or control)."""
    category = unicodedata.category(char)
    return category not in _INVISIBLE_CATEGORIES and not char.isspace()


def is_right_to_left(text: str) -> bool:
    """Whether the first strongly directional character of ``text`` is right to left."""
    for char in text:
        direction = unicodedata.bidirectional(char)
        if direction in ("R", "AL"):
            return True
        if direction == "L":
            return False
    return False


def script_of(char: str) -> str:
    """A readable name for the script of ``char``: "Ethiopic", "CJK", "Hangul", "emoji"."""
    if unicodedata.category(char) == "So":
        return "emoji"
    word = unicodedata.name(char, f"U+{ord(char):04X}").split()[0]
    return word if len(word) <= 3 else word.capitalize()


def _visual_order(text: str) -> list[tuple[str, int]]:
    """``text`` cut where its bidi level changes, the pieces in visual order, each with its level.

    The levels follow the Unicode bidirectional algorithm (UAX #9) for one line with no
    explicit embeddings: the paragraph's direction is that of its first strong character
    (P2, P3); a European number after a left-to-right letter is left to right (W7); neutrals
    between two runs of one direction take it, others the paragraph's (N1, N2); then I1, I2
    and the reordering of rule L2.
    """
    base = 1 if is_right_to_left(text) else 0
    kinds = [_kind(char) for char in text]
    strong = "R" if base else "L"
    for i, kind in enumerate(kinds):
        if kind in ("L", "R"):
            strong = kind
        elif kind == "EN" and strong == "L":
            kinds[i] = "L"
        elif kind in ("EN", "AN"):
            kinds[i] = "NUM"
    _resolve_neutrals(kinds, base)
    levels = [_level(kind, base) for kind in kinds]
    pieces: list[tuple[str, int]] = []
    start = 0
    for i in range(1, len(text) + 1):
        if i == len(text) or levels[i] != levels[start]:
            pieces.append((text[start:i], levels[start]))
            start = i
    for level in range(max((lvl for _, lvl in pieces), default=0), 0, -1):
        i = 0
        while i < len(pieces):
            if pieces[i][1] < level:
                i += 1
                continue
            j = i
            while j < len(pieces) and pieces[j][1] >= level:
                j += 1
            pieces[i:j] = reversed(pieces[i:j])
            i = j
    return pieces


def _kind(char: str) -> str:
    """A character's bidi class as the line needs it: L, R, EN, AN or N (neutral)."""
    direction = unicodedata.bidirectional(char)
    if direction == "L":
        return "L"
    if direction in ("R", "AL"):
        return "R"
    if direction in ("EN", "AN"):
        return direction
    return "N"


def _resolve_neutrals(kinds: list[str], base: int) -> None:
    """N1, N2: a stretch of neutrals between two like directions takes it (numbers count as R)."""
    edge = "R" if base else "L"
    i = 0
    while i < len(kinds):
        if kinds[i] != "N":
            i += 1
            continue
        j = i
        while j < len(kinds) and kinds[j] == "N":
            j += 1
        before = _strong_side(kinds[i - 1]) if i > 0 else edge
        after = _strong_side(kinds[j]) if j < len(kinds) else edge
        kinds[i:j] = [before if before == after else edge] * (j - i)
        i = j


def _strong_side(kind: str) -> str:
    return "R" if kind in ("R", "NUM") else "L"


def _level(kind: str, base: int) -> int:
    """I1, I2: the level of a resolved character in a paragraph of level ``base``."""
    if base == 0:
        return {"L": 0, "R": 1, "NUM": 2}[kind]
    return {"R": 1, "L": 2, "NUM": 2}[kind]


def _direction(run: Run) -> str:
    return "rtl" if run.is_rtl else "ltr"


@functools.cache
def _font_set(paths: tuple[Path, ...]) -> FontSet:
    return FontSet(paths)


@functools.cache
def _faces(path: Path) -> tuple[Face, ...]:
    """Every face in ``path`` (one for a .ttf or .otf, several for a .ttc collection)."""
    if path.suffix.lower() in (".ttc", ".otc"):
        # The faces of a collection share one open file: read them all before closing it.
        with TTCollection(str(path), lazy=True) as collection:
            return tuple(_face(path, i, font) for i, font in enumerate(collection.fonts))
    with TTFont(str(path), lazy=True) as font:
        return (_face(path, 0, font),)


def _face(path: Path, index: int, font: TTFont) -> Face:
    # The best Unicode subtable merges every BMP and supplementary-plane mapping.
    return Face(path, index, frozenset(font.getBestCmap() or {}))


@functools.cache
def _truetype(path: Path, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size, index=index, layout_engine=ImageFont.Layout.RAQM)


def _baseline_offset(font: ImageFont.FreeTypeFont, vertical: str) -> float:
    """How far below a point anchored ``vertical`` the baseline of ``font`` lies."""
    ascent, descent = font.getmetrics()
    return {
        "a": ascent,
        "t": ascent,
        "m": (ascent - descent) / 2,
        "s": 0,
        "b": -descent,
        "d": -descent,
    }[vertical]
