"""The closing summary of a session as a Discord-independent document, within embed limits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot import graphemes
from bot.council.charter import CharterFlag, flags_from_json
from bot.council.figures import count, decimal, duration, usd
from bot.council.formats import format_name
from bot.council.models import MemberRole, Moderation, ReplyKind, ReplyStatus, SessionRecord
from bot.council.moderation import category_label
from bot.council.stance import describe_change
from bot.council.tally import kendall_tau, winners
from bot.i18n import Text, localize, t, tn
from bot.render.messages import safe_reply_text
from bot.render.questions import question_pairs

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
# Room kept back for the footer and author the edge adds.
EDGE_RESERVE = 300
# The synthesis's sections, as stored, with their headings (the Markdown and HTML exports too).
SYNTHESIS_SECTIONS: tuple[tuple[str, Text], ...] = (
    ("consensus", t("council.section.consensus")),
    ("disagreements", t("council.section.disagreements")),
    ("open_questions", t("council.section.open-questions")),
    ("cautions", t("council.section.cautions")),
)
PEER_RANKING = t("council.section.peer-ranking")
AGREEMENT_MIN_VOTES_PER_MEMBER = 1
"""Votes per ranked member, at least, before the audience's ranking is compared with the
council's. With fewer votes than members, at least one member drew none, and its place in the
audience's order says who happened to be voted on, not what the audience preferred."""


@dataclass(frozen=True)
class Field:
    """One embed field."""

    name: str
    value: str
    is_inline: bool = False


@dataclass(frozen=True)
class MemberStats:
    """How one member did in a session."""

    persona: str
    model: str
    up: int
    down: int
    replies: int
    failures: int
    avg_latency_s: float | None
    tokens: int
    cost_usd: float
    is_chair: bool = False

    @property
    def net(self) -> int:
        """Net audience votes."""
        return self.up - self.down


@dataclass(frozen=True)
class SummaryDoc:
    """What the summary embed shows."""

    title: str
    description: str
    fields: list[Field] = field(default_factory=list)
    footer: str = ""
    winners: list[str] = field(default_factory=list)
    stats: list[MemberStats] = field(default_factory=list)


def member_stats(record: SessionRecord) -> list[MemberStats]:
    """Per-member votes, replies, latency, tokens, cost and failures, in seating order."""
    stats = []
    for member in record.members:
        own = [r for r in record.replies if r.persona == member.persona]
        answers = [r for r in own if r.kind is ReplyKind.ANSWER]
        ok = [r for r in answers if r.status is ReplyStatus.OK]
        latencies = [r.latency_s for r in ok if r.latency_s is not None]
        up = sum(record.votes.get(r.id, (0, 0))[0] for r in answers)
        down = sum(record.votes.get(r.id, (0, 0))[1] for r in answers)
        stats.append(
            MemberStats(
                persona=member.persona,
                model=member.model,
                up=up,
                down=down,
                replies=len(ok),
                failures=sum(1 for r in answers if r.status is ReplyStatus.FAILED),
                avg_latency_s=sum(latencies) / len(latencies) if latencies else None,
                tokens=sum(r.input_tokens + r.output_tokens for r in own),
                cost_usd=sum(r.cost_usd for r in own),
                is_chair=member.role is MemberRole.CHAIR,
            )
        )
    return stats


def audience_winners(stats: Sequence[MemberStats]) -> list[str]:
    """Competing members sharing the top net score (none when nobody is ahead)."""
    return winners({s.persona: s.net for s in stats if not s.is_chair})


@dataclass(frozen=True)
class PeerComparison:
    """A review council's own ranking beside the audience's, and how far the two agree.

    Each ranking is a list of places, best first; members level with each other share a place.
    ``tau`` is Kendall's tau-b between them, or None with ``no_tau`` saying why in words.
    """

    peers: list[list[str]]
    audience: list[list[str]]
    votes: int
    tau: float | None
    no_tau: Text | None = None

    def agreement(self, locale: str | None = None) -> tuple[str, str]:
        """The agreement line as (label, value) in `locale`: the correlation, or why there is
        none."""
        if self.tau is None:
            why = localize(self.no_tau, locale) if self.no_tau is not None else ""
            return localize(t("council.peer.agreement"), locale), why
        label = localize(t("council.peer.agreement-tau"), locale)
        return label, decimal(self.tau, locale, 2, sign=True)


