"""The leaderboard and history services, and the standings maths under them, on a real store."""

from __future__ import annotations

import math
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot import standings
from bot.council.models import NewReply, NewSession, SessionStatus, VoteValue
from bot.council.standings import EntryVotes, RoundVotes, period_start, rate
from bot.store.store import Store
from tests.records import Make

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MODELS = {"Claude": "claude-opus", "Gemini": "gemini-pro", "Llama": "llama-70b"}
GUILD = 10


class Clock:
    def __init__(self) -> None:
        self.current = NOW

    def __call__(self) -> datetime:
        return self.current


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def store(tmp_path, clock) -> AsyncIterator[Store]:
    async with Store.open(tmp_path / "council.db", now=clock) as opened:
        yield opened


async def _council(store, rounds, *, guild_id=GUILD, topic="Topic", models=MODELS):
    """A finished session; `rounds` lists each round's {persona: (up, down)}."""
    personas = list(dict.fromkeys(p for nets in rounds for p in nets))
    session = await store.create_session(NewSession(topic=topic, guild_id=guild_id))
    await store.add_members(
        session.id,
        [Make.member(session.id, i, p, model=models[p]) for i, p in enumerate(personas)],
    )
    for number, votes in enumerate(rounds, start=1):
        await store.start_round(session.id, number)
        for persona, (ups, downs) in votes.items():
            reply = await store.add_reply(
                NewReply(session_id=session.id, round_number=number, persona=persona, text="…")
            )
            for user in range(ups):
                await store.record_vote(reply.id, 1000 + user, VoteValue.UP)
            for user in range(downs):
                await store.record_vote(reply.id, 2000 + user, VoteValue.DOWN)
    return await store.set_session_status(session.id, SessionStatus.FINISHED)


# --------------------------------------------------------------------------- the pure parts


@pytest.mark.parametrize(
    ("period", "start"),
    [
        ("all", None),
        ("30d", NOW - timedelta(days=30)),
        ("7d", NOW - timedelta(days=7)),
        ("24h", NOW - timedelta(hours=24)),
    ],
)
def test_a_period_counts_back_from_now(period, start) -> None:
    assert period_start(period, NOW) == start


def test_a_model_on_two_seats_scores_the_mean_of_its_seats_not_their_sum() -> None:
    voted = RoundVotes(
        1,
        1,
        (
            EntryVotes("Claude", "claude-opus", 3, 0),
            EntryVotes("Sonnet", "claude-opus", 0, 1),
            EntryVotes("Gemini", "gemini-pro", 2, 0),
            EntryVotes("Gemma", "gemini-pro", 1, 0),
            EntryVotes("Gemini Flash", "gemini-pro", 0, 0),
        ),
    )
    # Means 1 and 1: a tie, though claude-opus holds more net votes in all (2 against 3).
    assert voted.nets("model") == {"claude-opus": 6, "gemini-pro": 6}
    assert voted.nets("persona") == {
        "Claude": 3,
        "Sonnet": -1,
        "Gemini": 2,
        "Gemma": 1,
        "Gemini Flash": 0,
    }


def test_rate_counts_each_entrys_sessions_rounds_and_votes() -> None:
    rounds = [
        RoundVotes(1, 1, (EntryVotes("A", "m", 2, 0), EntryVotes("B", "n", 0, 1))),
        RoundVotes(1, 2, (EntryVotes("A", "m", 1, 0), EntryVotes("B", "n", 0, 0))),
        RoundVotes(2, 1, (EntryVotes("A", "m", 0, 0), EntryVotes("C", "n", 1, 0))),
    ]

    rows = {row.name: row for row in rate(rounds, "persona", bootstrap_rounds=0)}
    models = {row.name: row for row in rate(rounds, "model", bootstrap_rounds=0)}

    assert {n: (r.sessions, r.rounds, r.votes) for n, r in rows.items()} == {
        "A": (2, 3, 3),
        "B": (1, 2, 1),
        "C": (1, 1, 1),
    }
    assert {n: (r.sessions, r.rounds, r.votes) for n, r in models.items()} == {
        "m": (2, 3, 3),
        "n": (2, 3, 2),
    }


# --------------------------------------------------------------------------- leaderboard


async def test_two_rounds_won_by_one_member_give_the_hand_computed_ratings(store):
    await _council(store, [{"Claude": (2, 0), "Gemini": (1, 1)}])
    await _council(store, [{"Claude": (1, 0), "Gemini": (0, 0)}])

    board = await standings.leaderboard(store, guild_id=GUILD, now=lambda: NOW)

    # Claude won both rounds; the fit's one virtual tied game per pair makes the odds
    # 2.5 : 0.5 = 5 : 1, and the ratings sit 400 * log10(5) apart around 1000.
    gap = 400 * math.log10(5)
    [claude, gemini] = board.by_persona
    assert (claude.name, gemini.name) == ("Claude", "Gemini")
    assert claude.rating == pytest.approx(1000 + gap / 2)
    assert gemini.rating == pytest.approx(1000 - gap / 2)
    assert (claude.rank, gemini.rank, gemini.is_tied_with_above) == (1, 2, False)
    assert (claude.sessions, claude.votes, gemini.votes) == (2, 3, 2)
    assert [(r.name, round(r.rating, 6)) for r in board.by_model] == [
        ("claude-opus", round(claude.rating, 6)),
        ("gemini-pro", round(gemini.rating, 6)),
    ]
    assert (board.sessions, board.rounds, board.votes) == (2, 2, 5)
    assert board.table("persona") is board.by_persona


