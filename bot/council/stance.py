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
    "| changed: <no, or yes because …>]"
)


def footer_instruction(language: str) -> str:
    """The footer request, its labels and yes/no fixed in English, its words in `language`."""
    return (
        f"{FOOTER_INSTRUCTION}\nKeep the brackets, the labels stance, claim, confidence and "
        f"changed, and the words yes, no and because exactly as shown, in English; write the "
        f"stance words, the claim and the reason in {language}."
    )


# Where a footer starts, even half-streamed: "[stance" at the start of a line.
_START_RE = re.compile(r"(?:^|\n)[ \t]*\[\s*stance\b", re.IGNORECASE)
_FIELD_RE = re.compile(r"(stance|claim|confidence|changed)\s*:\s*([^|\]]*)", re.IGNORECASE)
# Full-width brackets, colon and bar, which models writing Chinese or Japanese often use even
# when asked for ASCII; one for one, so positions in the text stay the same.
_FULL_WIDTH = str.maketrans("\uff3b\uff3d\uff1a\uff5c", "[]:|")
LABEL_MAX = 40
CLAIM_MAX = 200
REASON_MAX = 200


@dataclass(frozen=True, slots=True)
class StanceFooter:
    """What a member said about its own position."""

    label: str
    claim: str
    confidence: float | None
    says_changed: bool
    reason: str | None


def strip_footer(text: str) -> str:
    """The reply without its stance footer (also while the footer is still streaming in)."""
    match = _START_RE.search(text.translate(_FULL_WIDTH))
    return text if match is None else text[: match.start()].rstrip()


def parse_footer(text: str) -> StanceFooter | None:
    """The stance footer at the end of a reply, or None when there is none.

    The labels and yes/no are read in English whatever language the council speaks.
    """
    text = text.translate(_FULL_WIDTH)
    match = _START_RE.search(text)
    if match is None:
        return None
    fields = {k.lower(): v.strip() for k, v in _FIELD_RE.findall(text[match.start() :])}
    label = graphemes.clip(fields.get("stance", "").strip(" .").lower(), LABEL_MAX)
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
    )


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
