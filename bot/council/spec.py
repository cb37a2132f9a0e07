"""A session's specification: who sits, in which format, for how long, within what limits.

`build_spec` resolves names from the operator's config and validates what a host asked for,
raising `UserFacingError` with a message the host can act on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from bot.config import FORMATS, CouncilConfig, PersonaConfig
from bot.council.languages import language_code, public_locale
from bot.council.models import FormatName, MemberRole, SessionRecord, SpeakingOrder
from bot.errors import SeatProblem, UnseatedError, UserFacingError
from bot.i18n import t, tn

TOPIC_MAX_CHARS = 1000
MIN_MEMBERS = 2
MAX_MEMBERS = 8
MAX_ROUNDS = 10
DEFAULT_ROUNDS = 3
"""Rounds of a council that neither its host nor a preset gave a number of rounds."""
# C0/C1 controls (keeping \t and \n), zero-width characters and every bidi control, including
# the isolates (U+2066-2069) that can reorder how a thread name or topic reads.
_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]"
)


class SeatSpec(BaseModel):
    """A persona seated at a council, as resolved for this session."""

    model_config = ConfigDict(frozen=True)

    name: str
    model_key: str
    style: str = ""
    color: str = "#5865F2"
    avatar_url: str | None = None


class SessionSpec(BaseModel):
    """Everything the engine needs to run a session."""

    model_config = ConfigDict(frozen=True)

    topic: str
    format: FormatName = "parallel"
    rounds: int = 3
    members: tuple[SeatSpec, ...]
    chair: SeatSpec | None = None
    summariser: SeatSpec | None = None
    preset: str | None = None
    language: str = ""  # a locale code; "" answers in the topic's language
    # The catalog the bot's own words are shown in (see `public_locale`); "" for English.
    locale: str = ""
    max_words: int = 180
    is_blind: bool = False
    guild_id: int | None = None
    channel_id: int | None = None
    thread_id: int | None = None
    host_id: int | None = None
    budget_tokens: int | None = None
    budget_usd: float | None = None
    # The guild's budget over the last 24 hours, across its councils; checked before each round.
    daily_budget_usd: float | None = None
    max_wall_s: float | None = 30 * 60
    member_timeout_s: float = 120.0
    stall_timeout_s: float = 30.0
    auto_advance: bool = True
    pause_between_rounds_s: float = 0.0
    council_id: int | None = None
    memory: str = ""
    # A permanent council's charter (`bot.council.charter.clean_charter`); "" for none.
    charter: str = ""
    speaking_order: SpeakingOrder = "rotating"
    # Go to the synthesis once every member's position held for a whole round.
    end_on_agreement: bool = False

    def seat(self, name: str) -> SeatSpec | None:
        """The seat of a participant (member, chair or summariser) by name."""
        for seat in (*self.members, self.chair, self.summariser):
            if seat is not None and seat.name == name:
                return seat
        return None


def clean_text(text: str) -> str:
    """Text from a person with control and zero-width characters removed, whitespace trimmed."""
    return _CONTROL_RE.sub("", text).strip()


def build_spec(
    config: CouncilConfig,
    topic: str,
    *,
    preset: str | None = None,
    members: Sequence[str] | None = None,
    chair: str | None = None,
    format: str | None = None,
    rounds: int | None = None,
    order: SpeakingOrder | None = None,
    language: str | None = None,
    server_locale: str | None = None,
    overrides: Mapping[str, PersonaConfig] | None = None,
    **options: object,
) -> SessionSpec:
    """Resolve a host's request against the config; raise `UserFacingError` if it cannot run.

    `language` (a locale code or language name) overrides the preset's; with neither, the
    models answer in the language the topic is written in. The bot's own words follow the
    council's language, else `server_locale` (the server's preferred locale), else English.
    """
    topic = clean_text(topic)
    if not topic:
        raise UserFacingError(t("replies.spec.topic-empty"))
    if len(topic) > TOPIC_MAX_CHARS:
        raise UserFacingError(tn("replies.spec.topic-too-long", len(topic), limit=TOPIC_MAX_CHARS))
    chosen = None
    if preset is not None or not members:
        name = preset or "default"
        chosen = config.presets.get(name)
        if chosen is None:
            known = ", ".join(config.presets)
            if not known:
                raise UserFacingError(t("replies.spec.unknown-preset-none-configured", name=name))
            raise UserFacingError(t("replies.spec.unknown-preset", name=name, known=known))
    member_names = list(members) if members else list(chosen.members if chosen else [])
    format_name = format or (chosen.format if chosen else "parallel")
    if format_name not in FORMATS:
        raise UserFacingError(
            t("replies.spec.unknown-format", name=format_name, formats=", ".join(FORMATS))
        )
    round_count = rounds if rounds is not None else (chosen.rounds if chosen else DEFAULT_ROUNDS)
    if not 1 <= round_count <= MAX_ROUNDS:
        raise UserFacingError(t("replies.spec.rounds-out-of-range", limit=MAX_ROUNDS))

    language_chosen = language_code(language) or (chosen.language if chosen else "")
    unique_names = _unique(member_names)
    chair_name = chair or (chosen.chair if chosen else None)
    summariser_name = chosen.summariser if chosen else None
    _ensure_seatable(config, [*unique_names, chair_name, summariser_name])
    seats = [_seat(config, name, overrides) for name in unique_names]
    if not MIN_MEMBERS <= len(seats) <= MAX_MEMBERS:
        raise UserFacingError(
            t("replies.spec.member-count", low=MIN_MEMBERS, high=MAX_MEMBERS, named=len(seats))
        )
    chair_seat = _seat(config, chair_name, overrides) if chair_name else None
    if format_name == "chaired":
        if chair_seat is None:
            raise UserFacingError(t("replies.spec.chaired-needs-a-chair"))
        if len([s for s in seats if s.name != chair_seat.name]) < MIN_MEMBERS:
            raise UserFacingError(t("replies.spec.chaired-needs-members"))
    summariser = _seat(config, summariser_name, overrides) if summariser_name else None
    return SessionSpec.model_validate(
        {
            "topic": topic,
            "format": format_name,
            "rounds": round_count,
            "members": tuple(seats),
            "chair": chair_seat,
            "summariser": summariser,
            "preset": preset if chosen is not None else None,
            "language": language_chosen,
            "locale": public_locale(language_chosen, server_locale),
            "speaking_order": order or (chosen.order if chosen else "rotating"),
            "end_on_agreement": chosen.end_on_agreement if chosen else False,
            **options,
        }
    )


def _unique(names: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for raw in names:
        name = raw.strip()
        if name and name.casefold() not in (s.casefold() for s in seen):
            seen.append(name)
    return seen


def _ensure_seatable(config: CouncilConfig, names: Sequence[str | None]) -> None:
    """Refuse, naming each one and what the operator must do, personas that can't be seated."""
    problems: list[SeatProblem] = []
    for name in names:
        problem = config.seat_problem(name) if name else None
        if problem is not None and problem not in problems:
            problems.append(problem)
    if problems:
        raise UnseatedError(problems)


