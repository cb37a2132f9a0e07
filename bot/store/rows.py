"""Row → model converters and the store's encoding of times. Pure: no connection in here."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime

from bot.council.models import (
    AudienceQuestion,
    AuditEntry,
    GuildSettings,
    Member,
    PersonaOverride,
    Reply,
    Round,
    Session,
    Vote,
)
from bot.store.db import Row


def to_db_time(moment: datetime) -> str:
    """Encode an aware datetime as fixed-width UTC ISO text, which sorts in time order.

    Raises:
        ValueError: `moment` is naive; the store never guesses a timezone.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment!r}: the store needs timezone-aware times")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def from_db_time(text: str) -> datetime:
    """Decode `to_db_time`'s text into an aware UTC datetime."""
    moment = datetime.fromisoformat(text)
    # Rows written by hand (or an older tool) may lack the offset; the store only writes UTC.
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_db_time_or_none(text: str | None) -> datetime | None:
    """`from_db_time` for nullable columns."""
    return None if text is None else from_db_time(text)


def session_from_row(row: Row) -> Session:
    """A `sessions` row as a Session."""
    return Session(
        id=row["id"],
        topic=row["topic"],
        format=row["format"],
        rounds=row["rounds"],
        preset=row["preset"],
        chair=row["chair"],
        language=row["language"],
        locale=row["locale"],
        is_blind=bool(row["is_blind"]),
        guild_id=row["guild_id"],
        channel_id=row["channel_id"],
        thread_id=row["thread_id"],
        host_id=row["host_id"],
        budget_tokens=row["budget_tokens"],
        budget_usd=row["budget_usd"],
        status=row["status"],
        started_at=from_db_time(row["started_at"]),
        ended_at=from_db_time_or_none(row["ended_at"]),
        stop_reason=row["stop_reason"],
        synthesis_json=row["synthesis_json"],
        summary_message_id=row["summary_message_id"],
        council_id=row["council_id"],
        charter=row["charter"],
        speaking_order=row["speaking_order"],
        end_on_agreement=bool(row["end_on_agreement"]),
        muted=tuple(json.loads(row["muted_json"])),
    )


def member_from_row(row: Row) -> Member:
    """A `members` row as a Member."""
    return Member(
        session_id=row["session_id"],
        position=row["position"],
        persona=row["persona"],
        model_key=row["model_key"],
        model=row["model"],
        provider=row["provider"],
        role=row["role"],
        color=row["color"],
        avatar_url=row["avatar_url"],
        alias=row["alias"],
    )


def round_from_row(row: Row) -> Round:
    """A `rounds` row as a Round."""
    return Round(
        session_id=row["session_id"],
        number=row["number"],
        question=row["question"],
        started_at=from_db_time(row["started_at"]),
        finished_at=from_db_time_or_none(row["finished_at"]),
        first_message_id=row["first_message_id"],
    )


def reply_from_row(row: Row, message_ids: Iterable[int] = ()) -> Reply:
    """A `replies` row, with its Discord message ids in posting order, as a Reply."""
    return Reply(
        id=row["id"],
        session_id=row["session_id"],
        round_number=row["round_number"],
        persona=row["persona"],
        kind=row["kind"],
        status=row["status"],
        text=row["text"],
        error_kind=row["error_kind"],
        error_message=row["error_message"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        tokens_estimated=bool(row["tokens_estimated"]),
        cost_usd=row["cost_usd"],
        latency_s=row["latency_s"],
        first_token_s=row["first_token_s"],
        created_at=from_db_time(row["created_at"]),
        message_ids=tuple(message_ids),
        is_flagged=bool(row["is_flagged"]),
        moderation=row["moderation"],
        moderation_category=row["moderation_category"],
        moderation_source=row["moderation_source"],
        moderation_rule=row["moderation_rule"],
    )


def vote_from_row(row: Row) -> Vote:
    """A `votes` row as a Vote."""
    return Vote(
        reply_id=row["reply_id"],
        user_id=row["user_id"],
        value=row["value"],
        updated_at=from_db_time(row["updated_at"]),
    )


def question_from_row(row: Row) -> AudienceQuestion:
    """An `audience_questions` row as an AudienceQuestion."""
    return AudienceQuestion(
        id=row["id"],
        session_id=row["session_id"],
        user_id=row["user_id"],
        display_name=row["display_name"],
        text=row["text"],
        asked_at=from_db_time(row["asked_at"]),
        answered_in_round=row["answered_in_round"],
        addressee=row["addressee"],
    )


def settings_to_json(settings: GuildSettings) -> str:
    """The settings blob: every field but `guild_id`, which is the row's key."""
    return settings.model_dump_json(exclude={"guild_id"})


def settings_from_row(row: Row) -> GuildSettings:
    """A `guild_settings` row as GuildSettings, validated (unknown old keys are ignored)."""
    blob = json.loads(row["settings_json"])
    if not isinstance(blob, dict):
        raise ValueError(f"guild {row['guild_id']} settings are not a JSON object")
    return GuildSettings.model_validate({**blob, "guild_id": row["guild_id"]})


def override_from_row(row: Row) -> PersonaOverride:
    """A `persona_overrides` row as a PersonaOverride."""
    return PersonaOverride(
        guild_id=row["guild_id"],
        persona=row["persona"],
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        color=row["color"],
        style=row["style"],
        updated_by=row["updated_by"],
        updated_at=from_db_time(row["updated_at"]),
    )


def audit_from_row(row: Row) -> AuditEntry:
    """An `audit_log` row as an AuditEntry."""
    return AuditEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        action=row["action"],
        session_id=row["session_id"],
        detail=row["detail"],
        at=from_db_time(row["at"]),
    )
