"""Votes (toggle, switch, withdraw, counts) and audience questions."""

from __future__ import annotations

import asyncio

import pytest

from bot.council.models import GuildSettings, ReplyKind, SessionStatus, VoteClick, VoteValue
from bot.store import QuestionLimitError, RecordNotFoundError

UP, DOWN = VoteValue.UP, VoteValue.DOWN


async def test_a_first_click_records_the_vote(store, make):
    reply = await make.reply((await make.session()).id)

    outcome = await store.record_vote(reply.id, 7, UP)

    assert (outcome.reply_id, outcome.previous, outcome.current) == (reply.id, None, UP)
    assert (outcome.up, outcome.down) == (1, 0)
    assert await store.votes_for(reply.id) == (1, 0)


async def test_clicking_the_same_value_again_withdraws_the_vote(store, make):
    reply = await make.reply((await make.session()).id)
    await store.record_vote(reply.id, 7, DOWN)

    outcome = await store.record_vote(reply.id, 7, DOWN)

    assert (outcome.previous, outcome.current) == (DOWN, None)
    assert (outcome.up, outcome.down) == (0, 0)
    assert await store.votes(reply.session_id) == []


async def test_clicking_the_other_value_switches_the_vote(store, make, clock):
    session = await make.session()
    reply = await make.reply(session.id)
    await store.record_vote(reply.id, 7, UP)

    outcome = await store.record_vote(reply.id, 7, DOWN)

    assert (outcome.previous, outcome.current) == (UP, DOWN)
    assert (outcome.up, outcome.down) == (0, 1)
    [vote] = await store.votes(session.id)
    assert (vote.reply_id, vote.user_id, vote.value) == (reply.id, 7, DOWN)
    assert vote.updated_at == clock.current


async def test_counts_add_up_over_voters_and_replies(store, make):
    session = await make.session()
    other_session = await make.session()
    a = await make.reply(session.id)
    b = await make.reply(session.id)
    silent = await make.reply(session.id)
    elsewhere = await make.reply(other_session.id)
    for user, value in [(1, UP), (2, UP), (3, DOWN)]:
        await store.record_vote(a.id, user, value)
    await store.record_vote(b.id, 1, DOWN)
    await store.record_vote(elsewhere.id, 1, UP)

    assert await store.votes_for(a.id) == (2, 1)
    assert await store.vote_counts(session.id) == {a.id: (2, 1), b.id: (0, 1), silent.id: (0, 0)}
    assert [(v.reply_id, v.user_id) for v in await store.votes(session.id)] == [
        (a.id, 1),
        (a.id, 2),
        (a.id, 3),
        (b.id, 1),
    ]
    assert await store.votes_for(404) == (0, 0)


async def test_two_simultaneous_identical_clicks_toggle_on_then_off(store, make):
    reply = await make.reply((await make.session()).id)

    outcomes = await asyncio.gather(
        store.record_vote(reply.id, 7, UP), store.record_vote(reply.id, 7, UP)
    )

    assert {(o.previous, o.current) for o in outcomes} == {(None, UP), (UP, None)}
    assert await store.votes_for(reply.id) == (0, 0)


async def test_voting_on_an_unknown_reply_raises_record_not_found(store):
    with pytest.raises(RecordNotFoundError, match="reply 404"):
        await store.record_vote(404, 7, UP)


async def test_a_batch_of_clicks_applies_in_order_as_single_clicks_would(store, make):
    session = await make.session()
    a = await make.reply(session.id)
    b = await make.reply(session.id)
    await store.record_vote(a.id, 1, UP)
    clicks = [
        VoteClick(reply_id=a.id, user_id=1, value=DOWN),  # switch
        VoteClick(reply_id=a.id, user_id=2, value=UP),  # vote
        VoteClick(reply_id=404, user_id=2, value=UP),  # a reply that is gone
        VoteClick(reply_id=b.id, user_id=2, value=DOWN),
        VoteClick(reply_id=b.id, user_id=2, value=DOWN),  # withdraw, in the same batch
        VoteClick(reply_id=a.id, user_id=1, value=UP),  # switch back
    ]

    outcomes = await store.record_votes(clicks)

    assert isinstance(outcomes[2], RecordNotFoundError)
    done = [o for o in outcomes if not isinstance(o, RecordNotFoundError)]
    assert [(o.reply_id, o.previous, o.current, o.up, o.down) for o in done] == [
        (a.id, UP, DOWN, 0, 1),
        (a.id, None, UP, 1, 1),
        (b.id, None, DOWN, 0, 1),
        (b.id, DOWN, None, 0, 0),
        (a.id, DOWN, UP, 2, 0),
    ]
    assert {(v.reply_id, v.user_id, v.value) for v in await store.votes(session.id)} == {
        (a.id, 1, UP),
        (a.id, 2, UP),
    }


