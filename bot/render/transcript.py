"""The whole session as a Markdown document, from its stored records."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from bot.council.figures import percent
from bot.council.formats import format_name
from bot.council.models import (
    MemberRole,
    Moderation,
    Reply,
    ReplyKind,
    ReplyStatus,
    Session,
    SessionRecord,
    SessionStatus,
    Stance,
)
from bot.council.moderation import category_label, content_note
from bot.i18n import Text, localize, t, tn
from bot.render.questions import answering_line, asks_line, question_pairs
from bot.render.summary import PEER_RANKING, SYNTHESIS_SECTIONS

KIND_LABELS: Mapping[ReplyKind, Text] = {
    ReplyKind.CHAIR: t("council.role.chair"),
    ReplyKind.REVIEW: t("council.role.review"),
    ReplyKind.SYNTHESIS: t("council.role.synthesis"),
}
STATUS_NAMES: Mapping[SessionStatus, Text] = {
    SessionStatus.RUNNING: t("council.status.running"),
    SessionStatus.PAUSED: t("council.status.paused"),
    SessionStatus.FINISHED: t("council.status.finished"),
    SessionStatus.STOPPED: t("council.status.stopped"),
    SessionStatus.FAILED: t("council.status.failed"),
}


def status_name(status: SessionStatus) -> Text | str:
    """How a session's status reads ("finished"); one unknown here as stored."""
    return STATUS_NAMES.get(status, str(status))


def render_markdown(record: SessionRecord, locale: str | None = None) -> str:
    """A readable Markdown transcript: header, rounds with questions and replies, synthesis.

    Its own headings and labels are in `locale`, by default the council's.
    """
    s = record.session
    locale = s.locale if locale is None else locale

    def say(text: Text | str) -> str:
        return localize(text, locale)

    lines = [f"# {say(t('council.name', id=s.id))}: {s.topic}", ""]
    planned = tn("council.transcript.format", s.rounds, format=format_name(s.format))
    lines.append(f"- {say(planned)}")
    started = s.started_at.isoformat(timespec="seconds")
    lines.append(f"- {say(t('council.transcript.started', time=started))}")
    if s.ended_at:
        ended = s.ended_at.isoformat(timespec="seconds")
        said = t("council.transcript.ended", time=ended, status=status_name(s.status))
        lines.append(f"- {say(said)}")
    if s.stop_reason:
        lines.append(f"- {say(t('council.transcript.note', note=s.stop_reason))}")
    if s.charter:
        # Continuation lines indented, so a charter of several lines stays one list item.
        charter = s.charter.replace("\n", "\n  ")
        lines.append(f"- {say(t('council.transcript.charter', charter=charter))}")
    lines.append(f"- {say(t('council.transcript.members'))}")
    for m in record.members:
        role = f" — {say(t('council.role.chair'))}" if m.role is MemberRole.CHAIR else ""
        seat = t("council.transcript.member", name=m.persona, model=m.model, provider=m.provider)
        lines.append(f"  - {say(seat)}{role}")
    numbers = sorted({r.number for r in record.rounds} | {r.round_number for r in record.replies})
    for number in numbers:
        lines += ["", f"## {say(t('council.round', number=number))}", ""]
        for q in record.questions:
            if q.answered_in_round == number:
                asks = say(
                    t("council.question-from", name=q.display_name)
                    if q.addressee is None
                    else t("council.question-from-to", name=q.display_name, member=q.addressee)
                )
                lines += [f"> **{asks}** {q.text}", ""]
        stances = {st.persona: st for st in record.stances if st.round_number == number}
        for reply in record.replies:
            if reply.round_number == number and reply.kind is not ReplyKind.SYNTHESIS:
                lines += _exchange_lines(record, reply, locale)
                stance = stances.get(reply.persona) if reply.kind is ReplyKind.ANSWER else None
                if stance is not None and reply.status is ReplyStatus.OK:
                    lines += [_stance_line(stance, locale), ""]
    pairs = question_pairs(record, locale)
    if pairs:
        lines += ["", f"## {say(t('council.summary.questions'))}", "", *(f"- {p}" for p in pairs)]
    synthesis = [r for r in record.replies if r.kind is ReplyKind.SYNTHESIS]
    lines += _synthesis_lines(s, synthesis, locale)
    return "\n".join(lines).rstrip() + "\n"


