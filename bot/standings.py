"""The leaderboard and the history of past councils, as services Discord and the CLI can call.

Discord-free: the cogs render what these return. Ratings are fitted off the event loop, since a
long history takes a second or more of pure Python.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime

from bot.council import tally
from bot.council.models import utcnow
from bot.council.standings import (
    PastSession,
    Period,
    RoundVotes,
    Standing,
    Standings,
    period_start,
    rate,
)
from bot.store.store import Store

HISTORY_MAX = 25
"""The most sessions `history` lists at once."""


async def leaderboard(
    store: Store,
    *,
    guild_id: int | None,
    period: Period = "all",
    now: Callable[[], datetime] = utcnow,
    bootstrap_rounds: int = 200,
) -> Standings:
    """The model and persona tables from every voted round in scope.

    Args:
        store: Where the votes are.
        guild_id: Only this guild's councils; None for every guild's.
        period: Only councils started within this period before `now`.
        now: The clock `period` counts back from.
        bootstrap_rounds: Resamples for the 95% intervals (0: no intervals).
    """
    since = period_start(period, now())
    rounds = await store.round_votes(guild_id=guild_id, since=since)
    by_model, by_persona = await asyncio.to_thread(_rate_both, rounds, bootstrap_rounds)
    return Standings(
        guild_id=guild_id,
        period=period,
        since=since,
        sessions=len({r.session_id for r in rounds}),
        rounds=len(rounds),
        votes=sum(r.votes for r in rounds),
        by_model=by_model,
        by_persona=by_persona,
        mind_changes_by_model=await store.mind_changes(guild_id, by_model=True),
        mind_changes_by_persona=await store.mind_changes(guild_id),
    )


async def history(store: Store, guild_id: int, limit: int = 10) -> list[PastSession]:
    """The guild's most recent councils, newest first, with the members the audience favoured.

    Winners are the members with the most net votes over the session, if any drew more up
    than down votes (see `tally.winners`).

    Raises:
        ValueError: `limit` is not between 1 and `HISTORY_MAX`.
    """
    if not 1 <= limit <= HISTORY_MAX:
        raise ValueError(f"limit must be between 1 and {HISTORY_MAX}, not {limit}")
    past: list[PastSession] = []
    for session in await store.list_sessions(guild_id=guild_id, limit=limit):
        record = await store.session_record(session.id)
        past.append(
            PastSession(
                session_id=session.id,
                topic=session.topic,
                status=session.status,
                started_at=session.started_at,
                ended_at=session.ended_at,
                rounds=len(record.rounds),
                votes=sum(up + down for up, down in record.votes.values()),
                winners=tuple(tally.winners(tally.net_totals(record))),
            )
        )
    return past


def _rate_both(
    rounds: Sequence[RoundVotes], bootstrap_rounds: int
) -> tuple[tuple[Standing, ...], tuple[Standing, ...]]:
    return (
        tuple(rate(rounds, "model", bootstrap_rounds=bootstrap_rounds)),
        tuple(rate(rounds, "persona", bootstrap_rounds=bootstrap_rounds)),
    )
