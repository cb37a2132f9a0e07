"""The whole session as a Markdown document, from its stored records."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bot.council.models import (
    MemberRole,
    Reply,
    ReplyKind,
    ReplyStatus,
    Session,
    SessionRecord,
    Stance,
)

_KIND_LABEL = {
    ReplyKind.CHAIR: " (chair)",
    ReplyKind.REVIEW: " (peer review)",
    ReplyKind.SYNTHESIS: " (synthesis)",
}


def render_markdown(record: SessionRecord) -> str:
    """A readable Markdown transcript: header, rounds with questions and replies, synthesis."""
    s = record.session
    lines = [f"# Council #{s.id}: {s.topic}", ""]
    lines.append(f"- Format: {s.format}, {s.rounds} round(s) planned")
    lines.append(f"- Started: {s.started_at.isoformat(timespec='seconds')}")
    if s.ended_at:
        lines.append(f"- Ended: {s.ended_at.isoformat(timespec='seconds')} ({s.status})")
    if s.stop_reason:
        lines.append(f"- Note: {s.stop_reason}")
    lines.append("- Members:")
    for m in record.members:
        role = " — chair" if m.role is MemberRole.CHAIR else ""
        lines.append(f"  - **{m.persona}** ({m.model} via {m.provider}){role}")
    numbers = sorted({r.number for r in record.rounds} | {r.round_number for r in record.replies})
    for number in numbers:
        lines += ["", f"## Round {number}", ""]
        for q in record.questions:
            if q.answered_in_round == number:
                lines += [f"> **A member of the audience, {q.display_name}, asks:** {q.text}", ""]
        stances = {st.persona: st for st in record.stances if st.round_number == number}
        for reply in record.replies:
            if reply.round_number == number and reply.kind is not ReplyKind.SYNTHESIS:
                lines += _reply_lines(reply, record.votes)
                stance = stances.get(reply.persona) if reply.kind is ReplyKind.ANSWER else None
                if stance is not None and reply.status is ReplyStatus.OK:
                    lines += [_stance_line(stance), ""]
    synthesis = [r for r in record.replies if r.kind is ReplyKind.SYNTHESIS]
    lines += _synthesis_lines(s, synthesis)
    return "\n".join(lines).rstrip() + "\n"


def _reply_lines(reply: Reply, votes: Mapping[int, tuple[int, int]]) -> list[str]:
    label = _KIND_LABEL.get(reply.kind, "")
    if reply.status is ReplyStatus.FAILED:
        return [f"### {reply.persona}{label}", "", f"_Did not answer: {reply.error_message}_", ""]
    up, down = votes.get(reply.id, (0, 0))
    tally = f" — 👍 {up} 👎 {down}" if reply.kind is ReplyKind.ANSWER else ""
    return [f"### {reply.persona}{label}{tally}", "", reply.text, ""]


def _stance_line(stance: Stance) -> str:
    sure = f" ({stance.confidence:.0%} sure)" if stance.confidence is not None else ""
    claim = f" — {stance.claim}" if stance.claim else ""
    if stance.is_changed:
        why = f": {stance.reason}" if stance.reason else ""
        return f"> **Changed position:** {stance.previous_label} → {stance.label}{sure}{why}{claim}"
    return f"> _Stance: {stance.label}{sure}{claim}_"


def _synthesis_lines(session: Session, replies: Sequence[Reply]) -> list[str]:
    if not session.synthesis_json:
        return []
    record = json.loads(session.synthesis_json)
    lines = ["", "## Synthesis", "", f"_Coverage: {record.get('coverage', '')}_", ""]
    synthesis = record.get("synthesis")
    if not synthesis:
        return lines
    author = synthesis.get("author") or next((r.persona for r in replies), "")
    if author:
        lines += [f"Written by {author}.", ""]
    for title, key in (
        ("Consensus", "consensus"),
        ("Disagreements", "disagreements"),
        ("Open questions", "open_questions"),
        ("Cautions", "cautions"),
        ("Peer ranking", "ranking"),
    ):
        items = synthesis.get(key) or []
        if items:
            lines += [f"**{title}**", "", *(f"- {item}" for item in items), ""]
    if synthesis.get("verdict"):
        lines += [f"**Verdict:** {synthesis['verdict']}", ""]
    return lines
