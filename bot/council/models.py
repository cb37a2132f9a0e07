"""The council's domain records, as the store returns them and the engine produces them.

All are frozen pydantic models; datetimes are timezone-aware UTC. Ids are SQLite rowids.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FormatName = Literal["parallel", "debate", "chaired", "review"]
# Who speaks when in a sequential format (debate, chaired): see `bot.council.formats`.
SpeakingOrder = Literal["rotating", "fixed", "natural"]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class SessionStatus(StrEnum):
    """Where a session is in its life."""

    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    @property
    def is_final(self) -> bool:
        """True once the session can no longer change."""
        return self in (SessionStatus.FINISHED, SessionStatus.STOPPED, SessionStatus.FAILED)


class MemberRole(StrEnum):
    """A seat at the council: a competing member or the chair, who does not compete for votes."""

    MEMBER = "member"
    CHAIR = "chair"


class ReplyKind(StrEnum):
    """What a reply was produced for."""

    ANSWER = "answer"
    CHAIR = "chair"
    REVIEW = "review"
    SYNTHESIS = "synthesis"


class ReplyStatus(StrEnum):
    """Whether the member produced a reply, failed, or replied and moderation withheld it.

    A withheld reply is kept for hosts to review but reaches nobody else: not the thread, the
    other members' prompts, the synthesis or an export. Releasing it makes it `OK`.
    """

    OK = "ok"
    FAILED = "failed"
    WITHHELD = "withheld"


class Moderation(StrEnum):
    """What moderation made of a reply: shown as it is, withheld, or shown behind a spoiler; a
    withheld reply a host later showed is `RELEASED`."""

    ALLOWED = "allowed"
    WITHHELD = "withheld"
    SPOILER = "spoiler"
    RELEASED = "released"


class NewSession(_Frozen):
    """What the store needs to open a session."""

    topic: str
    format: FormatName = "parallel"
    rounds: int = 3
    preset: str | None = None
    chair: str | None = None
    language: str = ""  # a locale code; "" answers in the topic's language
    locale: str = ""  # the locale of the bot's own words in the thread; "" for English
    is_blind: bool = False
    guild_id: int | None = None
    channel_id: int | None = None
    thread_id: int | None = None
    host_id: int | None = None
    budget_tokens: int | None = None
    budget_usd: float | None = None
    council_id: int | None = None
    # The permanent council's charter when the session began: rules every member's prompt
    # carries ("" for none).
    charter: str = ""
    speaking_order: SpeakingOrder = "rotating"
    # Whether the council goes to its synthesis once the members' positions hold for a round.
    end_on_agreement: bool = False


class Session(NewSession):
    """A stored session."""

    id: int
    status: SessionStatus = SessionStatus.RUNNING
    started_at: datetime
    ended_at: datetime | None = None
    stop_reason: str | None = None
    synthesis_json: str | None = None
    summary_message_id: int | None = None
    # Members a host muted: they sit out every round that starts while they are muted.
    muted: tuple[str, ...] = ()


class Member(_Frozen):
    """A persona seated in a session, with the model it ran on at the time."""

    session_id: int
    position: int
    persona: str
    model_key: str
    model: str
    provider: str
    role: MemberRole = MemberRole.MEMBER
    color: str = "#5865F2"
    avatar_url: str | None = None
    alias: str | None = None


class Round(_Frozen):
    """One round of a session; `question` is the chair's or audience's framing, if any."""

    session_id: int
    number: int
    question: str | None = None
    started_at: datetime
    finished_at: datetime | None = None
    first_message_id: int | None = None


class NewReply(_Frozen):
    """A reply (or failure) as the engine hands it to the store."""

    session_id: int
    round_number: int
    persona: str
    kind: ReplyKind = ReplyKind.ANSWER
    status: ReplyStatus = ReplyStatus.OK
    text: str = ""
    error_kind: str | None = None
    error_message: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    tokens_estimated: bool = False
    cost_usd: float = 0.0
    latency_s: float | None = None
    first_token_s: float | None = None
    # The moderation verdict: its category, what gave it ("rules" or the moderation model's
    # name; None when nothing checked the reply) and, for a guild rule, which one.
    moderation: Moderation = Moderation.ALLOWED
    moderation_category: str | None = None
    moderation_source: str | None = None
    moderation_rule: str | None = None


class Reply(NewReply):
    """A stored reply, with the Discord messages it was posted as."""

    id: int
    created_at: datetime
    message_ids: tuple[int, ...] = ()
    is_flagged: bool = False


class VoteValue(StrEnum):
    """A thumbs up or down."""

    UP = "up"
    DOWN = "down"


class Vote(_Frozen):
    """One member's current vote on one reply."""

    reply_id: int
    user_id: int
    value: VoteValue
    updated_at: datetime