def _seat(
    config: CouncilConfig, name: str, overrides: Mapping[str, PersonaConfig] | None
) -> SeatSpec:
    persona = config.persona(name)
    if persona is None:
        known = ", ".join(p.name for p in config.personas)
        raise UserFacingError(t("replies.persona.unknown", name=name, known=known))
    if overrides and persona.name in overrides:
        persona = overrides[persona.name]
    return SeatSpec(
        name=persona.name,
        model_key=persona.model,
        style=persona.style,
        color=persona.color,
        avatar_url=persona.avatar_url,
    )


def spec_from_record(
    config: CouncilConfig,
    record: SessionRecord,
    *,
    overrides: Mapping[str, PersonaConfig] | None = None,
    **options: object,
) -> SessionSpec:
    """The spec of a stored session, to resume it; its personas must still be configured.

    The record holds what the host chose; `options` carry what the guild's settings say now
    (auto-advance, the pause between rounds, the daily budget).
    """
    session = record.session
    _ensure_seatable(config, [m.persona for m in record.members])
    seats = {m.persona: _seat(config, m.persona, overrides) for m in record.members}
    missing = [m.persona for m in record.members if m.model_key not in config.models]
    if missing:
        raise UserFacingError(
            tn("replies.resume.models-gone", len(missing), names=", ".join(missing))
        )
    chair = seats.get(session.chair) if session.chair else None
    # The chair is stored with the chair role unless it also sat as a competing member.
    members = [seats[m.persona] for m in record.members if m.role is MemberRole.MEMBER]
    return SessionSpec.model_validate(
        {
            "topic": session.topic,
            "format": session.format,
            "rounds": session.rounds,
            "members": tuple(members),
            "chair": chair,
            "preset": session.preset,
            "language": session.language,
            "locale": session.locale,
            "is_blind": session.is_blind,
            "guild_id": session.guild_id,
            "channel_id": session.channel_id,
            "thread_id": session.thread_id,
            "host_id": session.host_id,
            "budget_tokens": session.budget_tokens,
            "budget_usd": session.budget_usd,
            "charter": session.charter,
            "speaking_order": session.speaking_order,
            "end_on_agreement": session.end_on_agreement,
            **options,
        }
    )
