"""Stance tracking: each member ends a reply with a small footer saying where it stands.

The footer is asked for in the round's instruction, parsed after the reply, and stripped from
what the audience sees — cheaper than a separate model call per reply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import graphemes
from bot.i18n import Text, t

FOOTER_INSTRUCTION = (
    "End your reply with one last line in exactly this form, which the audience will not see:\n"
    "[stance: <one or two words> | claim: <your position in one line> | confidence: <0-100>% "
    "| changed: <no, or yes because …> | ask: <none, or a participant's name: your question "
    "to them>]"
)


def footer_instruction(language: str) -> str:
    """The footer request, its labels and yes/no fixed in English, its words in `language`."""
    return (
        f"{FOOTER_INSTRUCTION}\nKeep the brackets, the labels stance, claim, confidence, "
        f"changed and ask, and the words yes, no, none and because exactly as shown, in English; "
        f"write the stance words, the claim and the reason in {language}, and a question too. "
        f"To put a question to another participant, write its name as shown, a colon, then the "
        f"question; repeat `| ask: …` for a second one."
    )


# Where a footer starts, even half-streamed: "[stance" at the start of a line.
_START_RE = re.compile(r"(?:^|\n)[ \t]*\[\s*stance\b", re.IGNORECASE)
_PARTIAL_START_RE = re.compile(
    r"(?:\A|\n)[ \t]*\[\s*(?:s(?:t(?:a(?:n(?:ce?)?)?)?)?)?\Z", re.IGNORECASE
)
_FIELD_RE = re.compile(r"(stance|claim|confidence|changed|ask)\s*:\s*([^|\]]*)", re.IGNORECASE)
# The instruction's own placeholders: a footer that repeats one of them (a small model echoing
# the form instead of filling it in) says nothing, and is ignored whole.
_PLACEHOLDER_RE = re.compile(r"<[^<>]*>")
_PLACEHOLDERS = frozenset(
    {
        "one or two words",
        "your position in one line",
        "0-100",
        "no, or yes because …",
        "no, or yes because ...",
        "none, or a participant's name: your question to them",
        "a participant's name: your question to them",
        "your question to them",
    }
)
_NO_QUESTION = frozenset({"", "none", "no", "-", "n/a", "nobody"})
# Full-width brackets, colon and bar, which models writing Chinese or Japanese often use even
# when asked for ASCII; one for one, so positions in the text stay the same.
_FULL_WIDTH = str.maketrans("\uff3b\uff3d\uff1a\uff5c", "[]:|")
LABEL_MAX = 40
CLAIM_MAX = 200
REASON_MAX = 200
NAME_MAX = 80
QUESTION_MAX = 300


@dataclass(frozen=True, slots=True)
class StanceFooter:
    """What a member said about its own position."""

    label: str
    claim: str
    confidence: float | None
    says_changed: bool
    reason: str | None
    # Questions put to other participants, as (name as written, question); names are matched
    # against the council's by the engine.
    asks: tuple[tuple[str, str], ...] = ()


def strip_footer(text: str) -> str:
    """The reply without its stance footer (also while the footer is still streaming in)."""
    match = _START_RE.search(text.translate(_FULL_WIDTH))
    return text if match is None else text[: match.start()].rstrip()


def strip_streaming_footer(text: str) -> str:
    """What of a reply still streaming may be shown: no footer, nor the first characters of
    one ("[sta") at its end, held back until the rest shows whether a footer begins."""
    text = strip_footer(text)
    match = _PARTIAL_START_RE.search(text.translate(_FULL_WIDTH))
    return text if match is None else text[: match.start()].rstrip()


def parse_footer(text: str) -> StanceFooter | None:
    """The stance footer at the end of a reply, or None when there is none.

    The labels and yes/no are read in English whatever language the council speaks.
    """
    text = text.translate(_FULL_WIDTH)
    match = _START_RE.search(text)
    if match is None:
        return None
    found = [(k.lower(), v.strip()) for k, v in _FIELD_RE.findall(text[match.start() :])]
    if any(_is_placeholder(value) for _, value in found):
        return None
    fields = dict(found)
    stance = graphemes.strip_clusters(fields.get("stance", ""), " .")
    label = graphemes.clip(stance.lower(), LABEL_MAX)
    if not label:
        return None
    changed = fields.get("changed", "")
    says_changed = changed.lower().startswith("yes")
    reason = re.sub(
        r"^yes\W*(?:because(?:\s+of)?|after|due\s+to)?\s*", "", changed, flags=re.IGNORECASE
    ).strip()
    return StanceFooter(
        label=label,
        claim=graphemes.clip(fields.get("claim", ""), CLAIM_MAX),
        confidence=_confidence(fields.get("confidence", "")),
        says_changed=says_changed,
        reason=graphemes.clip(reason, REASON_MAX) if says_changed and reason else None,
        asks=tuple(ask for key, value in found if key == "ask" and (ask := _ask(value))),
    )


def _is_placeholder(value: str) -> bool:
    """Whether a field's value repeats the instruction's form rather than filling it in."""
    if _PLACEHOLDER_RE.search(value):
        return True
    return value.strip(" .%").casefold() in _PLACEHOLDERS


def _ask(value: str) -> tuple[str, str] | None:
    """An `ask:` field's (name, question), or None for "none" or a value with no question."""
    if value.strip(" .").casefold() in _NO_QUESTION:
        return None
    name, colon, question = value.partition(":")
    name, question = name.strip(" @*_\"'"), question.strip()
    if not colon or not name or not question or len(name) > NAME_MAX:
        return None
    return name, graphemes.clip(question, QUESTION_MAX)


def _confidence(text: str) -> float | None:
    match = re.search(r"\d+(?:\.\d+)?", text)
    if match is None:
        return None
    value = float(match.group())
    value = value / 100 if value > 1 else value
    return min(1.0, max(0.0, value))


def describe_change(persona: str, before: str, after: str, reason: str | None) -> Text:
    """One line for the summary, e.g. "DeepSeek moved from cautious to supportive: …"."""
    if reason:
        return t(
            "council.stance.moved-because", name=persona, before=before, after=after, reason=reason
        )
    return t("council.stance.moved", name=persona, before=before, after=after)
