"""The closing summary of a session as a Discord-independent document, within embed limits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.council.models import MemberRole, ReplyKind, ReplyStatus, SessionRecord
from bot.council.stance import describe_change
from bot.council.tally import kendall_tau, winners
from bot.render import graphemes
from bot.render.messages import safe_reply_text

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FIELDS_MAX = 25
EMBED_TOTAL_MAX = 6000
# Room kept back for the footer and author the edge adds.
EDGE_RESERVE = 300
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
    no_tau: str = ""

    @property
    def agreement(self) -> tuple[str, str]:
        """The agreement line as (label, value): the correlation, or why there is none."""
        if self.tau is None:
            return "Agreement", self.no_tau
        return "Agreement (Kendall τ-b)", f"{self.tau:+.2f}"


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
    if votes < needed:
        no_tau = (
            f"too few votes to compare with the council's ranking ({votes} of the {needed} needed)"
        )
    elif tau is None and len(set(audience_scores.values())) < 2:
        no_tau = "the audience's votes leave every member level: no order to compare"
    elif tau is None:
        no_tau = "the council's ranking puts every member level: no order to compare"
    else:
        no_tau = ""
    return PeerComparison(
        peers=_places(peer_scores),
        audience=_places(audience_scores),
        votes=votes,
        tau=tau,
        no_tau=no_tau,
    )


def peer_agreement(record: SessionRecord, stats: Sequence[MemberStats]) -> Field | None:
    """In a review council: the models' own ranking beside the audience's, and their agreement."""
    saved = json.loads(record.session.synthesis_json) if record.session.synthesis_json else {}
    comparison = compare_rankings(saved if isinstance(saved, dict) else {}, stats)
    if comparison is None:
        return None
    label, value = comparison.agreement
    return Field(
        "Peer review vs audience",
        f"Models: {format_places(comparison.peers)}\n"
        f"Audience: {format_places(comparison.audience)}\n{label}: {value}",
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


def stance_changes(record: SessionRecord) -> Field | None:
    """Who changed position during the session, and why, as they said it."""
    lines = [
        describe_change(s.persona, s.previous_label or "?", s.label, s.reason)
        for s in record.stances
        if s.is_changed
    ]
    if not lines:
        return None
    return Field("Changes of mind", _bullets(lines))


def render_summary(
    record: SessionRecord, *, jump_url: str | None = None, unshown: Sequence[str] = ()
) -> SummaryDoc:
    """The summary document: topic, winners, members, synthesis, coverage, time and cost.

    `unshown` names the replies that could not be shown where the council ran.
    """
    session = record.session
    stats = member_stats(record)
    top = audience_winners(stats)
    synthesis_record = json.loads(session.synthesis_json) if session.synthesis_json else {}
    synthesis = synthesis_record.get("synthesis") or {}
    coverage = synthesis_record.get("coverage", "")

    # The topic is a member's and the synthesis a model's: both shown defused.
    lines = [f"**Topic:** {_clip(safe_reply_text(session.topic), 900)}"]
    if top:
        verb = "wins" if len(top) == 1 else "tie"
        lines.append(f"🏆 **{' & '.join(top)}** {verb} the audience's vote.")
    else:
        lines.append("🏆 No audience votes were cast.")
    if session.stop_reason:
        lines.append(f"⚠️ {safe_reply_text(session.stop_reason)}")
    revealed = [f"{m.alias} was **{m.persona}**" for m in record.members if m.alias]
    if revealed:
        lines.append("🎭 Revealed: " + ", ".join(revealed) + ".")
    if synthesis.get("verdict"):
        lines.append(f"**Verdict:** {safe_reply_text(str(synthesis['verdict']))}")
    if coverage:
        lines.append(f"*Coverage: {coverage}.*")
    lines.extend(_unshown_lines(unshown))
    description = _clip("\n".join(lines), 1800)

    fields: list[Field] = []
    for s in stats:
        latency = f"{s.avg_latency_s:.1f}s" if s.avg_latency_s is not None else "—"
        role = " (chair)" if s.is_chair else ""
        value = (
            f"`{s.model}`\n"
            + (f"👍 {s.up} · 👎 {s.down} · " if not s.is_chair else "")
            + f"{s.replies} repl{'y' if s.replies == 1 else 'ies'} · {latency} avg\n"
            f"{s.tokens:,} tokens · ${s.cost_usd:.4f}"
            + (f"\n⚠️ {s.failures} failed" if s.failures else "")
        )
        alias = next(
            (f" · {m.alias}" for m in record.members if m.persona == s.persona and m.alias), ""
        )
        fields.append(Field(f"{s.persona}{alias}{role}", value, is_inline=True))
    for title, key in (
        ("Consensus", "consensus"),
        ("Disagreements", "disagreements"),
        ("Open questions", "open_questions"),
        ("Cautions", "cautions"),
        ("Since last time", "changed_from_before"),
    ):
        items = synthesis.get(key) or []
        if items:
            fields.append(Field(title, _bullets(items)))
    if (agreement := peer_agreement(record, stats)) is not None:
        fields.append(agreement)
    if (moves := stance_changes(record)) is not None:
        fields.append(moves)
    rounds = [r for r in record.rounds if r.first_message_id]
    if jump_url and rounds:
        links = " · ".join(f"[Round {r.number}]({jump_url}/{r.first_message_id})" for r in rounds)
        fields.append(Field("Rounds", _clip(links, FIELD_VALUE_MAX)))

    duration = (session.ended_at - session.started_at).total_seconds() if session.ended_at else None
    tokens = sum(s.tokens for s in stats)
    cost = sum(s.cost_usd for s in stats)
    footer = (
        f"Council #{session.id} · {session.format} · "
        + (f"{_duration(duration)} · " if duration is not None else "")
        + f"{tokens:,} tokens · ~${cost:.4f}"
    )
    doc = SummaryDoc(
        title=_clip(f"Council #{session.id}: summary", TITLE_MAX),
        description=description,
        fields=fields[:FIELDS_MAX],
        footer=footer,
        winners=top,
        stats=stats,
    )
    return fit(doc)


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


def _unshown_lines(unshown: Sequence[str]) -> list[str]:
    if not unshown:
        return []
    count = f"{len(unshown)} repl{'y' if len(unshown) == 1 else 'ies'}"
    return [
        f"⚠️ {count} could not be shown in the thread ({', '.join(unshown)}); "
        "the transcript has every word."
    ]


def _bullets(items: Sequence[object]) -> str:
    text = "\n".join(f"• {safe_reply_text(str(item))}" for item in items)
    return _clip(text, FIELD_VALUE_MAX)


def _clip(text: str, limit: int) -> str:
    return graphemes.ellipsize(text, limit)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"
