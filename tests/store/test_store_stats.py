"""round_votes: the votes behind the leaderboards, aggregated over many sessions in SQL."""

from __future__ import annotations

import random
import sqlite3
from contextlib import closing
from datetime import timedelta

import pytest

from bot.council.models import MemberRole, ReplyKind, ReplyStatus, VoteValue
from bot.council.standings import EntryVotes, RoundVotes
from bot.council.tally import round_nets
from bot.store import Store, stats

UP, DOWN = VoteValue.UP, VoteValue.DOWN
SEATS = (("Gemini", "gemini-pro"), ("Claude", "claude-opus"), ("Llama", "llama-70b"))


async def _council(make, store, **fields):
    """A session seating Gemini, Claude and Llama (in that order) on their models."""
    session = await make.session(**fields)
    await store.add_members(
        session.id,
        [
            make.member(session.id, position, persona, model=model)
            for position, (persona, model) in enumerate(SEATS)
        ],
    )
    return session


async def _vote(store, reply, ups=0, downs=0):
    for user in range(ups):
        await store.record_vote(reply.id, 100 + user, UP)
    for user in range(downs):
        await store.record_vote(reply.id, 200 + user, DOWN)


async def test_each_members_votes_in_a_round_are_summed_in_seating_order(store, make):
    session = await _council(make, store)
    for persona, ups, downs in [("Llama", 0, 2), ("Claude", 3, 1), ("Gemini", 0, 0)]:
        await _vote(store, await make.reply(session.id, persona=persona), ups, downs)

    [voted] = await store.round_votes()

    assert voted == RoundVotes(
        session.id,
        1,
        (
            EntryVotes("Gemini", "gemini-pro", 0, 0),
            EntryVotes("Claude", "claude-opus", 3, 1),
            EntryVotes("Llama", "llama-70b", 0, 2),
        ),
    )
    assert (voted.up, voted.down, voted.votes) == (3, 3, 6)
    assert voted.nets("persona") == {"Gemini": 0, "Claude": 2, "Llama": -2}


async def test_flagged_failed_and_non_answer_replies_do_not_count(store, make):
    session = await _council(make, store)
    counted = await make.reply(session.id, persona="Claude")
    await _vote(store, counted, ups=1)
    flagged = await make.reply(session.id, persona="Gemini")
    await _vote(store, flagged, ups=5)
    await store.flag_reply(flagged.id)
    failed = await make.reply(session.id, persona="Llama", status=ReplyStatus.FAILED, text="")
    await _vote(store, failed, ups=4)
    for kind in (ReplyKind.CHAIR, ReplyKind.REVIEW, ReplyKind.SYNTHESIS):
        await _vote(store, await make.reply(session.id, persona="Llama", kind=kind), downs=3)

    [voted] = await store.round_votes()

    assert voted.entries == (EntryVotes("Claude", "claude-opus", 1, 0),)


async def test_a_chair_who_does_not_compete_is_left_out(store, make):
    session = await make.session(format="chaired", chair="Claude")
    await store.add_members(
        session.id,
        [
            make.member(session.id, 0, "Claude", role=MemberRole.CHAIR),
            make.member(session.id, 1, "Gemini"),
        ],
    )
    await _vote(store, await make.reply(session.id, persona="Claude"), ups=2)
    await _vote(store, await make.reply(session.id, persona="Gemini"), ups=1)

    [voted] = await store.round_votes()

    assert [e.persona for e in voted.entries] == ["Gemini"]


async def test_rounds_without_a_counted_vote_are_left_out(store, make):
    session = await _council(make, store)
    for persona in ("Claude", "Gemini"):
        await make.reply(session.id, round_number=1, persona=persona)
    await _vote(store, await make.reply(session.id, round_number=2, persona="Claude"), ups=1)
    await make.reply(session.id, round_number=2, persona="Gemini")
    only_flagged = await make.reply(session.id, round_number=3, persona="Claude")
    await make.reply(session.id, round_number=3, persona="Gemini")
    await _vote(store, only_flagged, downs=2)
    await store.flag_reply(only_flagged.id)

    voted = await store.round_votes()

    assert [(r.round_number, r.nets("persona")) for r in voted] == [(2, {"Claude": 1, "Gemini": 0})]