def compare_rankings(
    saved: Mapping[str, object], stats: Sequence[MemberStats]
) -> PeerComparison | None:
    """The peer ranking in a saved synthesis record beside the audience's net votes.

    Peers are scored by their Borda points per ballot, the audience by net votes, so members
    level on either count as tied. The agreement is left out, and said to be, while the votes on
    the ranked members are fewer than `AGREEMENT_MIN_VOTES_PER_MEMBER` per member or leave them
    all level. None when the record ranks fewer than two members (not a review council).
    """
    peer_scores = _peer_scores(saved)
    if len(peer_scores) < 2:
        return None
    ranked = [s for s in stats if s.persona in peer_scores]
    audience_scores = {s.persona: float(s.net) for s in ranked}
    votes = sum(s.up + s.down for s in ranked)
    needed = AGREEMENT_MIN_VOTES_PER_MEMBER * len(peer_scores)
    tau = kendall_tau(peer_scores, audience_scores) if votes >= needed else None
    no_tau: Text | None
    if votes < needed:
        no_tau = t("council.peer.too-few-votes", votes=votes, needed=needed)
    elif tau is None and len(set(audience_scores.values())) < 2:
        no_tau = t("council.peer.audience-level")
    elif tau is None:
        no_tau = t("council.peer.council-level")
    else:
        no_tau = None
    return PeerComparison(
        peers=_places(peer_scores),
        audience=_places(audience_scores),
        votes=votes,
        tau=tau,
        no_tau=no_tau,
    )


def peer_agreement(
    record: SessionRecord, stats: Sequence[MemberStats], locale: str | None = None
) -> Field | None:
    """In a review council: the models' own ranking beside the audience's, and their agreement."""
    saved = json.loads(record.session.synthesis_json) if record.session.synthesis_json else {}
    comparison = compare_rankings(saved if isinstance(saved, dict) else {}, stats)
    if comparison is None:
        return None
    label, value = comparison.agreement(locale)
    models = localize(t("council.peer.models"), locale)
    audience = localize(t("council.peer.audience"), locale)
    return Field(
        localize(t("council.peer.title"), locale),
        f"{models}: {format_places(comparison.peers)}\n"
        f"{audience}: {format_places(comparison.audience)}\n{label}: {value}",
    )


def format_places(places: Sequence[Sequence[str]]) -> str:
    """A ranking in one line, best first: "A > B = C" when B and C share a place."""
    return " > ".join(" = ".join(place) for place in places)


def _peer_scores(saved: Mapping[str, object]) -> dict[str, float]:
    """Each ranked member's Borda points per ballot, from the saved ranking (best first).

    When any entry lacks readable points, every member is scored by its position instead (best
    highest), so the ranking stays strict rather than mixing the two scales.
    """
    ranking = saved.get("ranking")
    entries = [
        entry
        for entry in (ranking if isinstance(ranking, list) else [])
        if isinstance(entry, dict) and "persona" in entry
    ]
    averages = [_average(entry.get("points"), entry.get("ballots")) for entry in entries]
    readable = [average for average in averages if average is not None]
    values = readable if len(readable) == len(entries) else [-float(p) for p in range(len(entries))]
    scores: dict[str, float] = {}
    for entry, value in zip(entries, values, strict=True):
        scores.setdefault(str(entry["persona"]), value)
    return scores


def _average(points: object, ballots: object) -> float | None:
    if isinstance(points, int | float) and isinstance(ballots, int) and ballots > 0:
        return float(points) / ballots
    return None


def _places(scores: Mapping[str, float]) -> list[list[str]]:
    """Names grouped by equal score, best first, keeping the mapping's order within a place."""
    places: dict[float, list[str]] = {}
    for name, score in scores.items():
        places.setdefault(score, []).append(name)
    return [places[score] for score in sorted(places, reverse=True)]


def stance_changes(record: SessionRecord, locale: str | None = None) -> Field | None:
    """Who changed position during the session, and why, as they said it."""
    lines = [
        localize(describe_change(s.persona, s.previous_label or "?", s.label, s.reason), locale)
        for s in record.stances
        if s.is_changed
    ]
    if not lines:
        return None
    return Field(localize(t("council.summary.changes"), locale), _bullets(lines))


