"""The leaderboard and the history of councils as text boards that fit one Discord embed."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot import graphemes
from bot.council.standings import By, PastSession, Standing, Standings, period_label

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
LEADERBOARD_ROWS = 20
"""Rows shown (and charted) at most; a chart row is 60 px tall."""

TIE_MARK = "≈"
_TOPIC_CHARS = 80
_NAME_CHARS = 60
# Inside a line, only these change how text shows: emphasis, code, spoilers, links, mentions.
_MARKDOWN = re.compile(r"([\\*_~`|\[\]<])")


@dataclass(frozen=True, slots=True)
class Board:
    """What one embed shows: title, description (within Discord's limits) and footer."""

    title: str
    description: str
    footer: str = ""


def render_leaderboard(standings: Standings, by: By, *, scope: str) -> Board:
    """The table as ranked lines: rank, name, rating, 95% interval, councils and votes.

    Entries whose interval overlaps the one above are marked as tied with it. At most
    `LEADERBOARD_ROWS` rows are listed.

    Args:
        standings: Both tables and what they were built from.
        by: Which table to show.
        scope: Where the votes come from, in words ("this server", "all servers").
    """
    table = standings.table(by)
    what = "Models" if by == "model" else "Personas"
    title = f"Leaderboard: {what.lower()}, {scope}, {period_label(standings.period)}"
    if not table:
        return Board(
            title=title,
            description=(
                "No ratings yet: a rating needs a round in which the audience voted on the "
                "answers of at least two members. Vote with 👍 and 👎 under each reply."
            ),
        )
    lines = [
        f"{what} rated from the audience's votes in {_count(standings.rounds, 'round')} of "
        f"{_count(standings.sessions, 'council')} ({_count(standings.votes, 'vote')}). "
        "1000 is average; 400 points more means 10:1 odds of being preferred. "
        "In brackets: the 95% interval.",
        "",
    ]
    lines += [_standing_line(row) for row in table[:LEADERBOARD_ROWS]]
    if len(table) > LEADERBOARD_ROWS:
        lines.append(f"…and {len(table) - LEADERBOARD_ROWS} more.")
    minds = standings.mind_changes(by)
    if minds:
        shifts = sorted(minds.items(), key=lambda item: (-item[1][1] / item[1][0], item[0]))
        lines += [
            "",
            "Changes of mind: "
            + " · ".join(f"{name} {changed} of {stated}" for name, (stated, changed) in shifts),
        ]
    if any(row.is_tied_with_above for row in table[:LEADERBOARD_ROWS]):
        lines += ["", f"{TIE_MARK} statistically tied with the entry above: the intervals overlap."]
    return Board(
        title=_clip(title, TITLE_MAX),
        description=_clip("\n".join(lines), DESCRIPTION_MAX),
        footer="Bradley-Terry ratings, as Chatbot Arena computes them.",
    )


def render_history(past: Sequence[PastSession], *, scope: str = "this server") -> Board:
    """Recent councils, newest first: number, topic, status, date and the audience's winners."""
    title = f"Recent councils in {scope}"
    if not past:
        return Board(title=title, description="No councils yet: start one with `/council start`.")
    lines = []
    for entry in past:
        topic = _escape(_clip(" ".join(entry.topic.split()), _TOPIC_CHARS))
        started = f"<t:{int(entry.started_at.timestamp())}:d>"
        if entry.winners:
            outcome = "🏆 " + " & ".join(_escape(name) for name in entry.winners)
        elif entry.votes:
            outcome = "no member ahead"
        else:
            outcome = "no votes"
        lines.append(f"`#{entry.session_id}` **{topic}** · {entry.status} · {started} · {outcome}")
    return Board(
        title=title,
        description=_clip("\n".join(lines), DESCRIPTION_MAX),
        footer="/council export session:<number> downloads a council's transcript.",
    )


def _standing_line(row: Standing) -> str:
    tie = f" {TIE_MARK}" if row.is_tied_with_above else ""
    if math.isfinite(row.low) and math.isfinite(row.high):
        interval = f"{row.low:.0f} to {row.high:.0f}"
    else:
        interval = "interval unknown"
    name = _escape(_clip(row.name, _NAME_CHARS))
    return (
        f"**{row.rank}.**{tie} **{name}** — **{row.rating:.0f}** ({interval}) · "
        f"{_count(row.sessions, 'council')} · {_count(row.votes, 'vote')}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _escape(text: str) -> str:
    """Text shown as itself, not as Discord markdown."""
    return _MARKDOWN.sub(r"\\\1", text)


def _clip(text: str, limit: int) -> str:
    return graphemes.ellipsize(text, limit)
