"""Replies and their Discord message ids round-trip through a real SQLite file."""

from __future__ import annotations

import pytest

from bot.council.models import NewReply, ReplyKind, ReplyStatus
from bot.store import ConstraintError, RecordNotFoundError


async def test_add_reply_stores_every_field(store, make, clock):
    session = await make.session()
    new = NewReply(
        session_id=session.id,
        round_number=2,
        persona="Gemini",
        kind=ReplyKind.REVIEW,
        status=ReplyStatus.FAILED,
        text="",
        error_kind="timeout",
        error_message="Gemini did not answer in 60 s",
        input_tokens=1200,
        output_tokens=0,
        tokens_estimated=True,
        cost_usd=0.0042,
        latency_s=60.5,
        first_token_s=None,
    )
    reply = await store.add_reply(new)

    assert reply.model_dump(include=set(NewReply.model_fields)) == new.model_dump()
    assert reply.created_at == clock.current
    assert reply.message_ids == ()
    assert reply.is_flagged is False
    assert await store.get_reply(reply.id) == reply


async def test_get_reply_returns_none_for_an_unknown_id(store):
    assert await store.get_reply(404) is None


async def test_reply_messages_keep_their_order_and_find_the_reply(store, make):
    session = await make.session()
    reply = await make.reply(session.id)

    updated = await store.set_reply_messages(reply.id, [30, 10, 20])

    assert updated.message_ids == (30, 10, 20)
    assert await store.get_reply(reply.id) == updated
    for message_id in (30, 10, 20):
        assert await store.reply_for_message(message_id) == updated
    assert await store.reply_for_message(40) is None


async def test_set_reply_messages_replaces_the_previous_messages(store, make):
    session = await make.session()
    reply = await make.reply(session.id)
    await store.set_reply_messages(reply.id, [1, 2, 3])

    updated = await store.set_reply_messages(reply.id, [4])

    assert updated.message_ids == (4,)
    assert await store.reply_for_message(1) is None


async def test_a_message_id_taken_by_another_reply_is_refused_and_nothing_changes(store, make):
    session = await make.session()
    first = await make.reply(session.id)
    second = await make.reply(session.id)
    await store.set_reply_messages(first.id, [1])
    await store.set_reply_messages(second.id, [2])

    with pytest.raises(ConstraintError):
        await store.set_reply_messages(second.id, [3, 1])

    assert (await store.get_reply(second.id)).message_ids == (2,), "the DELETE was rolled back"
    assert (await store.reply_for_message(1)).id == first.id


async def test_set_reply_messages_on_an_unknown_reply_raises_record_not_found(store):
    with pytest.raises(RecordNotFoundError, match="reply 7"):
        await store.set_reply_messages(7, [1])


async def test_replies_lists_a_session_in_order_optionally_by_round(store, make):
    session = await make.session()
    other = await make.session()
    r1 = await make.reply(session.id, round_number=1, persona="Claude")
    r2 = await make.reply(session.id, round_number=1, persona="Gemini")
    r3 = await make.reply(session.id, round_number=2, persona="Claude")
    await make.reply(other.id)
    await store.set_reply_messages(r2.id, [22, 23])
    await store.set_reply_messages(r3.id, [31])

    everything = await store.replies(session.id)
    assert [r.id for r in everything] == [r1.id, r2.id, r3.id]
    assert [r.message_ids for r in everything] == [(), (22, 23), (31,)]
    assert [r.id for r in await store.replies(session.id, round_number=1)] == [r1.id, r2.id]
    second_round = await store.replies(session.id, round_number=2)
    assert second_round == [await store.get_reply(r3.id)]
    assert await store.replies(session.id, round_number=3) == []


async def test_flag_reply_sets_and_clears_the_flag(store, make):
    session = await make.session()
    reply = await make.reply(session.id)

    assert (await store.flag_reply(reply.id)).is_flagged is True
    assert (await store.get_reply(reply.id)).is_flagged is True
    assert (await store.flag_reply(reply.id, is_flagged=False)).is_flagged is False
    with pytest.raises(RecordNotFoundError):
        await store.flag_reply(reply.id + 1)


async def test_a_reply_is_stored_with_the_questions_it_puts_and_where_they_are_shown(store, make):
    session = await make.session()
    new = NewReply(session_id=session.id, round_number=1, persona="DeepSeek", text="Hm.")
    reply = await store.add_reply(new, [("Claude", "Why now?"), ("Gemini", "When?")])

    put = await store.questions_put_in(reply)
    assert [(q.asker, q.addressee, q.text, q.round_asked) for q in put] == [
        ("DeepSeek", "Claude", "Why now?", 1),
        ("DeepSeek", "Gemini", "When?", 1),
    ]
    assert {q.asked_in_reply for q in put} == {reply.id}
    await store.set_member_questions_message([put[0].id], 555)
    stored = await store.member_questions(session.id)
    assert [q.message_id for q in stored] == [555, None]


async def test_a_reply_whose_questions_cannot_be_stored_is_not_stored_either(store, make):
    session = await make.session()
    new = NewReply(session_id=session.id, round_number=1, persona="DeepSeek", text="Hm.")
    with pytest.raises(ConstraintError):
        await store.add_reply(new, [("Claude", None)])  # a question with no text
    assert await store.replies(session.id) == []
    assert await store.member_questions(session.id) == []


async def test_model_text_holding_nul_or_a_lone_surrogate_is_stored_without_them(store, make):
    # PostgreSQL refuses NUL in text and no UTF-8 text holds a lone surrogate (JSON's "\ud800"
    # decodes to one): both databases store the text without them, and the same text.
    session = await make.session()
    reply = await store.add_reply(
        NewReply(session_id=session.id, round_number=1, persona="Claude", text="hi\x00there"),
        asks=[("Gemini", "why\x00 \ud800not?")],
    )

    assert reply.text == "hithere"
    assert (await store.get_reply(reply.id)).text == "hithere"
    [question] = await store.member_questions(session.id)
    assert question.text == "why not?"
