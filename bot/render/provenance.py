""" "About this reply": the private card that says where a persona's message came from.

Pure: it is handed everything it shows (`ReplyFacts`) and returns the text in the reader's
language. In a blind council before the reveal it names only the alias and what the thread
already shows to everyone (round, time, votes, moderation); the persona, model, provider, the
chair's role, tokens, cost and timings would each point at the model behind the alias.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bot import graphemes
from bot.council.figures import decimal, money, number
from bot.council.models import Member, Reply, ReplyKind, ReplyStatus, Session
from bot.council.moderation import category_label
from bot.i18n import Text, localize, t
from bot.render.messages import strip_invisible

Verdict = Literal["passed", "flagged"]
ModerationState = Literal["shown", "withheld", "released"]

TOPIC_CHARS = 120
COST_DIGITS = 4
"""A single reply costs fractions of a cent."""
# Inside a line, only these change how text shows: emphasis, code, spoilers, links, mentions
# (an escaped `\<@123>` shows as text and pings nobody).
_MARKDOWN = re.compile(r"([\\*_~`|\[\]<])")
_VERDICTS = {"passed": "replies.about.verdict.passed", "flagged": "replies.about.verdict.flagged"}


@dataclass(frozen=True, slots=True)
class ModerationFacts:
    """What moderation decided about one reply, as the card shows it.

    `category` is what the rule or model flagged (e.g. "violence"), `source` who judged
    (a rule set, a moderation model); `state` whether the thread shows the reply, withholds it,
    or shows it since a host released it.
    """

    verdict: Verdict
    category: str | None = None
    source: str | None = None
    state: ModerationState = "shown"


@dataclass(frozen=True, slots=True)
class ReplyFacts:
    """Everything the card may show about the reply a message carries.

    `member` is the seat that spoke (None if the store lost it); `moderation` None means the
    reply was checked for nothing beyond defusing mentions.
    """

    session: Session
    member: Member | None
    reply: Reply
    message_id: int
    up: int
    down: int
    is_revealed: bool
    moderation: ModerationFacts | None = None

    @property
    def is_hidden(self) -> bool:
        """Whether who is behind the alias must stay hidden: a blind council not yet revealed."""
        return self.session.is_blind and not self.is_revealed


def render_provenance(facts: ReplyFacts, locale: str | None) -> str:
    """The card, one fact a line, in `locale`."""
    reply = facts.reply
    lines: list[Text | str] = [t("replies.about.title")]
    lines.append(_speaker(facts))
    if not facts.is_hidden and reply.kind is ReplyKind.CHAIR:
        lines.append(t("replies.about.chair"))
    # The topic is a member's text: on one line, clipped, and with no markdown or mention live.
    topic = graphemes.ellipsize(" ".join(strip_invisible(facts.session.topic).split()), TOPIC_CHARS)
    lines.append(
        t(
            "replies.about.council",
            session=facts.session.id,
            round=reply.round_number,
            topic=_escape(topic),
        )
    )
    parts = len(reply.message_ids)
    if parts > 1 and facts.message_id in reply.message_ids:
        part = reply.message_ids.index(facts.message_id) + 1
        lines.append(t("replies.about.part", part=part, parts=parts))
    lines.append(t("replies.about.when", time=f"<t:{int(reply.created_at.timestamp())}:f>"))
    if not facts.is_hidden:
        lines += _spend(reply, locale)
        if reply.status is ReplyStatus.FAILED:
            lines.append(t("replies.about.failed", reason=reply.error_kind or "?"))
    lines.append(t("replies.about.moderation", verdict=moderation_text(facts.moderation)))
    if reply.kind is ReplyKind.ANSWER:
        lines.append(
            t("replies.about.votes", up=number(facts.up, locale), down=number(facts.down, locale))
        )
    lines.append(_edits(facts.moderation))
    return "\n".join(localize(line, locale) for line in lines)


def moderation_text(moderation: ModerationFacts | None) -> Text:
    """The verdict as the card words it: "not checked beyond mentions" when there is none."""
    if moderation is None:
        return t("replies.about.verdict.unchecked")
    said = t(_VERDICTS[moderation.verdict])
    if moderation.category:
        # The bot's own categories ("blocked-word") read as the thread names them.
        label = category_label(moderation.category)
        category = label if isinstance(label, Text) else _escape(label)
        said = t("replies.about.verdict.category", verdict=said, category=category)
    if moderation.source:
        said = t("replies.about.verdict.source", verdict=said, source=_escape(moderation.source))
    return said


def _speaker(facts: ReplyFacts) -> Text:
    member = facts.member
    alias = member.alias if member is not None and member.alias else None
    if facts.is_hidden:
        return t("replies.about.alias", alias=alias or "?")
    persona = _escape(facts.reply.persona)
    if member is None:
        return t("replies.about.persona-only", persona=persona)
    # The operator names models and providers in council.toml: trusted, shown as code.
    model, provider = f"`{member.model}`", f"`{member.provider}`"
    if alias is not None:
        return t(
            "replies.about.persona-revealed",
            persona=persona,
            alias=alias,
            model=model,
            provider=provider,
        )
    return t("replies.about.persona", persona=persona, model=model, provider=provider)


def _spend(reply: Reply, locale: str | None) -> list[Text]:
    tokens = "replies.about.tokens-estimated" if reply.tokens_estimated else "replies.about.tokens"
    lines = [
        t(
            tokens,
            input=number(reply.input_tokens, locale),
            output=number(reply.output_tokens, locale),
        ),
        t("replies.about.cost", cost=money(reply.cost_usd, locale, digits=COST_DIGITS)),
    ]
    if reply.latency_s is not None:
        took = decimal(reply.latency_s, locale, 1)
        if reply.first_token_s is None:
            lines.append(t("replies.about.latency", latency=took))
        else:
            first = decimal(reply.first_token_s, locale, 1)
            lines.append(t("replies.about.latency-first-token", latency=took, first=first))
    return lines


def _edits(moderation: ModerationFacts | None) -> Text:
    state = "shown" if moderation is None else moderation.state
    if state == "withheld":
        return t("replies.about.withheld")
    if state == "released":
        return t("replies.about.released")
    return t("replies.about.not-edited")


def _escape(text: str) -> str:
    return _MARKDOWN.sub(r"\\\1", text)
