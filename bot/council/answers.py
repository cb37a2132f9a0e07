"""Reading a model's answer to a question with a known answer, and comparing it.

An answer is kept in canonical form: a number as `Decimal`'s plain string without trailing
zeros ("42", "-3", "2.5"), a choice as its capital letter ("B"). `None` means no answer could
be read; it is never right.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from string import ascii_uppercase

# A number: an optional sign not glued to a word or a closing bracket (so "5-3" reads as 5 and
# 3, never -3), digits with optional thousands commas, an optional fraction. U+2212 is the
# typographic minus some models write.
_NUMBER = re.compile(r"(?:(?<![\w)\]])[-\u2212])?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?![\d,]*\d)")
# A choice stated as such: "Answer: B", "the answer is (C)", "option D", "choice: A".
_STATED_CHOICE = re.compile(
    r"(?i:answer|choice|option)\W{0,3}(?i:is\W{0,3})?\(?\*{0,2}([A-Z])\*{0,2}\)?(?![\w])"
)
# A choice marked off: "(B)", "**B**", "[B]", or a line that is only "B", "B." or "B)".
_MARKED_CHOICE = re.compile(
    r"\(([A-Z])\)|\*\*([A-Z])\*\*|\[([A-Z])\]|^\s*([A-Z])[.)]?\s*$", re.MULTILINE
)


def choice_letters(count: int) -> str:
    """The letters naming `count` choices: "ABCD" for four."""
    return ascii_uppercase[:count]


def canonical_number(text: str) -> str | None:
    """`text` as a canonical number ("1,200" -> "1200", "-3.50" -> "-3.5"), or None."""
    cleaned = text.replace(",", "").replace("\u2212", "-").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def last_number(text: str) -> str | None:
    """The last number written in `text`, canonical, or None when there is none."""
    found = _NUMBER.findall(text)
    return canonical_number(found[-1]) if found else None


def extract_answer(text: str, choices: Sequence[str] = ()) -> str | None:
    """The answer `text` gives: for a multiple-choice question its stated choice letter, else
    its last number; None when neither can be read.

    A multiple-choice reply naming no letter may still state the choice by its number or its
    exact text; the last one it mentions counts.
    """
    if choices:
        letters = choice_letters(len(choices))
        for pattern in (_STATED_CHOICE, _MARKED_CHOICE):
            marked = [
                next(group for group in match.groups() if group) for match in pattern.finditer(text)
            ]
            valid = [letter for letter in marked if letter in letters]
            if valid:
                return valid[-1]
        return _choice_by_content(text, choices)
    return last_number(text)


def _choice_by_content(text: str, choices: Sequence[str]) -> str | None:
    """The letter of the choice `text` mentions last, by its number or its words."""
    letters = choice_letters(len(choices))
    if (number := last_number(text)) is not None:
        for letter, choice in zip(letters, choices, strict=True):
            if canonical_number(choice) == number:
                return letter
    folded = text.casefold()
    best: tuple[int, str] | None = None
    for letter, choice in zip(letters, choices, strict=True):
        at = folded.rfind(choice.casefold().strip())
        if choice.strip() and at >= 0 and (best is None or at > best[0]):
            best = (at, letter)
    return None if best is None else best[1]


def is_right(answer: str | None, expected: str) -> bool:
    """Whether a canonical `answer` is the canonical `expected` one."""
    return answer is not None and answer == expected