async def test_overlapping_intervals_mark_entries_as_tied_with_the_one_above(store):
    for winner, loser in [("Claude", "Gemini"), ("Gemini", "Claude"), ("Claude", "Gemini")]:
        await _council(store, [{winner: (1, 0), loser: (0, 0)}])

    board = await standings.leaderboard(store, guild_id=GUILD, now=lambda: NOW)

    first, second = board.by_persona
    assert first.rating > second.rating
    assert first.low < second.high
    assert second.is_tied_with_above
    assert first.rank == second.rank == 1


async def test_the_leaderboard_counts_only_the_guild_and_period_asked_for(store, clock):
    clock.current = NOW - timedelta(days=10)
    await _council(
        store, [{"Claude": (0, 3), "Gemini": (3, 0)}, {"Claude": (0, 0), "Gemini": (1, 0)}]
    )
    clock.current = NOW - timedelta(hours=1)
    await _council(store, [{"Claude": (1, 0), "Gemini": (0, 0)}])
    await _council(store, [{"Llama": (5, 0), "Gemini": (0, 0)}], guild_id=GUILD + 1)

    def names(board):
        return [row.name for row in board.by_persona]

    week = await standings.leaderboard(store, guild_id=GUILD, period="7d", now=lambda: NOW)
    ever = await standings.leaderboard(store, guild_id=GUILD, period="all", now=lambda: NOW)
    everywhere = await standings.leaderboard(store, guild_id=None, period="24h", now=lambda: NOW)

    assert (names(week), week.sessions, week.since) == (
        ["Claude", "Gemini"],
        1,
        NOW - timedelta(days=7),
    )
    assert (names(ever), ever.sessions, ever.since) == (["Gemini", "Claude"], 2, None)
    assert (sorted(names(everywhere)[:2]), names(everywhere)[2]) == (["Claude", "Llama"], "Gemini")
    assert everywhere.sessions == 2


async def test_a_leaderboard_without_votes_has_empty_tables(store):
    await _council(store, [{"Claude": (0, 0), "Gemini": (0, 0)}])

    board = await standings.leaderboard(store, guild_id=GUILD)

    assert (board.by_model, board.by_persona, board.sessions, board.votes) == ((), (), 0, 0)


async def test_ratings_are_fitted_off_the_event_loop(store, monkeypatch):
    await _council(store, [{"Claude": (1, 0), "Gemini": (0, 0)}])
    threads: list[int] = []

    def spying_rate(*args, **kwargs):
        threads.append(threading.get_ident())
        return rate(*args, **kwargs)

    monkeypatch.setattr(standings, "rate", spying_rate)
    await standings.leaderboard(store, guild_id=GUILD)

    assert len(threads) == 2
    assert threading.get_ident() not in threads


# --------------------------------------------------------------------------- history


async def test_history_lists_the_guilds_councils_newest_first_with_their_winners(store):
    won = await _council(store, [{"Claude": (2, 0), "Gemini": (1, 0)}], topic="Won")
    shared = await _council(store, [{"Claude": (1, 0), "Gemini": (1, 0)}], topic="Shared")
    await _council(store, [{"Claude": (9, 0), "Gemini": (0, 0)}], guild_id=GUILD + 1)
    booed = await _council(store, [{"Claude": (0, 2), "Gemini": (0, 1)}], topic="Booed")
    silent = await _council(store, [{"Claude": (0, 0), "Gemini": (0, 0)}], topic="Silent")

    past = await standings.history(store, GUILD)

    assert [(p.session_id, p.topic, p.winners, p.votes) for p in past] == [
        (silent.id, "Silent", (), 0),
        (booed.id, "Booed", (), 3),
        (shared.id, "Shared", ("Claude", "Gemini"), 2),
        (won.id, "Won", ("Claude",), 3),
    ]
    assert all(p.status is SessionStatus.FINISHED and p.rounds == 1 for p in past)
    assert past[0].started_at == NOW


async def test_history_lists_at_most_the_limit(store):
    for topic in ("One", "Two", "Three"):
        await _council(store, [{"Claude": (0, 0), "Gemini": (0, 0)}], topic=topic)

    assert [p.topic for p in await standings.history(store, GUILD, limit=2)] == ["Three", "Two"]
    with pytest.raises(ValueError, match="limit"):
        await standings.history(store, GUILD, limit=0)
