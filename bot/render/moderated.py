"""A reply as Discord shows it after moderation: in the clear, behind spoilers, or withheld.

A spoilered reply is shown part by part as `||…||` under a content note. Discord does not hide
a fenced code block inside spoiler bars, so fences are dropped and their code shown as text,
and a `|` in the reply is escaped so that it can't end the spoiler early.
"""

from __future__ import annotations

import re
from typing import Final

from bot.council.models import Moderation, Reply, ReplyKind, ReplyStatus
from bot.council.moderation import content_note, withheld_note
from bot.i18n import localize, t
from bot.render.messages import PART_MARKER_RESERVE, mark_parts, safe_reply_text, split_message

WITHHELD_ICON: Final = "🛡️"
SPOILER_BARS: Final = "||"
_FENCED = re.compile(r"```[^\n`]*\n?(.*?)(?:```|\Z)", re.DOTALL)


def kind_prefix(kind: ReplyKind, locale: str | None) -> str:
    """The line above a reply of this kind: the chair's questions are marked as such."""
    if kind is not ReplyKind.CHAIR:
        return ""
    return f"🎙️ **{localize(t('council.chair-asks'), locale)}**\n"


def withheld_message(name: str, category: str | None, locale: str | None) -> str:
    """The note that stands in a withheld reply's place."""
    return f"{WITHHELD_ICON} *{localize(withheld_note(name, category), locale)}*"


def reply_parts(
    reply: Reply, name: str, *, prefix: str = "", locale: str | None = None
) -> list[str]:
    """The messages a reply is posted as, `prefix` before the first: its text split at
    Discord's limit and marked "(1/2)", spoilered when moderation said so, or the withheld note.

    Empty for an empty reply.
    """
    if reply.status is ReplyStatus.WITHHELD:
        return [prefix + withheld_message(name, reply.moderation_category, locale)]
    text = safe_reply_text(reply.text)
    if reply.moderation is not Moderation.SPOILER:
        chunks = split_message(text, reserve=len(prefix) + PART_MARKER_RESERVE)
        return _first(mark_parts(chunks), prefix)
    note = f"⚠️ *{localize(content_note(reply.moderation_category), locale)}*\n"
    head = prefix + note
    # Every part gets the bars and may get a marker; the first also the note.
    reserve = len(head) + 2 * len(SPOILER_BARS) + PART_MARKER_RESERVE
    chunks = [
        f"{SPOILER_BARS}{chunk.strip()}{SPOILER_BARS}"
        for chunk in split_message(spoiler_safe(text), reserve=reserve)
    ]
    return _first(mark_parts(chunks), head)


def spoiler_safe(text: str) -> str:
    """Text that stays hidden between spoiler bars: no code fences, no bare `|`."""
    unfenced = _FENCED.sub(lambda m: m.group(1).strip("\n"), text)
    return unfenced.replace("|", "\\|")


def _first(chunks: list[str], head: str) -> list[str]:
    if chunks:
        chunks[0] = head + chunks[0]
    return chunks
