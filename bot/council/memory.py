"""A permanent council's memory: a compact digest of what its earlier sessions concluded."""

from __future__ import annotations

import json
from collections.abc import Sequence

from bot import graphemes
from bot.council.budget import estimate_tokens
from bot.council.models import Session

DEFAULT_MEMORY_TOKENS = 400
ITEMS_PER_SECTION = 2
TOPIC_MAX = 200
"""How much of an earlier council's topic its memory line quotes."""


def digest(sessions: Sequence[Session], *, max_tokens: int = DEFAULT_MEMORY_TOKENS) -> str:
    """What the council concluded before, newest first, cut to fit `max_tokens`.

    Each past session gives its topic, verdict, and a few points of consensus, disagreement
    and caution; older sessions are dropped first when the digest would grow too long.
    """
    entries: list[str] = []
    used = 0
    for session in sessions:
        entry = _entry(session)
        if not entry:
            continue
        cost = estimate_tokens(entry)
        if used + cost > max_tokens:
            break
        entries.append(entry)
        used += cost
    return "\n".join(entries)


def _entry(session: Session) -> str:
    record = json.loads(session.synthesis_json) if session.synthesis_json else {}
    synthesis = record.get("synthesis") or {}
    if not synthesis:
        return ""
    when = session.started_at.date().isoformat()
    parts = [
        f"- Council #{session.id} ({when}) on “{graphemes.ellipsize(session.topic, TOPIC_MAX)}”:"
    ]
    if synthesis.get("verdict"):
        parts.append(f"verdict: {synthesis['verdict']}")
    for title, key in (
        ("agreed", "consensus"),
        ("disagreed on", "disagreements"),
        ("cautioned", "cautions"),
    ):
        items = [str(item) for item in (synthesis.get(key) or [])[:ITEMS_PER_SECTION]]
        if items:
            parts.append(f"{title}: " + "; ".join(items))
    return " ".join(parts)
