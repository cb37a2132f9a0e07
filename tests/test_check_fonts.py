"""`council-bot check` warns about persona names the charts' fonts can't draw."""

from __future__ import annotations

from bot.check import name_font_warnings
from bot.render.text import SHIPPED_FONTS, FontSet


def test_a_name_in_a_script_no_font_covers_gets_one_warning_line_naming_the_script() -> None:
    fonts = FontSet(SHIPPED_FONTS)  # the shipped fonts only: no CJK, whatever this machine has
    names = ["Клод", "双子座", "Ζεύς", "علي", "שלום", "Orca", "ሰላም"]
    lines = name_font_warnings(names, fonts)
    assert len(lines) == 2
    cjk, ethiopic = lines
    assert "'双子座'" in cjk
    assert "CJK" in cjk
    assert "'ሰላም'" in ethiopic
    assert "Ethiopic" in ethiopic
    assert "fonts-noto-cjk" in cjk
    assert "fonts-noto-cjk" not in ethiopic


def test_an_emoji_in_a_name_is_named_as_such() -> None:
    (line,) = name_font_warnings(["Orca 🐋"], FontSet(SHIPPED_FONTS))
    assert "(emoji)" in line


def test_names_the_shipped_fonts_draw_get_no_warning() -> None:
    # Spaces, joiners and other invisible characters never need a glyph.
    assert name_font_warnings(["Клод\u200d Orca", "ДипСик"], FontSet(SHIPPED_FONTS)) == []