def questions_field(record: SessionRecord, locale: str | None = None) -> Field | None:
    """The questions members put to each other, answered or not."""
    pairs = question_pairs(record, locale)
    if not pairs:
        return None
    return Field(localize(t("council.summary.questions"), locale), _bullets(pairs))


# Who flagged a reply as breaking the charter, as the summary names them.
_FLAGGED_BY = {
    "chair": t("council.charter.by-chair"),
    "moderation": t("council.charter.by-moderation"),
}


def charter_breaches(record: SessionRecord, locale: str | None = None) -> Field | None:
    """Where a council with a charter had replies flagged as breaking it: by moderation (the
    verdicts stored with the replies) and by the chair's check saved with the synthesis."""
    if not record.session.charter:
        return None
    saved = json.loads(record.session.synthesis_json) if record.session.synthesis_json else {}
    chair = flags_from_json(saved.get("charter_flags") if isinstance(saved, dict) else None)
    moderation = [
        CharterFlag(
            reply.persona,
            reply.round_number,
            localize(
                t(
                    "council.charter.flagged-for",
                    category=category_label(reply.moderation_category),
                ),
                locale,
            ),
            "moderation",
        )
        for reply in record.replies
        if reply.moderation is not Moderation.ALLOWED
    ]
    flags = sorted([*moderation, *chair], key=lambda f: (f.round_number, f.source != "moderation"))
    if not flags:
        return None
    lines = [
        localize(
            t(
                "council.charter.breach",
                name=f.persona,
                round=f.round_number,
                reason=safe_reply_text(f.reason),
                check=_FLAGGED_BY[f.source],
            ),
            locale,
        )
        for f in flags
    ]
    return Field(
        localize(t("council.summary.charter"), locale), _clip("\n".join(lines), FIELD_VALUE_MAX)
    )


def render_summary(
    record: SessionRecord,
    *,
    jump_url: str | None = None,
    unshown: Sequence[str] = (),
    locale: str | None = None,
) -> SummaryDoc:
    """The summary document: topic, winners, members, synthesis, coverage, time and cost.

    `unshown` names the replies that could not be shown where the council ran. The bot's
    words are in `locale`, by default the council's own.
    """
    session = record.session
    locale = session.locale if locale is None else locale

    def say(text: Text | str) -> str:
        return localize(text, locale)

    stats = member_stats(record)
    top = audience_winners(stats)
    synthesis_record = json.loads(session.synthesis_json) if session.synthesis_json else {}
    synthesis = synthesis_record.get("synthesis") or {}
    coverage = synthesis_record.get("coverage", "")

    # The topic is a member's and the synthesis a model's: both shown defused.
    lines = [say(t("council.summary.topic", topic=_clip(safe_reply_text(session.topic), 900)))]
    if top:
        names = f"**{' & '.join(top)}**"
        won = t("council.summary.winner", names=names) if len(top) == 1 else None
        lines.append(f"🏆 {say(won or t('council.summary.tie', names=names))}")
    else:
        lines.append(f"🏆 {say(t('council.summary.no-votes'))}")
    if session.stop_reason:
        lines.append(f"⚠️ {safe_reply_text(session.stop_reason)}")
    revealed = [
        say(t("council.summary.was", alias=m.alias, persona=f"**{m.persona}**"))
        for m in record.members
        if m.alias
    ]
    if revealed:
        lines.append(f"🎭 {say(t('council.summary.revealed', names=', '.join(revealed)))}")
    if synthesis.get("verdict"):
        verdict = safe_reply_text(str(synthesis["verdict"]))
        lines.append(say(t("council.summary.verdict", verdict=verdict)))
    if coverage:
        lines.append(f"*{say(t('council.summary.coverage', coverage=coverage))}.*")
    lines.extend(_unshown_lines(unshown, locale))
    description = _clip("\n".join(lines), 1800)

    fields = [_member_field(record, s, locale) for s in stats]
    for key, title in (*SYNTHESIS_SECTIONS, ("changed_from_before", t("council.section.since"))):
        items = synthesis.get(key) or []
        if items:
            fields.append(Field(say(title), _bullets(items)))
    if (agreement := peer_agreement(record, stats, locale)) is not None:
        fields.append(agreement)
    for extra in (
        stance_changes(record, locale),
        charter_breaches(record, locale),
        questions_field(record, locale),
    ):
        if extra is not None:
            fields.append(extra)
    rounds = [r for r in record.rounds if r.first_message_id]
    if jump_url and rounds:
        links = " · ".join(
            f"[{say(t('council.round', number=r.number))}]({jump_url}/{r.first_message_id})"
            for r in rounds
        )
        fields.append(Field(say(t("council.summary.rounds")), _clip(links, FIELD_VALUE_MAX)))

    lasted = (session.ended_at - session.started_at).total_seconds() if session.ended_at else None
    tokens = sum(s.tokens for s in stats)
    cost = sum(s.cost_usd for s in stats)
    name = say(t("council.name", id=session.id))
    footer = (
        f"{name} · {say(format_name(session.format))} · "
        + (f"{duration(lasted, locale)} · " if lasted is not None else "")
        + f"{say(tokens_text(tokens, locale))} · ~{usd(cost, locale)}"
    )
    doc = SummaryDoc(
        title=_clip(say(t("council.summary.title", name=name)), TITLE_MAX),
        description=description,
        fields=fields[:FIELDS_MAX],
        footer=footer,
        winners=top,
        stats=stats,
    )
    return fit(doc)


