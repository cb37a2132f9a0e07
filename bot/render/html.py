"""A session as one self-contained web page that reads like its thread, summary included.

The page loads nothing: it has no scripts, its styles are inline, the vote chart is an inlined
``data:`` PNG, and avatars are coloured initials (or inlined when they already are a ``data:``
image; nothing is ever fetched). A Content Security Policy tells the browser the same, so that
a mistake here still could not load or run anything.

Everything a model, a member of the audience or a server admin wrote is untrusted: it is
escaped, and replies' Markdown goes through a small renderer that only ever wraps escaped text
in a fixed set of tags. There are no links in the page other than to its own sections; a masked
link reads as "label (url)", as in the thread.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from bot import graphemes
from bot.council.figures import count, decimal, duration, usd
from bot.council.formats import format_name
from bot.council.languages import html_language
from bot.council.models import (
    AudienceQuestion,
    Member,
    MemberRole,
    Moderation,
    Reply,
    ReplyKind,
    ReplyStatus,
    Session,
    SessionRecord,
    Stance,
)
from bot.council.stance import describe_change
from bot.i18n import Text, localize, t, tn
from bot.render.chart import ChartBar, votes_chart
from bot.render.messages import defuse_masked_links, strip_invisible
from bot.render.questions import answering_line, asks_line_words, audience_asks, question_pairs
from bot.render.summary import (
    PEER_RANKING,
    SYNTHESIS_SECTIONS,
    MemberStats,
    audience_winners,
    compare_rankings,
    format_places,
    member_stats,
)
from bot.render.transcript import moderation_note, status_name, sureness

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "base-uri 'none'; form-action 'none'"
)
"""The page's policy: nothing but inline styles and inlined images, from anywhere."""

DEFAULT_COLOR = "#5865F2"
AVATAR_DATA_MAX = 100_000
"""The longest ``data:`` avatar inlined, in characters; longer ones become initials."""
FAILURE_MAX = 200
TITLE_TOPIC_MAX = 120

_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")
_DATA_IMAGE = re.compile(r"data:image/(?:png|jpeg|gif|webp);base64,[A-Za-z0-9+/]+={0,2}")
_WORD = re.compile(r"\w+")

_KIND_BADGE: Mapping[ReplyKind, tuple[str, Text]] = {
    ReplyKind.CHAIR: ("🎙️ ", t("council.chair-asks")),
    ReplyKind.REVIEW: ("", t("council.html.peer-review")),
}


@dataclass(frozen=True, slots=True)
class _Seat:
    """How a persona is drawn: its CSS class, colours, initials and avatar."""

    persona: str
    css_class: str
    color: str
    ink: str
    initials: str
    avatar: str | None = None
    member: Member | None = None


def _html_tag(language: str) -> str:
    """The opening tag, its `lang` and `dir` from the council's language."""
    lang, direction = html_language(language)
    return f'<html lang="{escape(lang)}" dir="{direction}">'


def _say(text: Text | str, locale: str | None) -> str:
    """One of the page's own sentences or labels in `locale`; the catalogs are the bot's own,
    and untrusted values go into them already escaped."""
    return localize(text, locale)


