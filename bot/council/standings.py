"""Standings: the audience's votes per round, and the rated tables built from them.

`RoundVotes` is what the store aggregates for every voted round of a history; `rate` turns a
sequence of them into a Bradley-Terry table of models or personas (see `bot.council.ratings`),
and `Standings` holds both tables for a leaderboard. Pure and, for long histories, CPU-bound:
callers on the event loop run `rate` in a thread.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from bot.council import ratings
from bot.council.models import SessionStatus
from bot.i18n import Text, t

By = Literal["model", "persona"]
"""What a table ranks: the models behind the personas, or the personas themselves."""

Period = Literal["all", "30d", "7d", "24h"]
"""How far back a table counts, by when its sessions started."""

_PERIOD_LENGTHS: dict[Period, timedelta | None] = {
    "all": None,
    "30d": timedelta(days=30),
    "7d": timedelta(days=7),
    "24h": timedelta(hours=24),
}

_PERIOD_LABELS: dict[Period, Text] = {
    "all": t("council.board.period.all"),
    "30d": t("council.board.period.30d"),
    "7d": t("council.board.period.7d"),
    "24h": t("council.board.period.24h"),
}


def period_start(period: Period, now: datetime) -> datetime | None:
    """The earliest session start a table for `period` counts, or None for all time."""
    length = _PERIOD_LENGTHS[period]
    return None if length is None else now - length


def period_label(period: Period) -> Text:
    """The period in words, e.g. "the last 7 days" in English."""
    return _PERIOD_LABELS[period]


@dataclass(frozen=True, slots=True)
class EntryVotes:
    """One competing member's votes in one round: on its answers that count, summed."""

    persona: str
    model: str
    up: int
    down: int

    @property
    def net(self) -> int:
        """Up minus down votes."""
        return self.up - self.down

    @property
    def votes(self) -> int:
        """Every vote cast, either way."""
        return self.up + self.down


@dataclass(frozen=True, slots=True)
class RoundVotes:
    """A voted round of one session: every competing member that answered, in seating order."""

    session_id: int
    round_number: int
    entries: tuple[EntryVotes, ...]

    @property
    def up(self) -> int:
        """Up votes across the round."""
        return sum(e.up for e in self.entries)

    @property
    def down(self) -> int:
        """Down votes across the round."""
        return sum(e.down for e in self.entries)

    @property
    def votes(self) -> int:
        """Every vote cast in the round."""
        return self.up + self.down

    def nets(self, by: By) -> dict[str, int]:
        """Each competitor's score in this round, as `ratings.leaderboard` takes them.

        By persona, the net votes. By model, the mean net votes of the model's seats (several
        personas may run on one model), scaled by a common factor to stay whole numbers: only
        the order within a round matters to the ratings, and a model must not beat another
        merely by holding more seats.
        """
        if by == "persona":
            return {e.persona: e.net for e in self.entries}
        seats: dict[str, list[int]] = {}
        for entry in self.entries:
            seats.setdefault(entry.model, []).append(entry.net)
        scale = math.lcm(*(len(nets) for nets in seats.values())) if seats else 1
        return {model: sum(nets) * scale // len(nets) for model, nets in seats.items()}


@dataclass(frozen=True, slots=True)
class Standing:
    """One row of a table: a `ratings.RatingRow` with the sessions it was earned in.

    ``low``..``high`` is the bootstrap's 95% interval, which need not contain ``rating``; ``rank``
    is shared by statistically tied entries and ``is_tied_with_above`` says this interval
    overlaps the row above's.
    """

    rank: int
    name: str
    rating: float
    low: float
    high: float
    sessions: int
    rounds: int
    votes: int
    is_tied_with_above: bool

    def as_rating_row(self) -> ratings.RatingRow:
        """The row as `bot.render.chart.ratings_chart` draws it."""
        return ratings.RatingRow(
            name=self.name,
            rating=self.rating,
            low=self.low,
            high=self.high,
            rounds=self.rounds,
            votes=self.votes,
            rank=self.rank,
            is_tied_with_above=self.is_tied_with_above,
        )


@dataclass(frozen=True, slots=True)
class Standings:
    """Both tables for one scope and period, with the rounds, sessions and votes behind them."""

    guild_id: int | None
    period: Period
    since: datetime | None
    sessions: int
    rounds: int
    votes: int
    by_model: tuple[Standing, ...]
    by_persona: tuple[Standing, ...]
    # How often each changed its mind: name -> (stances stated after round one, changes).
    mind_changes_by_model: dict[str, tuple[int, int]] = field(default_factory=dict)
    mind_changes_by_persona: dict[str, tuple[int, int]] = field(default_factory=dict)

    def mind_changes(self, by: By) -> dict[str, tuple[int, int]]:
        """Changes of mind for the models' or the personas' table."""
        return self.mind_changes_by_model if by == "model" else self.mind_changes_by_persona

    def table(self, by: By) -> tuple[Standing, ...]:
        """The table ranking models or personas, best first."""
        return self.by_model if by == "model" else self.by_persona


@dataclass(frozen=True, slots=True)
class PastSession:
    """One council in a guild's history, with the members the audience favoured."""

    session_id: int
    topic: str
    status: SessionStatus
    started_at: datetime
    ended_at: datetime | None
    rounds: int
    votes: int
    winners: tuple[str, ...]


def rate(
    rounds: Sequence[RoundVotes], by: By, *, bootstrap_rounds: int = 200, seed: int = 0
) -> list[Standing]:
    """The table of models or personas, best first, from voted rounds.

    Competitors never compared with another (alone in every round they answered) are left
    out, as `ratings.leaderboard` leaves them. The same rounds and seed give the same table.
    """
    votes: dict[str, int] = {}
    sessions: dict[str, set[int]] = {}
    for round_votes in rounds:
        for entry in round_votes.entries:
            name = entry.persona if by == "persona" else entry.model
            votes[name] = votes.get(name, 0) + entry.votes
            sessions.setdefault(name, set()).add(round_votes.session_id)
    rows = ratings.leaderboard(
        [r.nets(by) for r in rounds], votes=votes, bootstrap_rounds=bootstrap_rounds, seed=seed
    )
    return [
        Standing(
            rank=row.rank,
            name=row.name,
            rating=row.rating,
            low=row.low,
            high=row.high,
            sessions=len(sessions.get(row.name, ())),
            rounds=row.rounds,
            votes=row.votes,
            is_tied_with_above=row.is_tied_with_above,
        )
        for row in rows
    ]