async def test_a_vote_target_has_the_reply_its_session_and_the_guild_settings(store, make):
    session = await make.session(guild_id=5)
    reply = await make.reply(session.id, kind=ReplyKind.ANSWER)
    await store.save_guild_settings(GuildSettings(guild_id=5, vote_grace_s=30))
    await store.set_session_status(session.id, SessionStatus.FINISHED)

    target = await store.vote_target(reply.id)

    assert target is not None
    assert (target.reply_id, target.session_id, target.guild_id) == (reply.id, session.id, 5)
    assert (target.kind, target.session_status) == (ReplyKind.ANSWER, SessionStatus.FINISHED)
    assert target.ended_at is not None
    assert target.settings.vote_grace_s == 30
    assert await store.vote_target(404) is None


async def test_a_vote_target_in_a_guild_without_settings_gets_the_defaults(store, make):
    reply = await make.reply((await make.session(guild_id=6)).id)

    target = await store.vote_target(reply.id)

    assert target is not None
    assert target.settings == GuildSettings(guild_id=6)


async def test_questions_queue_until_marked_answered(store, make, clock):
    session = await make.session()
    first = await store.add_question(session.id, 7, "Ada", "What about mustard?")
    asked_at = clock.current
    second = await store.add_question(session.id, None, "Anonymous", "Is soup a drink?")
    other = await store.add_question((await make.session()).id, 8, "Bob", "Elsewhere?")

    assert (first.session_id, first.user_id, first.display_name) == (session.id, 7, "Ada")
    assert first.text == "What about mustard?"
    assert first.asked_at == asked_at
    assert first.answered_in_round is None
    assert await store.pending_questions(session.id) == [first, second]

    assert await store.mark_questions_answered([first.id, other.id], 2) == 2
    assert await store.pending_questions(session.id) == [second]
    assert await store.pending_questions(other.session_id) == []
    answered = await store.questions(session.id)
    assert [(q.id, q.answered_in_round) for q in answered] == [(first.id, 2), (second.id, None)]


async def test_an_answered_question_keeps_its_first_round(store, make, raw_sql):
    session = await make.session()
    question = await store.add_question(session.id, 7, "Ada", "Why?")
    await store.mark_questions_answered([question.id], 1)

    assert await store.mark_questions_answered([question.id], 3) == 0
    assert await store.mark_questions_answered([], 3) == 0
    # Read back through a raw connection: no method lists answered questions.
    [(round_number,)] = await raw_sql(
        "SELECT answered_in_round FROM audience_questions WHERE id = ?", (question.id,)
    )
    assert round_number == 1


async def test_a_member_may_have_only_so_many_questions_waiting(store, make):
    session, elsewhere = await make.session(), await make.session()
    await store.add_question(session.id, 7, "Ada", "One?", max_pending=2)
    await store.add_question(elsewhere.id, 7, "Ada", "Elsewhere?", max_pending=2)
    await store.add_question(session.id, 8, "Bob", "Mine?", max_pending=2)
    second = await store.add_question(session.id, 7, "Ada", "Two?", max_pending=2)

    with pytest.raises(QuestionLimitError) as refused:
        await store.add_question(session.id, 7, "Ada", "Three?", max_pending=2)
    assert refused.value.message.startswith(
        f"You already have 2 questions waiting for council #{session.id}"
    )

    await store.mark_questions_answered([second.id], 1)
    await store.add_question(session.id, 7, "Ada", "Three?", max_pending=2)
    await store.add_question(session.id, 7, "Ada", "Host's own.")  # no limit given
    asked = [q.text for q in await store.questions(session.id) if q.user_id == 7]
    assert asked == ["One?", "Two?", "Three?", "Host's own."]


async def test_quick_repeats_cannot_pass_the_question_limit_together(store, make):
    session = await make.session()
    outcomes = await asyncio.gather(
        *(store.add_question(session.id, 7, "Ada", f"Q{n}?", max_pending=3) for n in range(6)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, QuestionLimitError) for o in outcomes) == 3
    assert len(await store.pending_questions(session.id)) == 3