async def test_a_members_two_counted_answers_in_one_round_count_together(store, make):
    session = await _council(make, store)
    await _vote(store, await make.reply(session.id, persona="Claude"), ups=2)
    await _vote(store, await make.reply(session.id, persona="Claude"), downs=1)
    await make.reply(session.id, persona="Gemini")

    [voted] = await store.round_votes()

    assert voted.entries[:2] == (
        EntryVotes("Gemini", "gemini-pro", 0, 0),
        EntryVotes("Claude", "claude-opus", 2, 1),
    )


async def test_a_guild_filter_counts_only_that_guilds_sessions(store, make):
    ours = await _council(make, store, guild_id=1)
    theirs = await _council(make, store, guild_id=2)
    unplaced = await _council(make, store, guild_id=None)
    for session in (ours, theirs, unplaced):
        await _vote(store, await make.reply(session.id, persona="Claude"), ups=1)

    assert [r.session_id for r in await store.round_votes(guild_id=1)] == [ours.id]
    assert [r.session_id for r in await store.round_votes(guild_id=2)] == [theirs.id]
    assert [r.session_id for r in await store.round_votes()] == [ours.id, theirs.id, unplaced.id]


async def test_since_counts_only_sessions_started_at_or_after_it(store, make, clock):
    old = await _council(make, store)
    clock.current += timedelta(days=10)
    recent = await _council(make, store)
    for session in (old, recent):
        await _vote(store, await make.reply(session.id, persona="Claude"), ups=1)

    assert [r.session_id for r in await store.round_votes(since=recent.started_at)] == [recent.id]
    after = recent.started_at + timedelta(microseconds=1)
    assert await store.round_votes(since=after) == []


async def test_rounds_come_by_session_then_round_whatever_order_they_were_stored_in(store, make):
    first = await _council(make, store)
    second = await _council(make, store)
    for session, number in [(second, 2), (first, 2), (second, 1), (first, 1)]:
        await _vote(store, await make.reply(session.id, round_number=number), ups=1)

    voted = await store.round_votes()

    assert [(r.session_id, r.round_number) for r in voted] == [
        (first.id, 1),
        (first.id, 2),
        (second.id, 1),
        (second.id, 2),
    ]


async def test_round_votes_agree_with_the_per_session_tally_over_a_random_history(store, make):
    rng = random.Random(3)
    expected: list[dict[str, int]] = []
    for _ in range(6):
        session = await _council(make, store)
        for number in (1, 2, 3):
            for persona, _ in SEATS:
                reply = await make.reply(session.id, round_number=number, persona=persona)
                await _vote(store, reply, rng.randint(0, 2), rng.randint(0, 1))
        expected += round_nets(await store.session_record(session.id))

    voted = await store.round_votes()

    assert [r.nets("persona") for r in voted] == expected
    assert len(expected) > 6  # most rounds drew a vote: the comparison says something


@pytest.mark.parametrize(
    ("sql", "scans", "sorts"),
    [
        (stats._ANSWER_TALLIES, ["SCAN r"], False),
        # One guild: found through the sessions' guild index; only its replies are grouped.
        (stats._GUILD_ANSWER_TALLIES, [], True),
    ],
)
async def test_the_aggregate_reads_through_indexes(db_path, sql, scans, sorts):
    async with Store.open(db_path):
        pass
    # SQLite's plan (PostgreSQL plans by its statistics, not by the statement alone).
    # What keeps a 10,000-session history fast (about 0.7 s for 120,000 answers): every join is
    # an index lookup, and the whole history is grouped in the order it is scanned. A timed
    # test would be flaky; the query plan is what decides it.
    params = dict.fromkeys(("guild", "since", "up", "down", "answer", "ok", "member"), "x")
    with closing(sqlite3.connect(db_path)) as conn:
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params)]
    assert [step for step in plan if step.startswith("SCAN")] == scans, plan
    assert any("TEMP B-TREE" in step for step in plan) is sorts, plan
    if not scans:
        assert "SEARCH s USING INDEX sessions_by_guild_status (guild_id=?)" in plan