def _exchange_lines(record: SessionRecord, reply: Reply, locale: str | None) -> list[str]:
    """A reply, opened by whose questions it answers, and followed by those it puts."""
    shown = _reply_lines(reply, record.votes, locale)
    answering = [m.asker for m in record.member_questions if m.answer_reply_id == reply.id]
    if answering:
        shown[1:1] = ["", f"_{answering_line(answering, locale)}_"]
    for m in record.member_questions:
        if m.asked_in_reply == reply.id:
            shown += [f"> {asks_line(m, m.asker, m.addressee, locale)}", ""]
    return shown


def _reply_lines(
    reply: Reply, votes: Mapping[int, tuple[int, int]], locale: str | None
) -> list[str]:
    kind = KIND_LABELS.get(reply.kind)
    label = f" ({localize(kind, locale)})" if kind is not None else ""
    if reply.status is ReplyStatus.FAILED:
        why = localize(t("council.transcript.no-answer", reason=reply.error_message), locale)
        return [f"### {reply.persona}{label}", "", f"_{why}_", ""]
    if reply.status is ReplyStatus.WITHHELD:
        # A withheld reply is marked, never quoted: exports leave the bot.
        withheld = localize(moderation_note(reply), locale)
        return [f"### {reply.persona}{label}", "", f"_{withheld}_", ""]
    up, down = votes.get(reply.id, (0, 0))
    tally = f" — 👍 {up} 👎 {down}" if reply.kind is ReplyKind.ANSWER else ""
    noted = reply.moderation in (Moderation.SPOILER, Moderation.RELEASED)
    note = [f"_{localize(moderation_note(reply), locale)}_", ""] if noted else []
    return [f"### {reply.persona}{label}{tally}", "", *note, reply.text, ""]


def moderation_note(reply: Reply) -> Text:
    """What an export says of a reply moderation touched: withheld, released, or its content
    note."""
    category = category_label(reply.moderation_category)
    if reply.status is ReplyStatus.WITHHELD:
        return t("council.transcript.withheld", category=category)
    if reply.moderation is Moderation.RELEASED:
        return t("council.transcript.released", category=category)
    return content_note(reply.moderation_category)


def sureness(stance: Stance, locale: str | None) -> str:
    """How sure a member said it was, as " (80% sure)"; "" when it did not say."""
    if stance.confidence is None:
        return ""
    return " " + localize(
        t("council.stance.sure", percent=percent(stance.confidence, locale)), locale
    )


def _stance_line(stance: Stance, locale: str | None) -> str:
    sure = sureness(stance, locale)
    claim = f" — {stance.claim}" if stance.claim else ""
    if stance.is_changed:
        why = f": {stance.reason}" if stance.reason else ""
        changed = localize(t("council.stance.changed"), locale)
        return f"> **{changed}** {stance.previous_label} → {stance.label}{sure}{why}{claim}"
    return f"> _{localize(t('council.stance.label'), locale)} {stance.label}{sure}{claim}_"


def _synthesis_lines(session: Session, replies: Sequence[Reply], locale: str | None) -> list[str]:
    if not session.synthesis_json:
        return []

    def say(text: Text) -> str:
        return localize(text, locale)

    record = json.loads(session.synthesis_json)
    coverage = say(t("council.summary.coverage", coverage=record.get("coverage", "")))
    lines = ["", f"## {say(t('council.synthesis'))}", "", f"_{coverage}_", ""]
    synthesis = record.get("synthesis")
    if not synthesis:
        return lines
    author = synthesis.get("author") or next((r.persona for r in replies), "")
    if author:
        lines += [say(t("council.transcript.written-by", name=author)), ""]
    for key, title in (*SYNTHESIS_SECTIONS, ("ranking", PEER_RANKING)):
        items = synthesis.get(key) or []
        if items:
            lines += [f"**{say(title)}**", "", *(f"- {item}" for item in items), ""]
    if synthesis.get("verdict"):
        lines += [say(t("council.summary.verdict", verdict=synthesis["verdict"])), ""]
    return lines