def render_html(record: SessionRecord, locale: str | None = None) -> str:
    """The session as one HTML page: members, rounds with the audience's questions, replies
    with their votes and stance changes, then the summary with the vote chart inlined.

    The page's own words are in `locale`, by default the council's.
    """
    locale = record.session.locale if locale is None else locale
    seats = _seats(record.members)
    stats = member_stats(record)
    top = audience_winners(stats)
    saved = _saved_synthesis(record.session.synthesis_json)
    numbers = sorted({r.number for r in record.rounds} | {r.round_number for r in record.replies})
    colophon = t("council.html.colophon", name=t("council.name", id=record.session.id))
    parts = [
        "<!doctype html>",
        _html_tag(record.session.language),
        _head(record.session, seats.values(), locale),
        "<body>",
        _masthead(record, seats, top, numbers, locale),
        "<main>",
        *(_round(record, number, seats, locale) for number in numbers),
        _waiting_questions(record.questions, locale),
        _summary(record, seats, stats, top, saved, locale),
        "</main>",
        f'<footer class="colophon">{_say(colophon, locale)}</footer>',
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


# --------------------------------------------------------------------------- page parts


def _head(session: Session, seats: Iterable[_Seat], locale: str | None) -> str:
    topic = _clip(_plain(session.topic), TITLE_TOPIC_MAX)
    member_rules = "\n".join(f".{s.css_class}{{--c:{s.color};--ink:{s.ink}}}" for s in seats)
    name = _say(t("council.name", id=session.id), locale)
    return (
        "<head>\n"
        '<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="color-scheme" content="light dark">\n'
        '<meta name="generator" content="Council">\n'
        f"<title>{name}: {_text(topic)}</title>\n"
        f"<style>\n{_STYLE}\n{member_rules}\n</style>\n"
        "</head>"
    )


def _masthead(
    record: SessionRecord,
    seats: Mapping[str, _Seat],
    top: Sequence[str],
    numbers: Sequence[int],
    locale: str | None,
) -> str:
    s = record.session
    facts = [
        _say(t("council.name", id=s.id), locale),
        _text(_say(format_name(s.format), locale)),
        _text(_say(status_name(s.status), locale)),
    ]
    if s.is_blind:
        facts.append(_say(t("council.html.blind"), locale))
    timing = [_say(t("council.html.started", time=_time_html(s.started_at)), locale)]
    if s.ended_at is not None:
        lasted = duration((s.ended_at - s.started_at).total_seconds(), locale, with_hours=True)
        timing.append(_say(t("council.html.lasted", duration=lasted), locale))
    held = len(numbers)
    timing.append(_say(tn("council.html.held", s.rounds, held=held), locale))
    lines = [
        '<header class="masthead">',
        f'<p class="eyebrow">{" · ".join(facts)}</p>',
        f"<h1>{_text(s.topic)}</h1>",
        f'<p class="meta">{" · ".join(timing)}</p>',
    ]
    if s.stop_reason:
        lines.append(f'<p class="notice">⚠️ {_text(s.stop_reason)}</p>')
    if s.charter:
        charter = _say(t("council.transcript.charter", charter=_text(s.charter)), locale)
        lines.append(f'<p class="meta">{charter}</p>')
    lines.append(f'<ul class="members" aria-label="{_say(t("council.html.the-council"), locale)}">')
    lines += [_member_chip(seats[m.persona], m, m.persona in top, locale) for m in record.members]
    lines.append("</ul>")
    links = [
        f'<a href="#round-{n}">{_say(t("council.round", number=n), locale)}</a>' for n in numbers
    ]
    links.append(f'<a href="#summary">{_say(t("council.html.summary"), locale)}</a>')
    sections = _say(t("council.html.sections"), locale)
    lines += [f'<nav class="toc" aria-label="{sections}">', " ".join(links), "</nav>", "</header>"]
    return "\n".join(lines)


def _member_chip(seat: _Seat, member: Member, is_winner: bool, locale: str | None) -> str:
    chair = _say(t("council.role.chair"), locale)
    role = f' <span class="badge">{chair}</span>' if member.role is MemberRole.CHAIR else ""
    favourite = _say(t("council.html.favourite"), locale)
    trophy = f' <span class="trophy" title="{favourite}">🏆</span>' if is_winner else ""
    appeared = t("council.html.appeared-as", alias=_text(member.alias or ""))
    alias = f'<span class="alias">{_say(appeared, locale)}</span>' if member.alias else ""
    return (
        f'<li class="member {seat.css_class}">{_avatar(seat)}'
        f'<span class="who"><span class="name">{_text(member.persona)}</span>{role}{trophy}'
        f'<span class="model">{_text(member.model)} · {_text(member.provider)}</span>{alias}'
        "</span></li>"
    )


def _round(
    record: SessionRecord, number: int, seats: Mapping[str, _Seat], locale: str | None
) -> str:
    title = _say(t("council.round", number=number), locale)
    lines = [
        f'<section class="round" id="round-{number}" aria-labelledby="round-{number}-title">',
        f'<h2 class="round-title" id="round-{number}-title"><span>{title}</span></h2>',
    ]
    framing = next((r.question for r in record.rounds if r.number == number and r.question), None)
    if framing:
        lines.append(f'<p class="framing">{_inline(framing)}</p>')
    lines += [_question(q, locale) for q in record.questions if q.answered_in_round == number]
    stances = {st.persona: st for st in record.stances if st.round_number == number}
    for reply in record.replies:
        if reply.round_number != number or reply.kind is ReplyKind.SYNTHESIS:
            continue
        seat = seats.get(reply.persona) or _seat(reply.persona, DEFAULT_COLOR, "m-x")
        stance = stances.get(reply.persona) if reply.kind is ReplyKind.ANSWER else None
        answering = [q.asker for q in record.member_questions if q.answer_reply_id == reply.id]
        if answering:
            lines.append(f'<p class="answering">{_text(answering_line(answering, locale))}</p>')
        lines.append(_reply(reply, seat, record.votes, stance, locale))
        lines += [
            '<aside class="question"><span class="icon" aria-hidden="true">❓</span>'
            f"<p>{_text(_say(asks_line_words(q), locale))}</p></aside>"
            for q in record.member_questions
            if q.asked_in_reply == reply.id
        ]
    lines.append("</section>")
    return "\n".join(lines)


def _question(question: AudienceQuestion, locale: str | None) -> str:
    name = f"<strong>{_text(question.display_name)}</strong>"
    asks = audience_asks(question, name, _text, _inline(question.text))
    return (
        '<aside class="question"><span class="icon" aria-hidden="true">❓</span>'
        f"<p>{_say(asks, locale)}</p></aside>"
    )


def _reply(
    reply: Reply,
    seat: _Seat,
    votes: Mapping[int, tuple[int, int]],
    stance: Stance | None,
    locale: str | None,
) -> str:
    # Failed or withheld: no text, votes or stance to show.
    is_failed = reply.status is not ReplyStatus.OK
    badge = _KIND_BADGE.get(reply.kind)
    head = [f'<h3 class="speaker">{_text(reply.persona)}</h3>']
    if badge:
        icon, label = badge
        head.append(f'<span class="badge">{icon}{_say(label, locale)}</span>')
    if reply.kind is ReplyKind.ANSWER and not is_failed:
        up, down = votes.get(reply.id, (0, 0))
        counted = _say(t("council.html.vote-counts", up=up, down=down), locale)
        head.append(
            f'<span class="votes" data-up="{up}" data-down="{down}" '
            f'title="{counted}"><span class="up">👍 {up}</span>'
            f'<span class="down">👎 {down}</span></span>'
        )
    if reply.status is ReplyStatus.WITHHELD:
        # Marked, never quoted: a page of the council may be shared anywhere.
        body = f'<p class="failure withheld">🛡️ {_text(_say(moderation_note(reply), locale))}</p>'
    elif is_failed:
        why = reply.error_message or reply.error_kind or _say(t("council.html.no-reason"), locale)
        failed = t(
            "council.html.did-not-answer",
            name=_text(reply.persona),
            reason=_text(_clip(_plain(why), FAILURE_MAX)),
        )
        body = f'<p class="failure">⚠️ {_say(failed, locale)}</p>'
    else:
        body = f'<div class="md">{render_markdown_html(reply.text)}</div>'
        if reply.moderation in (Moderation.SPOILER, Moderation.RELEASED):
            noted = _text(_say(moderation_note(reply), locale))
            body = f'<p class="moderation">⚠️ {noted}</p>{body}'
    extra = []
    if stance is not None and not is_failed:
        extra.append(_stance(stance, locale))
    if reply.is_flagged:
        extra.append(f'<p class="flagged">🎭 {_say(t("council.html.flagged"), locale)}</p>')
    classes = f"reply {seat.css_class}" + (" failed" if is_failed else "")
    return (
        f'<article class="{classes}" id="reply-{reply.id}">{_avatar(seat)}'
        f'<div class="reply-body"><header class="reply-head">{"".join(head)}</header>'
        f"{body}{''.join(extra)}</div></article>"
    )


def _stance(stance: Stance, locale: str | None) -> str:
    sure = _text(sureness(stance, locale))
    claim = f" — {_text(stance.claim)}" if stance.claim else ""
    if stance.is_changed:
        why = f": {_text(stance.reason)}" if stance.reason else ""
        changed = _say(t("council.html.changed-position"), locale)
        return (
            f'<p class="stance changed"><span class="badge">↻ {changed}</span> '
            f"{_text(stance.previous_label or '?')} → <strong>{_text(stance.label)}</strong>"
            f"{sure}{why}{claim}</p>"
        )
    return (
        f'<p class="stance"><span class="label">{_say(t("council.stance.label"), locale)}</span> '
        f"<strong>{_text(stance.label)}</strong>{sure}{claim}</p>"
    )


def _waiting_questions(questions: Sequence[AudienceQuestion], locale: str | None) -> str:
    waiting = [q for q in questions if q.answered_in_round is None]
    if not waiting:
        return ""
    title = _say(t("council.html.unreached"), locale)
    return "\n".join(
        [
            '<section class="round" id="unanswered">',
            f'<h2 class="round-title"><span>{title}</span></h2>',
            *(_question(q, locale) for q in waiting),
            "</section>",
        ]
    )


def _summary(
    record: SessionRecord,
    seats: Mapping[str, _Seat],
    stats: Sequence[MemberStats],
    top: Sequence[str],
    saved: Mapping[str, object],
    locale: str | None,
) -> str:
    found = saved.get("synthesis")
    synthesis: dict[str, object] = found if isinstance(found, dict) else {}
    heading = _say(t("council.html.summary"), locale)
    lines = ['<section class="summary" id="summary">', f"<h2>{heading}</h2>"]
    lines.append(_winner_line(top, stats, locale))
    revealed = [
        _say(
            t(
                "council.summary.was",
                alias=_text(m.alias),
                persona=f"<strong>{_text(m.persona)}</strong>",
            ),
            locale,
        )
        for m in record.members
        if m.alias
    ]
    if revealed:
        said = _say(t("council.summary.revealed", names=", ".join(revealed)), locale)
        lines.append(f'<p class="revealed">🎭 {said}</p>')
    if synthesis.get("verdict"):
        lines.append(
            f'<blockquote class="verdict"><p class="label">{_say(t("council.verdict"), locale)}</p>'
            f"<p>{_inline(str(synthesis['verdict']))}</p></blockquote>"
        )
    lines.append(_chart(stats, seats, locale))
    lines.append(_stats_table(stats, seats, top, locale))
    lines.append(_synthesis(synthesis, record.replies, locale))
    lines.append(_peer_review(saved, stats, locale))
    lines.append(_changes_of_mind(record.stances, locale))
    lines.append(_question_pairs(record, locale))
    coverage = saved.get("coverage")
    if coverage:
        said = _say(t("council.summary.coverage", coverage=_text(str(coverage))), locale)
        lines.append(f'<p class="coverage">{said}.</p>')
    lines.append(_totals(record.session, stats, record.replies, locale))
    lines.append("</section>")
    return "\n".join(line for line in lines if line)


def _winner_line(top: Sequence[str], stats: Sequence[MemberStats], locale: str | None) -> str:
    if top:
        names = " &amp; ".join(f"<strong>{_text(name)}</strong>" for name in top)
        won = (
            t("council.summary.winner", names=names)
            if len(top) == 1
            else t("council.html.tie", names=names)
        )
        return f'<p class="winner">🏆 {_say(won, locale)}</p>'
    if any(s.up or s.down for s in stats):
        return f'<p class="winner">🏆 {_say(t("council.html.no-one-ahead"), locale)}</p>'
    return f'<p class="winner">🏆 {_say(t("council.summary.no-votes"), locale)}</p>'


def _chart(stats: Sequence[MemberStats], seats: Mapping[str, _Seat], locale: str | None) -> str:
    competing = [s for s in stats if not s.is_chair]
    if not competing:
        return ""
    bars = [ChartBar(s.persona, seats[s.persona].color, s.up, s.down) for s in competing]
    title = _say(t("council.chart.votes"), locale)
    png = base64.b64encode(votes_chart(bars, title=title, locale=locale)).decode("ascii")
    counts = "; ".join(
        _say(t("council.html.member-votes", name=s.persona, up=s.up, down=s.down), locale)
        for s in competing
    )
    alt = f"{title}: {counts}"
    height = 120 + 60 * len(bars)
    return (
        f'<figure class="chart"><img src="data:image/png;base64,{png}" width="800" '
        f'height="{height}" alt="{_text(alt)}"></figure>'
    )


def _stats_table(
    stats: Sequence[MemberStats], seats: Mapping[str, _Seat], top: Sequence[str], locale: str | None
) -> str:
    def say(text: Text) -> str:
        return _say(text, locale)

    rows = []
    for s in stats:
        latency = (
            say(t("figures.seconds-spaced", seconds=decimal(s.avg_latency_s, locale, 1)))
            if s.avg_latency_s is not None
            else "—"
        )
        role = f' <span class="badge">{say(t("council.role.chair"))}</span>' if s.is_chair else ""
        trophy = " 🏆" if s.persona in top else ""
        votes = (
            '<td class="num">—</td>' * 3
            if s.is_chair
            else f'<td class="num" data-up="{s.up}">{s.up}</td>'
            f'<td class="num" data-down="{s.down}">{s.down}</td>'
            f'<td class="num">{s.net:+d}</td>'
        )
        failed = f'<span class="warn">{s.failures}</span>' if s.failures else "0"
        rows.append(
            f'<tr class="{seats[s.persona].css_class}" data-persona="{_text(s.persona)}">'
            f'<th scope="row"><span class="swatch" aria-hidden="true"></span>'
            f"{_text(s.persona)}{role}{trophy}</th>"
            f'<td class="model">{_text(s.model)}</td>'
            f'{votes}<td class="num">{s.replies}</td>'
            f'<td class="num">{failed}</td><td class="num">{latency}</td>'
            f'<td class="num">{count(s.tokens, locale)}</td>'
            f'<td class="num">{usd(s.cost_usd, locale)}</td></tr>'
        )
    return (
        '<div class="table-wrap"><table class="stats">'
        f"<caption>{say(t('council.html.how-each-did'))}</caption>"
        f'<thead><tr><th scope="col">{say(t("council.html.col.member"))}</th>'
        f'<th scope="col">{say(t("council.html.col.model"))}</th>'
        '<th scope="col" class="num">👍</th><th scope="col" class="num">👎</th>'
        f'<th scope="col" class="num">{say(t("council.html.col.net"))}</th>'
        f'<th scope="col" class="num">{say(t("council.html.col.replies"))}</th>'
        f'<th scope="col" class="num">{say(t("council.html.col.failed"))}</th>'
        f'<th scope="col" class="num" title="{say(t("council.html.col.latency-title"))}">'
        f"{say(t('council.html.col.latency'))}</th>"
        f'<th scope="col" class="num">{say(t("council.html.col.tokens"))}</th>'
        f'<th scope="col" class="num">{say(t("council.html.col.cost"))}</th></tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


def _synthesis(
    synthesis: Mapping[str, object], replies: Sequence[Reply], locale: str | None
) -> str:
    blocks = []
    for key, title in (*SYNTHESIS_SECTIONS, ("ranking", PEER_RANKING)):
        items = synthesis.get(key)
        if isinstance(items, list) and items:
            entries = "".join(f"<li>{_inline(str(item))}</li>" for item in items)
            heading = _say(title, locale)
            blocks.append(f'<div class="section {key}"><h3>{heading}</h3><ul>{entries}</ul></div>')
    if not blocks:
        return ""
    written = (r for r in replies if r.kind is ReplyKind.SYNTHESIS and r.status is ReplyStatus.OK)
    author = synthesis.get("author") or next((r.persona for r in written), "")
    byline = (
        f'<p class="byline">{_say(t("council.html.written-by", name=_text(str(author))), locale)}'
        "</p>"
        if author
        else ""
    )
    return f'<div class="synthesis">{"".join(blocks)}</div>{byline}'


def _peer_review(
    saved: Mapping[str, object], stats: Sequence[MemberStats], locale: str | None
) -> str:
    comparison = compare_rankings(saved, stats)
    if comparison is None:
        return ""
    label, value = comparison.agreement(locale)
    title = _say(t("council.peer.title"), locale)
    models = _say(t("council.peer.models"), locale)
    audience = _say(t("council.peer.audience"), locale)
    return (
        f'<div class="section peer"><h3>{title}</h3><dl class="pairs">'
        f"<dt>{models}</dt><dd>{_text(format_places(comparison.peers))}</dd>"
        f"<dt>{audience}</dt><dd>{_text(format_places(comparison.audience))}</dd>"
        f"<dt>{_text(label)}</dt><dd>{_text(value)}</dd></dl></div>"
    )


def _changes_of_mind(stances: Sequence[Stance], locale: str | None) -> str:
    moves = []
    for s in stances:
        if not s.is_changed:
            continue
        move = _say(describe_change(s.persona, s.previous_label or "?", s.label, s.reason), locale)
        where = _say(t("council.html.in-round", round=s.round_number), locale)
        moves.append(f'<li>{_text(move)} <span class="muted">({where})</span></li>')
    if not moves:
        return ""
    title = _say(t("council.summary.changes"), locale)
    return f'<div class="section changes"><h3>{title}</h3><ul>{"".join(moves)}</ul></div>'


def _question_pairs(record: SessionRecord, locale: str | None) -> str:
    """The questions members put to each other, with the round that answered each, or that
    none did."""
    pairs = "".join(f"<li>{_text(pair)}</li>" for pair in question_pairs(record, locale))
    if not pairs:
        return ""
    title = _say(t("council.summary.questions"), locale)
    return f'<div class="section questions"><h3>{title}</h3><ul>{pairs}</ul></div>'


def _totals(
    session: Session, stats: Sequence[MemberStats], replies: Sequence[Reply], locale: str | None
) -> str:
    tokens = sum(s.tokens for s in stats)
    cost = sum(s.cost_usd for s in stats)
    about = "~" if any(r.tokens_estimated for r in replies) else ""
    pairs = []
    if session.ended_at is not None:
        seconds = (session.ended_at - session.started_at).total_seconds()
        pairs.append((t("council.html.duration"), duration(seconds, locale, with_hours=True)))
    pairs += [
        (t("council.html.col.tokens"), f"{about}{count(tokens, locale)}"),
        (t("council.html.col.cost"), f"~{usd(cost, locale)}"),
    ]
    items = "".join(
        f"<div><dt>{_say(name, locale)}</dt><dd>{value}</dd></div>" for name, value in pairs
    )
    return f'<dl class="totals">{items}</dl>'


# --------------------------------------------------------------------------- personas


def _seats(members: Sequence[Member]) -> dict[str, _Seat]:
    seats = {}
    for index, member in enumerate(members):
        seat = _seat(member.persona, member.color, f"m-{index}", member.avatar_url)
        seats[member.persona] = seat
    return seats


def _seat(persona: str, color: str, css_class: str, avatar_url: str | None = None) -> _Seat:
    safe = _css_color(color)
    avatar = (
        avatar_url
        if avatar_url and len(avatar_url) <= AVATAR_DATA_MAX and _DATA_IMAGE.fullmatch(avatar_url)
        else None
    )
    return _Seat(persona, css_class, safe, _ink(safe), _initials(persona), avatar)


def _avatar(seat: _Seat) -> str:
    if seat.avatar is not None:
        return f'<img class="avatar" src="{escape(seat.avatar)}" alt="" width="40" height="40">'
    return f'<span class="avatar" aria-hidden="true">{_text(seat.initials)}</span>'


def _css_color(value: str) -> str:
    """The colour if it is a plain hex colour (safe inside CSS), else the default."""
    return value.lower() if _HEX_COLOR.fullmatch(value) else DEFAULT_COLOR.lower()


def _ink(color: str) -> str:
    """Dark or white, whichever reads better on ``color`` (WCAG contrast)."""
    digits = color[1:]
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    channels = [int(digits[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    on_white = 1.05 / (luminance + 0.05)
    on_dark = (luminance + 0.05) / 0.0565  # #111318
    return "#ffffff" if on_white >= on_dark else "#111318"


def _initials(name: str) -> str:
    """ "Claude" -> "C", "DeepSeek" -> "DS", "Mistral Large" -> "ML"."""
    words: list[str] = _WORD.findall(name)
    if not words:
        return "?"
    if len(words) > 1:
        return (words[0][0] + words[1][0]).upper()
    word = words[0]
    inner = next((c for c in word[1:] if c.isupper()), "")
    return (word[0] + inner).upper()


# --------------------------------------------------------------------------- Markdown


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})\s*([^`\s]*)\s*")
_ONE_LINE_FENCE = re.compile(r"\s*```(?:[\w+#.-]*\s)?(.+?)```\s*")
_HEADING = re.compile(r" {0,3}(#{1,6})\s+(.*\S.*)")
_SUBTEXT = re.compile(r"-#\s+(.+)")
_RULE = re.compile(r" {0,3}([-*_])(?:\s*\1){2,}\s*")
_LIST_ITEM = re.compile(r"(\s*)([-*+•]|\d{1,9}[.)])\s+(.*)")
_QUOTE = re.compile(r" {0,3}>\s?(.*)")
_TABLE_RULE = re.compile(r"\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*")

_CODE_SPAN = re.compile(r"(`+)([^`\n]|[^`\n].*?[^`\n])\1(?!`)")
_EMPHASIS = (
    # A span's text never holds its own marker: an unclosed one then costs a scan to the next
    # marker, not to the end of the line (which made a line of them quadratic).
    (re.compile(r"\*\*(?=\S)((?:[^\n*]|\*(?!\*))*?\S)\*\*"), "strong"),
    (re.compile(r"__(?=\S)((?:[^\n_]|_(?!_))*?\S)__"), "u"),  # underline, as Discord reads it
    (re.compile(r"~~(?=\S)((?:[^\n~]|~(?!~))*?\S)~~"), "s"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^\n*]*?[^\s*])\*(?![\w*])"), "em"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^\n_]*?[^\s_])_(?![\w_])"), "em"),
)


@dataclass(frozen=True, slots=True)
class _Item:
    indent: int
    is_ordered: bool
    number: int
    text: str


def render_markdown_html(text: str) -> str:
    """Reply text as HTML: paragraphs, headings, lists, quotes, tables, code and emphasis.

    Every character of the text is escaped; the only markup is this renderer's own. No links
    and no raw HTML: a masked link reads as "label (url)" and an HTML tag as its own text.
    """
    lines = defuse_masked_links(strip_invisible(text)).replace("\r\n", "\n").split("\n")
    blocks: list[str] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(f"<p>{_inline(chr(10).join(paragraph))}</p>")
            paragraph.clear()

    i = 0
    while i < len(lines):
        block, after = _block_at(lines, i)
        if block is None:
            if lines[i].strip():
                paragraph.append(lines[i].strip())
            else:
                flush()
            i += 1
            continue
        flush()
        blocks.append(block)
        i = after
    flush()
    return "\n".join(blocks)


def _block_at(lines: Sequence[str], i: int) -> tuple[str | None, int]:
    """The block that starts at line ``i`` and the line after it; (None, i) for prose."""
    line = lines[i]
    if match := _ONE_LINE_FENCE.fullmatch(line):
        return f"<pre><code>{_text(match.group(1))}</code></pre>", i + 1
    if match := _FENCE.fullmatch(line):
        return _fenced(lines, i, match.group(1))
    if match := _HEADING.fullmatch(line):
        tag = "h4" if len(match.group(1)) <= 2 else "h5"
        title = match.group(2).rstrip()
        # A closing run of #s is decoration ("## Title ##"), unless it is part of a word (C#).
        if title.rstrip("#") != title and title.rstrip("#")[-1:].isspace():
            title = title.rstrip("#").rstrip()
        return f"<{tag}>{_inline(title)}</{tag}>", i + 1
    if match := _SUBTEXT.fullmatch(line.strip()):
        return f'<p class="subtext">{_inline(match.group(1))}</p>', i + 1
    if _RULE.fullmatch(line):
        return "<hr>", i + 1
    if _LIST_ITEM.fullmatch(line):
        return _list(lines, i)
    if _QUOTE.fullmatch(line):
        return _quote(lines, i)
    if _is_table(lines, i):
        return _table(lines, i)
    return None, i


def _fenced(lines: Sequence[str], i: int, fence: str) -> tuple[str, int]:
    """A fenced code block, closed by a matching fence or by the end of the text."""
    body = []
    end = i + 1
    while end < len(lines):
        stripped = lines[end].strip()
        if stripped.startswith(fence[0] * len(fence)) and not stripped.strip(fence[0]):
            end += 1
            break
        body.append(lines[end])
        end += 1
    return f"<pre><code>{_text(chr(10).join(body))}</code></pre>", end


def _list(lines: Sequence[str], i: int) -> tuple[str, int]:
    """Consecutive list items (nested by indentation) and their continuation lines."""
    items: list[_Item] = []
    while i < len(lines):
        line = lines[i]
        if match := _LIST_ITEM.fullmatch(line):
            marker = match.group(2)
            is_ordered = marker[0].isdigit()
            number = int(marker[:-1]) if is_ordered else 1
            indent = len(match.group(1).expandtabs(4))
            items.append(_Item(indent, is_ordered, number, match.group(3)))
        elif line.strip() and items and line[:1].isspace():
            last = items[-1]
            items[-1] = _Item(last.indent, last.is_ordered, last.number, f"{last.text}\n{line}")
        elif not line.strip() and i + 1 < len(lines) and _LIST_ITEM.fullmatch(lines[i + 1]):
            pass  # a blank line between items keeps the list going
        else:
            break
        i += 1
    return _nest(items), i


def _nest(items: Sequence[_Item]) -> str:
    out: list[str] = []
    open_lists: list[tuple[int, str]] = []  # (indent, tag)
    for item in items:
        while open_lists and item.indent < open_lists[-1][0]:
            out.append(f"</li></{open_lists.pop()[1]}>")
        if not open_lists or item.indent > open_lists[-1][0]:
            tag = "ol" if item.is_ordered else "ul"
            start = f' start="{item.number}"' if item.is_ordered and item.number != 1 else ""
            out.append(f"<{tag}{start}>")
            open_lists.append((item.indent, tag))
        else:
            out.append("</li>")
        lines = [part.strip() for part in item.text.split("\n")]
        out.append(f"<li>{_inline(chr(10).join(lines))}")
    out += [f"</li></{tag}>" for _, tag in reversed(open_lists)]
    return "".join(out)


def _quote(lines: Sequence[str], i: int) -> tuple[str, int]:
    """A block quote; its lines are shown as prose (no nested blocks: that recursion would
    be the text's to choose)."""
    quoted = []
    while i < len(lines) and (match := _QUOTE.fullmatch(lines[i])):
        quoted.append(match.group(1))
        i += 1
    paragraphs = "\n".join(quoted).split("\n\n")
    inner = "".join(f"<p>{_inline(p.strip())}</p>" for p in paragraphs if p.strip())
    return f"<blockquote>{inner}</blockquote>", i


def _is_table(lines: Sequence[str], i: int) -> bool:
    return (
        lines[i].lstrip().startswith("|")
        and i + 1 < len(lines)
        and "-" in lines[i + 1]
        and _TABLE_RULE.fullmatch(lines[i + 1]) is not None
    )


def _table(lines: Sequence[str], i: int) -> tuple[str, int]:
    header = _cells(lines[i])
    rows = []
    end = i + 2
    while end < len(lines) and lines[end].lstrip().startswith("|"):
        rows.append(_cells(lines[end]))
        end += 1
    head = "".join(f"<th>{_inline(cell)}</th>" for cell in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{_inline(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>",
        end,
    )


def _cells(line: str) -> list[str]:
    stripped = line.strip()
    stripped = stripped.removeprefix("|")
    stripped = stripped.removesuffix("|")
    return [cell.strip() for cell in stripped.split("|")]


def _inline(text: str) -> str:
    """One run of prose: code spans kept verbatim, emphasis marked, line breaks kept."""
    text = strip_invisible(text)
    out = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_emphasis(text[position : match.start()]))
        out.append(f"<code>{_text(match.group(2).strip() or match.group(2))}</code>")
        position = match.end()
    out.append(_emphasis(text[position:]))
    return "<br>\n".join("".join(out).split("\n"))


def _emphasis(text: str) -> str:
    # Escaped first: the patterns then only ever wrap escaped text in fixed tags.
    html = _text(text)
    for pattern, tag in _EMPHASIS:
        html = pattern.sub(rf"<{tag}>\1</{tag}>", html)
    return html


# --------------------------------------------------------------------------- small helpers


def _text(value: str) -> str:
    """Untrusted text, escaped for an element or a quoted attribute, without the invisible
    and bidi-control characters that could make it read as something else."""
    return escape(strip_invisible(value), quote=True)


def _plain(value: str) -> str:
    return " ".join(strip_invisible(value).split())


def _clip(text: str, limit: int) -> str:
    return graphemes.ellipsize(text, limit)


def _time_html(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return (
        f'<time datetime="{utc.isoformat(timespec="seconds")}">'
        f"{utc.strftime('%Y-%m-%d %H:%M')} UTC</time>"
    )


def _saved_synthesis(stored: str | None) -> dict[str, object]:
    """The stored synthesis record, or an empty one when there is none or it is unreadable."""
    if not stored:
        return {}
    try:
        parsed = json.loads(stored)
    except json.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


_STYLE = """\
:root{color-scheme:light dark;
--bg:#f4f5f7;--card:#ffffff;--text:#1f2328;--muted:#5c6370;--border:#dfe2e7;
--code-bg:#eef0f3;--quote:#c9ced6;--up:#1a7f37;--down:#b42318;
--warn-bg:#fff4e0;--warn:#8a4b00;--change-bg:#ecefff;--change:#3b44b8;--accent:#5865f2;
--shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08);
--c:#5865f2;--ink:#ffffff}
@media (prefers-color-scheme:dark){:root{
--bg:#1e1f22;--card:#2b2d31;--text:#e6e7ea;--muted:#a2a7b0;--border:#3b3d44;
--code-bg:#1e1f22;--quote:#4e5058;--up:#57d17f;--down:#ff8a80;
--warn-bg:#3a2e1a;--warn:#ffc46b;--change-bg:#2f3350;--change:#b4bbff;--accent:#8891f2;
--shadow:none}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--text);
font:16px/1.6 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Helvetica Neue",Arial,
sans-serif,"Apple Color Emoji","Segoe UI Emoji","Noto Color Emoji"}
main,.masthead,.colophon{max-width:880px;margin:0 auto;padding:0 20px}
.masthead{padding-top:40px;padding-bottom:8px}
.eyebrow{margin:0;color:var(--muted);font-size:.85rem;letter-spacing:.04em;text-transform:uppercase}
h1{margin:.2em 0 .3em;font-size:clamp(1.6rem,4vw,2.3rem);line-height:1.2;overflow-wrap:anywhere}
.meta{margin:0;color:var(--muted)}
.notice{background:var(--warn-bg);color:var(--warn);padding:8px 12px;border-radius:8px}
.members{list-style:none;padding:0;margin:20px 0 12px;display:grid;gap:10px;
grid-template-columns:repeat(auto-fill,minmax(230px,1fr))}
.member{display:flex;gap:10px;align-items:center;background:var(--card);padding:10px 12px;
border-radius:12px;border:1px solid var(--border);border-left:4px solid var(--c);
box-shadow:var(--shadow)}
.who{display:flex;flex-wrap:wrap;align-items:baseline;gap:0 6px;min-width:0}
.who .name{font-weight:700}
.who .model,.who .alias{flex-basis:100%;color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}
.toc{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0 0}
.toc a{color:var(--accent);text-decoration:none;padding:2px 10px;border:1px solid var(--border);
border-radius:999px;font-size:.9rem;background:var(--card)}
.toc a:hover{border-color:var(--accent)}
.avatar{flex:none;width:40px;height:40px;border-radius:50%;background:var(--c);color:var(--ink);
display:inline-flex;align-items:center;justify-content:center;font-weight:700;font-size:.95rem;
letter-spacing:.02em;object-fit:cover}
.round{margin:36px 0}
.round-title{display:flex;align-items:center;gap:14px;margin:0 0 16px;font-size:1.05rem;
color:var(--muted);text-transform:uppercase;letter-spacing:.08em}
.round-title::before,.round-title::after{content:"";flex:1;border-top:1px solid var(--border)}
.framing{font-style:italic;color:var(--muted)}
.question{display:flex;gap:10px;align-items:flex-start;margin:0 0 16px;padding:12px 14px;
background:var(--card);border:1px dashed var(--border);border-radius:12px}
.question p{margin:0}
.reply{display:flex;gap:14px;align-items:flex-start;margin:0 0 14px;padding:16px 18px;
background:var(--card);border:1px solid var(--border);border-left:4px solid var(--c);
border-radius:12px;box-shadow:var(--shadow)}
.reply-body{flex:1;min-width:0}
.reply-head{display:flex;flex-wrap:wrap;align-items:center;gap:6px 10px;margin-bottom:4px}
.speaker{margin:0;font-size:1.05rem}
.badge{display:inline-block;font-size:.75rem;font-weight:600;padding:1px 8px;border-radius:999px;
background:var(--code-bg);color:var(--muted);border:1px solid var(--border);white-space:nowrap}
.votes{margin-left:auto;display:inline-flex;gap:6px;font-size:.9rem;font-variant-numeric:tabular-nums}
.votes span{padding:1px 8px;border-radius:999px;border:1px solid var(--border);white-space:nowrap}
.votes .up{color:var(--up)}.votes .down{color:var(--down)}
.md{overflow-wrap:anywhere}
.md>:first-child{margin-top:0}.md>:last-child{margin-bottom:0}
.md p,.md ul,.md ol,.md pre,.md blockquote,.md .table-wrap{margin:.6em 0}
.md h4,.md h5{margin:1em 0 .3em;font-size:1rem}
.md ul,.md ol{padding-left:1.5em}
.md hr{border:0;border-top:1px solid var(--border)}
.md blockquote{margin-left:0;padding-left:12px;border-left:4px solid var(--quote);
color:var(--muted)}
.subtext{font-size:.8rem;color:var(--muted)}
code{font:.9em/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;
background:var(--code-bg);padding:.1em .35em;border-radius:4px}
pre{background:var(--code-bg);padding:12px 14px;border-radius:8px;overflow-x:auto;
border:1px solid var(--border)}
pre code{padding:0;background:none;white-space:pre}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;font-size:.92rem}
th,td{padding:6px 10px;border-bottom:1px solid var(--border);text-align:left;vertical-align:top}
.failed{opacity:.85;border-left-style:dashed}
.failure{margin:0;color:var(--warn);background:var(--warn-bg);padding:6px 10px;border-radius:8px;
font-size:.92rem}
.stance{margin:10px 0 0;font-size:.9rem;color:var(--muted)}
.stance .label{font-weight:600}
.stance.changed{color:var(--change);background:var(--change-bg);padding:6px 10px;border-radius:8px}
.stance.changed .badge{background:transparent;color:inherit;border-color:currentColor}
.flagged{margin:8px 0 0;font-size:.85rem;color:var(--muted)}
.moderation{margin:0 0 6px;font-size:.85rem;color:var(--muted)}
.summary{margin:48px 0 24px;padding:24px;background:var(--card);border:1px solid var(--border);
border-radius:16px;box-shadow:var(--shadow)}
.summary h2{margin:0 0 8px;font-size:1.5rem}
.summary h3{margin:1.4em 0 .4em;font-size:1.05rem}
.winner{font-size:1.2rem;margin:.2em 0 .6em}
.verdict{margin:16px 0;padding:12px 16px;border-left:4px solid var(--accent);
background:var(--code-bg);border-radius:0 8px 8px 0}
.verdict p{margin:0}.verdict .label{font-size:.8rem;text-transform:uppercase;
letter-spacing:.06em;color:var(--muted);font-weight:600}
.chart{margin:20px 0}
.chart img{display:block;max-width:100%;height:auto;border-radius:10px}
.stats{width:100%;margin:8px 0}
.stats th,.stats td{padding:6px 7px}
.stats caption{text-align:left;font-weight:700;padding:0 0 6px;font-size:1.05rem}
.stats thead th{color:var(--muted);font-weight:600;font-size:.85rem;white-space:nowrap}
.stats th[scope=row]{white-space:nowrap}
.stats .num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.stats .model{color:var(--muted);font-size:.88rem;white-space:nowrap}
.swatch{display:inline-block;width:10px;height:10px;border-radius:3px;background:var(--c);
margin-right:8px}
.warn{color:var(--warn);font-weight:700}
.synthesis{display:grid;gap:0 24px;grid-template-columns:repeat(auto-fit,minmax(300px,1fr))}
.section ul{padding-left:1.3em;margin:.3em 0}
.section li{margin:.25em 0}
.byline,.coverage,.muted{color:var(--muted)}
.byline,.coverage{font-size:.92rem}
.pairs{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
.pairs dt{color:var(--muted)}.pairs dd{margin:0}
.totals{display:flex;flex-wrap:wrap;gap:12px;margin:20px 0 0}
.totals div{flex:1 1 140px;padding:10px 14px;border:1px solid var(--border);border-radius:10px}
.totals dt{font-size:.8rem;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.totals dd{margin:0;font-size:1.2rem;font-weight:700;font-variant-numeric:tabular-nums}
.colophon{color:var(--muted);font-size:.85rem;padding-bottom:40px}
@media (max-width:560px){
main,.masthead,.colophon{padding:0 12px}.masthead{padding-top:24px}
.reply{padding:12px;gap:10px}.avatar{width:32px;height:32px;font-size:.8rem}
.votes{margin-left:0}.summary{padding:16px}}
@media print{.toc{display:none}.reply,.summary,.member{box-shadow:none}}"""
