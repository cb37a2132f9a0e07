"""The leaderboard and history boards in a Russian server: every word of the bot's in Russian.

The boards below hold Russian topics and names in Latin letters. Whatever Latin words are left
in what the bot renders, beyond those names and model ids, are the bot's own English.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

from bot.council.models import SessionStatus
from bot.council.standings import PastSession, Standing, Standings
from bot.render.standings import LEADERBOARD_ROWS, Board, render_history, render_leaderboard

T0 = datetime(2025, 3, 14, 18, 30, tzinfo=UTC)
# Names, not words: models, personas, and the rating method's source (a product's name).
NAMES = {"claude", "opus", "gemini", "pro", "model", "Claude", "Gemini", "Chatbot", "Arena"}
NBSP = "\N{NO-BREAK SPACE}"


def _standing(name: str, rating: float, low: float, high: float, **fields: object) -> Standing:
    values: dict = {
        "rank": 1,
        "name": name,
        "rating": rating,
        "low": low,
        "high": high,
        "sessions": 3,
        "rounds": 6,
        "votes": 12,
        "is_tied_with_above": False,
    }
    values.update(fields)
    return Standing(**values)


def _standings(rows: tuple[Standing, ...], **fields: object) -> Standings:
    values: dict = {
        "guild_id": 1,
        "period": "all",
        "since": None,
        "sessions": 4,
        "rounds": 9,
        "votes": 31,
        "by_model": rows,
        "by_persona": rows,
    }
    values.update(fields)
    return Standings(**values)


def english_words(board: Board) -> list[str]:
    """Latin words on the board that are not names, outside code spans."""
    text = re.sub(r"`[^`]*`", " ", "\n".join((board.title, board.description, board.footer)))
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in NAMES]


def test_a_russian_leaderboard_has_every_word_of_the_bots_in_russian() -> None:
    tied = [
        _standing(f"model-{i}", 1100 - i, 1050 - i, 1150 - i, rank=i + 1, is_tied_with_above=i > 0)
        for i in range(LEADERBOARD_ROWS + 2)
    ]
    rows = (*tied, _standing("gemini-pro", 900, -math.inf, math.inf, rank=23))
    standings = _standings(
        rows,
        guild_id=None,
        period="30d",
        mind_changes_by_model={"model-0": (4, 1)},
        mind_changes_by_persona={"model-0": (4, 1)},
    )

    boards = [render_leaderboard(standings, by, locale="ru") for by in ("model", "persona")]
    boards += [render_leaderboard(_standings(()), by, locale="ru") for by in ("model", "persona")]

    assert [w for board in boards for w in english_words(board)] == []
    by_model = boards[0]
    assert by_model.title == "Рейтинг: модели, все серверы, за последние 30 дней"
    assert boards[1].title == "Рейтинг: персоны, все серверы, за последние 30 дней"
    assert boards[2].title == "Рейтинг: модели, этот сервер, за всё время"
    assert boards[3].description.startswith("Рейтингов пока нет")
    lines = by_model.description.splitlines()
    assert lines[-1].startswith("≈ статистически на равных")
    assert lines[-1].endswith("интервалы пересекаются.")
    assert "…и ещё 3." in lines
    assert "Смены позиции: model-0 1 из 4" in lines


def test_russian_counts_take_the_plural_form_of_their_number() -> None:
    rows = (
        _standing("claude-opus", 1123.4, 1080.2, 1170.9, sessions=1, votes=1),
        _standing("Claude", 1020, 990, 1060, rank=2, sessions=2, votes=2),
        _standing("gemini-pro", 876.6, 830.0, 910.0, rank=3, sessions=5, votes=21),
    )

    for rounds, sessions, votes, said in (
        (1, 1, 1, "в 1 раунде из 1 совета (1 голос)"),
        (2, 2, 2, "в 2 раундах из 2 советов (2 голоса)"),
        (25, 5, 1234, f"в 25 раундах из 5 советов (1{NBSP}234 голоса)"),
    ):
        standings = _standings(rows, period="7d", rounds=rounds, sessions=sessions, votes=votes)
        board = render_leaderboard(standings, "model", locale="ru")
        assert board.description.startswith(f"Модели оценены по голосам зрителей {said}. 1000 —")

    assert board.title == "Рейтинг: модели, этот сервер, за последние 7 дней"
    assert board.description.splitlines()[2:5] == [
        "**1.** **claude-opus** — **1123** (от 1080 до 1171) · 1 совет · 1 голос",
        "**2.** **Claude** — **1020** (от 990 до 1060) · 2 совета · 2 голоса",
        "**3.** **gemini-pro** — **877** (от 830 до 910) · 5 советов · 21 голос",
    ]


def test_a_russian_history_names_statuses_and_outcomes_in_russian() -> None:
    past = [
        PastSession(3, "Чай или кофе?", SessionStatus.RUNNING, T0, None, 1, 0, ()),
        PastSession(2, "Поезда?", SessionStatus.FINISHED, T0, T0, 2, 4, ("Claude", "Gemini")),
        PastSession(1, "Машины?", SessionStatus.STOPPED, T0, T0, 1, 2, ()),
    ]

    board = render_history(past, locale="ru")
    empty = render_history([], locale="ru")

    stamp = f"<t:{int(T0.timestamp())}:d>"
    assert board.title == "Последние советы на этом сервере"
    assert board.description.splitlines() == [
        f"`#3` **Чай или кофе?** · идёт · {stamp} · голосов нет",
        f"`#2` **Поезда?** · завершён · {stamp} · 🏆 Claude & Gemini",
        f"`#1` **Машины?** · остановлен · {stamp} · лидера нет",
    ]
    # The footer shows no Markdown: the command as a Russian client names it, without code marks.
    assert board.footer == "/совет экспорт номер:<номер> — скачать стенограмму совета."
    assert empty.description == "Советов пока нет: начните первый командой `/совет начать`."
    assert [w for b in (board, empty) for w in english_words(b)] == []


def test_english_boards_read_as_they_always_have() -> None:
    rows = (_standing("claude-opus", 1123.4, 1080.2, 1170.9, sessions=1, votes=1234),)
    standings = _standings(rows, period="24h", rounds=1, sessions=1, votes=1234)

    leaderboard = render_leaderboard(standings, "persona", locale="en-US")
    history = render_history([], locale="en-US")

    assert leaderboard.title == "Leaderboard: personas, this server, the last 24 hours"
    assert leaderboard.description.splitlines()[0] == (
        "Personas rated from the audience's votes in 1 round of 1 council (1,234 votes). "
        "1000 is average; 400 points more means 10:1 odds of being preferred. "
        "In brackets: the 95% interval."
    )
    assert leaderboard.description.splitlines()[2] == (
        "**1.** **claude-opus** — **1123** (1080 to 1171) · 1 council · 1,234 votes"
    )
    assert leaderboard.footer == "Bradley-Terry ratings, as Chatbot Arena computes them."
    assert render_history(
        [PastSession(1, "Cars?", SessionStatus.FAILED, T0, T0, 1, 0, ())], locale="en"
    ).footer == ("/council export session:<number> downloads a council's transcript.")
    assert history.description == "No councils yet: start one with `/council start`."
