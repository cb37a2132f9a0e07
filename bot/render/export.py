"""A whole session as a JSON document, for archives and analysis; and reading its counts back.

The document is an object with ``"format": "council-export"`` and a ``"version"``; a field is
only ever added under the same version. Discord ids (guild, channel, thread, user and message
ids) are strings, as in Discord's own API: they exceed the 2**53 that JavaScript and many JSON
readers hold exactly. Council's own ids (session, reply) are numbers. Times are ISO 8601 UTC.

The Markdown transcript is `bot.render.transcript.render_markdown`.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.council import tally
from bot.council.models import ReplyStatus, Session, SessionRecord, Vote
from bot.render.summary import member_stats

EXPORT_FORMAT = "council-export"
EXPORT_VERSION = 1


def export_json(record: SessionRecord, votes: Sequence[Vote] | None = None) -> str:
    """The session as JSON: session, members, rounds, replies with their vote counts, audience
    questions, the synthesis and per-member stats.

    Args:
        record: Everything stored about the session.
        votes: The individual votes (who voted what), included only when given: they say how
            each member of the audience voted, which the vote buttons never show.
    """
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "session": _session(record.session),
        "members": [
            {
                "position": m.position,
                "persona": m.persona,
                "role": m.role,
                "model_key": m.model_key,
                "model": m.model,
                "provider": m.provider,
                "color": m.color,
                "avatar_url": m.avatar_url,
                "alias": m.alias,
            }
            for m in record.members
        ],
        "rounds": [
            {
                "number": r.number,
                "question": r.question,
                "started_at": _time(r.started_at),
                "finished_at": _time(r.finished_at),
                "first_message_id": _snowflake(r.first_message_id),
            }
            for r in record.rounds
        ],
        "replies": [
            {
                "id": r.id,
                "round": r.round_number,
                "persona": r.persona,
                "kind": r.kind,
                "status": r.status,
                # A withheld reply leaves its text behind: an export can go anywhere.
                "text": "" if r.status is ReplyStatus.WITHHELD else r.text,
                "error_kind": r.error_kind,
                "error_message": r.error_message,
                "input_tokens": r.input_tokens,
                "output_tokens": r.output_tokens,
                "tokens_estimated": r.tokens_estimated,
                "cost_usd": r.cost_usd,
                "latency_s": r.latency_s,
                "first_token_s": r.first_token_s,
                "created_at": _time(r.created_at),
                "message_ids": [str(m) for m in r.message_ids],
                "is_flagged": r.is_flagged,
                "moderation": {
                    "verdict": r.moderation,
                    "category": r.moderation_category,
                    "source": r.moderation_source,
                },
                "votes": dict(zip(("up", "down"), record.votes.get(r.id, (0, 0)), strict=True)),
            }
            for r in record.replies
        ],
        "questions": [
            {
                "id": q.id,
                "user_id": _snowflake(q.user_id),
                "display_name": q.display_name,
                "text": q.text,
                "asked_at": _time(q.asked_at),
                "answered_in_round": q.answered_in_round,
            }
            for q in record.questions
        ],
        "synthesis": _synthesis(record.session.synthesis_json),
        "stats": [{**dataclasses.asdict(s), "net": s.net} for s in member_stats(record)],
        "winners": tally.winners(tally.net_totals(record)),
    }
    if votes is not None:
        document["votes"] = [
            {
                "reply_id": v.reply_id,
                "user_id": str(v.user_id),
                "value": v.value,
                "updated_at": _time(v.updated_at),
            }
            for v in votes
        ]
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def counts_from_export(text: str | bytes) -> dict[int, tuple[int, int]]:
    """(up, down) votes by reply id, read back from an `export_json` document.

    Raises:
        ValueError: the text is not a Council export this version can read.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not a Council export: invalid JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != EXPORT_FORMAT:
        raise ValueError('not a Council export: no "format": "council-export"')
    version = document.get("version")
    if not isinstance(version, int) or not 1 <= version <= EXPORT_VERSION:
        raise ValueError(f"Council export version {version!r} is not one this version can read")
    replies = document.get("replies")
    if not isinstance(replies, list):
        raise ValueError('not a Council export: "replies" is not a list')
    counts: dict[int, tuple[int, int]] = {}
    for reply in replies:
        try:
            votes = reply["votes"]
            counts[int(reply["id"])] = (int(votes["up"]), int(votes["down"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"a reply in the export has no readable votes: {reply!r}") from exc
    return counts


def _session(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "topic": session.topic,
        "format": session.format,
        "rounds": session.rounds,
        "preset": session.preset,
        "chair": session.chair,
        "language": session.language,
        "locale": session.locale,
        "is_blind": session.is_blind,
        "status": session.status,
        "stop_reason": session.stop_reason,
        "started_at": _time(session.started_at),
        "ended_at": _time(session.ended_at),
        "guild_id": _snowflake(session.guild_id),
        "channel_id": _snowflake(session.channel_id),
        "thread_id": _snowflake(session.thread_id),
        "host_id": _snowflake(session.host_id),
        "summary_message_id": _snowflake(session.summary_message_id),
        "budget_tokens": session.budget_tokens,
        "budget_usd": session.budget_usd,
        "charter": session.charter,
        "muted": list(session.muted),
    }


def _synthesis(stored: str | None) -> object:
    """The stored synthesis record, parsed; the stored text itself if it is not valid JSON."""
    if stored is None:
        return None
    try:
        parsed: object = json.loads(stored)
    except json.JSONDecodeError:
        return stored
    return parsed


def _snowflake(value: int | None) -> str | None:
    return None if value is None else str(value)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()
