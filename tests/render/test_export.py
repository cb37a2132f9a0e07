"""The JSON export: every stored detail of a session, and its vote counts read back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.council.models import (
    AudienceQuestion,
    Member,
    MemberRole,
    Reply,
    ReplyKind,
    ReplyStatus,
    Round,
    Session,
    SessionRecord,
    SessionStatus,
    Vote,
    VoteValue,
)
from bot.render.export import EXPORT_VERSION, counts_from_export, export_json
from bot.render.summary import member_stats

T0 = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)
GUILD, THREAD, HOST, VOTER = 1234567890123456789, 1234567890123456790, 987654321987654321, 2**60
SYNTHESIS = {"coverage": "all 2 members answered", "synthesis": {"verdict": "Trains."}}


def _reply(reply_id: int, persona: str, **fields: object) -> Reply:
    values: dict[str, object] = {
        "id": reply_id,
        "session_id": 7,
        "round_number": 1,
        "persona": persona,
        "text": f"{persona} says 👍 trains.",
        "created_at": T0 + timedelta(seconds=reply_id),
    }
    values.update(fields)
    return Reply.model_validate(values)


def _record(**session_fields: object) -> SessionRecord:
    session = Session(
        id=7,
        topic="Trains or cars?",
        rounds=2,
        chair="Claude",
        format="chaired",
        guild_id=GUILD,
        channel_id=GUILD + 1,
        thread_id=THREAD,
        host_id=HOST,
        status=SessionStatus.FINISHED,
        started_at=T0,
        ended_at=T0 + timedelta(minutes=3),
        synthesis_json=json.dumps(SYNTHESIS),
        summary_message_id=THREAD + 99,
    ).model_copy(update=session_fields)
    members = tuple(
        Member(
            session_id=7,
            position=i,
            persona=name,
            model_key=name.lower(),
            model=f"{name.lower()}-large",
            provider="fake",
            role=role,
        )
        for i, (name, role) in enumerate(
            [
                ("Claude", MemberRole.CHAIR),
                ("Gemini", MemberRole.MEMBER),
                ("Llama", MemberRole.MEMBER),
            ]
        )
    )
    replies = (
        _reply(1, "Claude", kind=ReplyKind.CHAIR, output_tokens=40, cost_usd=0.002),
        _reply(
            2,
            "Gemini",
            input_tokens=100,
            output_tokens=50,
            cost_usd=0.01,
            latency_s=1.5,
            first_token_s=0.4,
            message_ids=(THREAD + 1, THREAD + 2),
        ),
        _reply(
            3,
            "Llama",
            status=ReplyStatus.FAILED,
            text="",
            error_kind="timeout",
            error_message="Llama did not answer in time.",
        ),
        _reply(4, "Llama", message_ids=(THREAD + 3,), is_flagged=True),
    )
    return SessionRecord(
        session=session,
        members=members,
        rounds=(Round(session_id=7, number=1, started_at=T0, first_message_id=THREAD + 5),),
        replies=replies,
        questions=(
            AudienceQuestion(
                id=1,
                session_id=7,
                user_id=VOTER,
                display_name="bob",
                text="What about trams?",
                asked_at=T0,
                answered_in_round=1,
            ),
        ),
        votes={1: (0, 0), 2: (3, 1), 3: (0, 0), 4: (1, 2)},
    )


def test_the_export_carries_the_session_members_rounds_and_questions() -> None:
    document = json.loads(export_json(_record()))

    assert (document["format"], document["version"]) == ("council-export", EXPORT_VERSION)
    session = document["session"]
    assert session["id"] == 7
    assert session["topic"] == "Trains or cars?"
    assert (session["format"], session["rounds"], session["status"]) == ("chaired", 2, "finished")
    assert session["started_at"] == "2025-01-31T12:00:00+00:00"
    assert session["ended_at"] == "2025-01-31T12:03:00+00:00"
    assert [(m["persona"], m["role"], m["model"]) for m in document["members"]] == [
        ("Claude", "chair", "claude-large"),
        ("Gemini", "member", "gemini-large"),
        ("Llama", "member", "llama-large"),
    ]
    assert document["rounds"] == [
        {
            "number": 1,
            "question": None,
            "started_at": "2025-01-31T12:00:00+00:00",
            "finished_at": None,
            "first_message_id": str(THREAD + 5),
        }
    ]
    [question] = document["questions"]
    assert (question["display_name"], question["text"]) == ("bob", "What about trams?")
    assert question["answered_in_round"] == 1


def test_every_reply_keeps_its_text_status_usage_timing_messages_and_votes() -> None:
    replies = {r["id"]: r for r in json.loads(export_json(_record()))["replies"]}

    gemini = replies[2]
    assert gemini["text"] == "Gemini says 👍 trains."
    assert (gemini["kind"], gemini["status"], gemini["round"]) == ("answer", "ok", 1)
    assert (gemini["input_tokens"], gemini["output_tokens"], gemini["cost_usd"]) == (100, 50, 0.01)
    assert (gemini["latency_s"], gemini["first_token_s"]) == (1.5, 0.4)
    assert gemini["message_ids"] == [str(THREAD + 1), str(THREAD + 2)]
    assert gemini["votes"] == {"up": 3, "down": 1}
    failed = replies[3]
    assert (failed["status"], failed["error_kind"]) == ("failed", "timeout")
    assert failed["error_message"] == "Llama did not answer in time."
    assert replies[4]["is_flagged"] is True
    assert replies[1]["kind"] == "chair"


def test_discord_ids_are_strings_so_no_json_reader_rounds_them() -> None:
    text = export_json(_record())
    session = json.loads(text)["session"]

    assert (session["guild_id"], session["thread_id"]) == (str(GUILD), str(THREAD))
    assert (session["host_id"], session["summary_message_id"]) == (str(HOST), str(THREAD + 99))
    assert json.loads(text)["questions"][0]["user_id"] == str(VOTER)
    # As a double, the guild id would come back as a different number.
    assert float(GUILD) != GUILD


def test_the_synthesis_is_parsed_and_an_unreadable_one_kept_as_its_text() -> None:
    assert json.loads(export_json(_record()))["synthesis"] == SYNTHESIS
    broken = _record(synthesis_json="{not json")
    assert json.loads(export_json(broken))["synthesis"] == "{not json"
    assert json.loads(export_json(_record(synthesis_json=None)))["synthesis"] is None


def test_stats_and_winners_follow_the_summarys_member_stats() -> None:
    record = _record()
    document = json.loads(export_json(record))

    stats = {s["persona"]: s for s in document["stats"]}
    assert list(stats) == [s.persona for s in member_stats(record)]
    assert (stats["Gemini"]["up"], stats["Gemini"]["down"], stats["Gemini"]["net"]) == (3, 1, 2)
    assert stats["Claude"]["is_chair"] is True
    assert stats["Llama"]["failures"] == 1
    assert document["winners"] == ["Gemini"]


def test_individual_votes_are_included_only_when_passed() -> None:
    record = _record()
    votes = [Vote(reply_id=2, user_id=VOTER, value=VoteValue.UP, updated_at=T0)]

    assert "votes" not in json.loads(export_json(record))
    assert json.loads(export_json(record, votes))["votes"] == [
        {"reply_id": 2, "user_id": str(VOTER), "value": "up", "updated_at": T0.isoformat()}
    ]


def test_vote_counts_read_back_from_the_export_are_the_records() -> None:
    record = _record()
    text = export_json(record)

    assert counts_from_export(text) == record.votes
    assert counts_from_export(text.encode()) == record.votes


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "invalid JSON"),
        ("[]", "council-export"),
        ('{"format": "something-else", "version": 1}', "council-export"),
        ('{"format": "council-export", "version": 99, "replies": []}', "version 99"),
        ('{"format": "council-export", "version": 1, "replies": {}}', "not a list"),
        ('{"format": "council-export", "version": 1, "replies": [{"id": 1}]}', "no readable"),
    ],
)
def test_reading_counts_refuses_what_is_not_a_readable_export(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        counts_from_export(text)


def test_the_export_carries_the_locale_the_council_was_shown_in() -> None:
    russian = json.loads(export_json(_record(locale="ru")))
    english = json.loads(export_json(_record()))

    assert (russian["session"]["locale"], english["session"]["locale"]) == ("ru", "")