class VoteClick(_Frozen):
    """One press of a vote button: who pressed which on which reply."""

    reply_id: int
    user_id: int
    value: VoteValue


class VoteOutcome(_Frozen):
    """The result of a click: what the voter's vote was and is, and the reply's new counts."""

    reply_id: int
    previous: VoteValue | None
    current: VoteValue | None
    up: int
    down: int


class AudienceQuestion(_Frozen):
    """A question from the audience, queued for the next round boundary."""

    id: int
    session_id: int
    user_id: int | None
    display_name: str
    text: str
    asked_at: datetime
    answered_in_round: int | None = None
    # The member (persona) it is put to, who answers it first; None: the whole council.
    addressee: str | None = None


class GuildSettings(_Frozen):
    """Per-guild host controls. Defaults apply until a host changes them."""

    guild_id: int
    host_role_ids: tuple[int, ...] = ()
    allowed_channel_ids: tuple[int, ...] = ()
    voter_role_id: int | None = None
    min_account_age_days: int = Field(default=0, ge=0)
    vote_grace_s: int = Field(default=600, ge=0)
    budget_usd: float | None = None
    budget_tokens: int | None = None
    daily_budget_usd: float | None = None
    max_rounds: int = Field(default=10, ge=1, le=10)
    default_preset: str | None = None
    max_concurrent_sessions: int = Field(default=3, ge=1, le=50)
    pause_between_rounds_s: float = Field(default=15.0, ge=0, le=600)
    auto_advance: bool = True
    # Per-member limits (None for none): audience questions in one council, and councils a
    # member may start (or convene) in 24 hours.
    max_questions_per_member: int | None = Field(default=None, ge=1)
    max_councils_per_member_per_day: int | None = Field(default=None, ge=1)


class VoteTarget(_Frozen):
    """What a vote click is judged on: the reply's kind and status, its session's state and the
    guild's settings."""

    reply_id: int
    kind: ReplyKind
    status: ReplyStatus
    session_id: int
    guild_id: int | None
    session_status: SessionStatus
    ended_at: datetime | None
    settings: GuildSettings


class PersonaOverride(_Frozen):
    """A guild's changes to a persona's look or style; never its model or endpoint."""

    guild_id: int
    persona: str
    display_name: str | None = None
    avatar_url: str | None = None
    color: str | None = None
    style: str | None = None
    updated_by: int | None = None
    updated_at: datetime


class AuditEntry(_Frozen):
    """A host action, kept for accountability."""

    id: int
    guild_id: int | None
    user_id: int | None
    action: str
    session_id: int | None = None
    detail: str = ""
    at: datetime


class PermanentCouncil(_Frozen):
    """A guild's named council: a line-up whose sessions remember the earlier ones."""

    id: int
    guild_id: int
    name: str
    preset: str | None = None
    members: tuple[str, ...] = ()
    chair: str | None = None
    format: FormatName | None = None
    rounds: int | None = None
    memory_sessions: int = 3
    language: str = ""  # a locale code; "" answers in each topic's language
    charter: str = ""  # rules every member's prompt carries; "" for none
    created_by: int | None = None
    created_at: datetime
    memory_cleared_at: datetime | None = None


class GuildHalt(_Frozen):
    """A guild whose councils are halted: none runs, none starts, until it is lifted.

    `halted_by` is None when the operator halted it from the shell.
    """

    guild_id: int
    reason: str = ""
    halted_by: int | None = None
    by_name: str = ""
    halted_at: datetime


class Stance(_Frozen):
    """A member's position after a round, as it stated it; `is_changed` when it moved."""

    session_id: int
    round_number: int
    persona: str
    label: str
    claim: str = ""
    confidence: float | None = None
    is_changed: bool = False
    previous_label: str | None = None
    reason: str | None = None


class MemberQuestion(_Frozen):
    """A question one member put to another (personas, not aliases), and what answered it."""

    id: int
    session_id: int
    asker: str
    addressee: str
    text: str
    round_asked: int
    # The reply that put the question, and the one that answered it.
    asked_in_reply: int | None = None
    answered_in_round: int | None = None
    answer_reply_id: int | None = None
    # The Discord message that shows the question, once the thread shows it.
    message_id: int | None = None


class SessionRecord(_Frozen):
    """Everything stored about one session: for transcripts, summaries and exports."""

    session: Session
    members: tuple[Member, ...]
    rounds: tuple[Round, ...]
    replies: tuple[Reply, ...]
    questions: tuple[AudienceQuestion, ...] = ()
    votes: dict[int, tuple[int, int]] = Field(default_factory=dict)
    stances: tuple[Stance, ...] = ()
    member_questions: tuple[MemberQuestion, ...] = ()
