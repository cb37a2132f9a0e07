"""The leaderboard and the history of councils as text boards that fit one Discord embed."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot import graphemes
from bot.council.figures import count, decimal
from bot.council.standings import By, PastSession, Standing, Standings, period_label
from bot.i18n import Text, localize, t, tn
from bot.render.transcript import status_name

TITLE_MAX = 256
DESCRIPTION_MAX = 4096
LEADERBOARD_ROWS = 20
"""Rows shown (and charted) at most; a chart row is 60 px tall."""

TIE_MARK = "≈"
_TOPIC_CHARS = 80
_NAME_CHARS = 60
# Inside a line, only these change how text shows: emphasis, code, spoilers, links, mentions.
_MARKDOWN = re.compile(r"([\\*_~`|\[\]<])")
_WHAT: dict[By, Text] = {
    "model": t("council.board.what.models"),
    "persona": t("council.board.what.personas"),
}
# The first words of the leaderboard: what was rated, and from how many rounds and votes.
_RATED: dict[By, str] = {
    "model": "council.board.rated-models",
    "persona": "council.board.rated-personas",
}
_SCOPES = {"server": t("council.board.scope.server"), "all": t("council.board.scope.all")}


@dataclass(frozen=True, slots=True)
class Board:
    """What one embed shows: title, description (within Discord's limits) and footer."""

    title: str
    description: str
    footer: str = ""


def render_leaderboard(standings: Standings, by: By, *, locale: str | None = None) -> Board:
    """The table as ranked lines: rank, name, rating, 95% interval, councils and votes.

    Entries whose interval overlaps the one above are marked as tied with it. At most
    `LEADERBOARD_ROWS` rows are listed. The scope is the standings' own: one server's councils,
    or every server's when they have no guild.

    Args:
        standings: Both tables and what they were built from.
        by: Which table to show.
        locale: The language of the bot's words and numbers (a public board: the server's).
    """

    def say(text: Text) -> str:
        return localize(text, locale)

    table = standings.table(by)
    scope = _SCOPES["all" if standings.guild_id is None else "server"]
    title = t(
        "council.board.leaderboard.title",
        what=_WHAT[by],
        scope=scope,
        period=period_label(standings.period),
    )
    if not table:
        return Board(
            title=_clip(say(title), TITLE_MAX), description=say(t("council.board.no-ratings"))
        )
    rated = t(
        _RATED[by],
        rounds=_counted("council.board.in-rounds", standings.rounds, locale),
        councils=_counted("council.board.of-councils", standings.sessions, locale),
        votes=_counted("council.board.votes", standings.votes, locale),
    )
    lines = [f"{say(rated)} {say(t('council.board.scale'))}", ""]
    lines += [_standing_line(row, locale) for row in table[:LEADERBOARD_ROWS]]
    if len(table) > LEADERBOARD_ROWS:
        more = count(len(table) - LEADERBOARD_ROWS, locale)
        lines.append(say(t("council.board.more", number=more)))
    minds = standings.mind_changes(by)
    if minds:
        shifts = sorted(minds.items(), key=lambda item: (-item[1][1] / item[1][0], item[0]))
        changes = " · ".join(
            say(
                t(
                    "council.board.mind-change",
                    name=name,
                    changed=count(changed, locale),
                    stated=count(stated, locale),
                )
            )
            for name, (stated, changed) in shifts
        )
        lines += ["", say(t("council.board.mind-changes", changes=changes))]
    if any(row.is_tied_with_above for row in table[:LEADERBOARD_ROWS]):
        lines += ["", f"{TIE_MARK} {say(t('council.board.tie-legend'))}"]
    return Board(
        title=_clip(say(title), TITLE_MAX),
        description=_clip("\n".join(lines), DESCRIPTION_MAX),
        footer=say(t("council.board.leaderboard.footer")),
    )


def render_history(past: Sequence[PastSession], *, locale: str | None = None) -> Board:
    """A server's recent councils, newest first: number, topic, status, date and the audience's
    winners, in `locale` (a public board: the server's)."""
    title = localize(t("council.board.history.title"), locale)
    if not past:
        return Board(title=title, description=localize(t("council.board.no-councils"), locale))
    lines = []
    for entry in past:
        topic = _escape(_clip(" ".join(entry.topic.split()), _TOPIC_CHARS))
        status = localize(status_name(entry.status), locale)
        started = f"<t:{int(entry.started_at.timestamp())}:d>"
        if entry.winners:
            outcome = "🏆 " + " & ".join(_escape(name) for name in entry.winners)
        elif entry.votes:
            outcome = localize(t("council.board.no-leader"), locale)
        else:
            outcome = localize(t("council.board.no-votes"), locale)
        lines.append(f"`#{entry.session_id}` **{topic}** · {status} · {started} · {outcome}")
    # An embed's footer shows no Markdown, so the command is given without its code marks.
    footer = localize(t("council.board.history.footer"), locale).replace("`", "")
    return Board(title=title, description=_clip("\n".join(lines), DESCRIPTION_MAX), footer=footer)


def _standing_line(row: Standing, locale: str | None) -> str:
    tie = f" {TIE_MARK}" if row.is_tied_with_above else ""
    if math.isfinite(row.low) and math.isfinite(row.high):
        interval = t(
            "council.chart.interval",
            low=decimal(row.low, locale, 0),
            high=decimal(row.high, locale, 0),
        )
    else:
        interval = t("council.chart.interval-unknown")
    name = _escape(_clip(row.name, _NAME_CHARS))
    councils = _counted("council.board.councils", row.sessions, locale)
    votes = _counted("council.board.votes", row.votes, locale)
    return (
        f"**{row.rank}.**{tie} **{name}** — **{decimal(row.rating, locale, 0)}** "
        f"({localize(interval, locale)}) · {localize(councils, locale)} · "
        f"{localize(votes, locale)}"
    )


def _counted(message_id: str, n: int, locale: str | None) -> Text:
    """A count with its noun in the plural form `n` takes, the number grouped as `locale` does."""
    return tn(message_id, n, number=count(n, locale))


def _escape(text: str) -> str:
    """Text shown as itself, not as Discord markdown."""
    return _MARKDOWN.sub(r"\\\1", text)


def _clip(text: str, limit: int) -> str:
    return graphemes.ellipsize(text, limit)