def _member_field(record: SessionRecord, s: MemberStats, locale: str | None) -> Field:
    """One member's votes, replies, latency, tokens, cost and failures."""

    def say(text: Text) -> str:
        return localize(text, locale)

    latency = (
        say(t("figures.seconds", seconds=decimal(s.avg_latency_s, locale, 1)))
        if s.avg_latency_s is not None
        else "—"
    )
    replies = t(
        "council.summary.replies-latency",
        replies=tn("summary.replies", s.replies),
        latency=latency,
    )
    value = (
        f"`{s.model}`\n"
        + (f"👍 {s.up} · 👎 {s.down} · " if not s.is_chair else "")
        + say(replies)
        + f"\n{say(tokens_text(s.tokens, locale))} · {usd(s.cost_usd, locale)}"
        + (f"\n⚠️ {say(t('council.summary.failed', failures=s.failures))}" if s.failures else "")
    )
    alias = next(
        (f" · {m.alias}" for m in record.members if m.persona == s.persona and m.alias), ""
    )
    role = f" ({say(t('council.role.chair'))})" if s.is_chair else ""
    return Field(f"{s.persona}{alias}{role}", value, is_inline=True)


def fit(doc: SummaryDoc) -> SummaryDoc:
    """Shrink the document until every embed limit holds, cutting the longest parts first."""
    fields = [
        Field(_clip(f.name, FIELD_NAME_MAX), _clip(f.value, FIELD_VALUE_MAX), f.is_inline)
        for f in doc.fields[:FIELDS_MAX]
    ]
    description = _clip(doc.description, DESCRIPTION_MAX)
    budget = EMBED_TOTAL_MAX - EDGE_RESERVE - len(doc.title) - len(doc.footer)
    while len(description) + sum(len(f.name) + len(f.value) for f in fields) > budget:
        longest = max(range(len(fields)), key=lambda i: len(fields[i].value), default=None)
        if longest is None or len(fields[longest].value) <= 80:
            description = _clip(description, max(100, len(description) - 200))
            if len(description) <= 100:
                fields = fields[:-1]
            continue
        f = fields[longest]
        fields[longest] = Field(f.name, _clip(f.value, len(f.value) * 3 // 4), f.is_inline)
    return SummaryDoc(doc.title, description, fields, doc.footer, doc.winners, doc.stats)


def tokens_text(tokens: int, locale: str | None) -> Text:
    """A token count with its unit: "1,234 tokens"."""
    return tn("council.tokens", tokens, tokens=count(tokens, locale))


def _unshown_lines(unshown: Sequence[str], locale: str | None) -> list[str]:
    if not unshown:
        return []
    said = t(
        "summary.unshown", replies=tn("summary.replies", len(unshown)), names=", ".join(unshown)
    )
    return [f"⚠️ {localize(said, locale)}"]


def _bullets(items: Sequence[object]) -> str:
    text = "\n".join(f"• {safe_reply_text(str(item))}" for item in items)
    return _clip(text, FIELD_VALUE_MAX)


def _clip(text: str, limit: int) -> str:
    return graphemes.ellipsize(text, limit)
