"""A Russian council's summary, opening, charts, transcript and page carry no English of the bot's.

The council below spoke Russian: its topic, replies, stances, synthesis and the engine's own
stored words are Russian. Whatever Latin words are left in what the bot renders for it, beyond
the names of its members, models and providers, are the bot's own English.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from bot.config import CouncilConfig, parse_config
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
    Stance,
)
from bot.council.spec import build_spec
from bot.discord_ui.embeds import opening_embed
from bot.render.chart import ChartBar, ratings_chart, votes_chart
from bot.render.html import render_html
from bot.render.summary import render_summary
from bot.render.text import SHIPPED_FONTS, FontSet
from bot.render.transcript import render_markdown
from tests.render.test_chart import _row

T0 = datetime(2025, 3, 14, 18, 30, tzinfo=UTC)
SEATS = (
    ("Claude", "claude-sonnet-4-5", "anthropic"),
    ("DeepSeek", "deepseek-chat", "deepseek"),
    ("Gemini", "gemini-pro", "gemini"),
)
# Names, not words: members (and the page's initials for them), models, providers, the
# product and the platform, and the time zone.
NAMES = {w for seat in SEATS for part in seat for w in re.findall(r"[A-Za-z]+", part)} | {
    "DS",
    "Council",
    "Discord",
    "UTC",
}
SYNTHESIS = {
    "coverage": "в каждом раунде ответили все участники (2)",
    "synthesis": {
        "consensus": ["Центрам городов нужен хороший транспорт."],
        "disagreements": ["DeepSeek за запрет, Gemini за плату за въезд."],
        "open_questions": ["Как решить вопрос доставки?"],
        "cautions": ["Запрет без альтернатив бьёт по бедным."],
        "changed_from_before": ["Теперь все за поэтапный подход."],
        "verdict": "Убирать машины постепенно, сначала развивая транспорт.",
        "ranking": ["DeepSeek (1,50 балла за бюллетень)", "Gemini (0,50 балла за бюллетень)"],
        "author": "Claude",
    },
    "ranking": [
        {"persona": "DeepSeek", "points": 3, "ballots": 2},
        {"persona": "Gemini", "points": 1, "ballots": 2},
    ],
}


def russian_council(locale: str = "ru") -> SessionRecord:
    """A finished review council held in Russian, with every part a summary can show."""
    session = Session(
        id=42,
        topic="Запретить ли машины в центре города?",
        format="review",
        rounds=2,
        chair="Claude",
        language="ru",
        locale=locale,
        guild_id=1,
        status=SessionStatus.STOPPED,
        stop_reason="Остановлено по решению ведущего.",
        started_at=T0,
        ended_at=T0 + timedelta(minutes=4, seconds=12),
        synthesis_json=json.dumps(SYNTHESIS),
    )
    members = tuple(
        Member(
            session_id=42,
            position=i,
            persona=name,
            model_key=name.lower(),
            model=model,
            provider=provider,
            role=MemberRole.CHAIR if name == "Claude" else MemberRole.MEMBER,
        )
        for i, (name, model, provider) in enumerate(SEATS)
    )

    def reply(reply_id: int, number: int, persona: str, text: str, **fields: object) -> Reply:
        return Reply.model_validate(
            {
                "id": reply_id,
                "session_id": 42,
                "round_number": number,
                "persona": persona,
                "text": text,
                "created_at": T0 + timedelta(seconds=30 * reply_id),
                "input_tokens": 1200,
                "output_tokens": 150,
                "cost_usd": 0.0021,
                "latency_s": 3.25,
                **fields,
            }
        )

    replies = (
        reply(1, 1, "Claude", "Каждый: да или нет, и почему?", kind=ReplyKind.CHAIR),
        reply(2, 1, "DeepSeek", "Да, **постепенно**."),
        reply(3, 1, "Gemini", "Нет, лучше плата за въезд."),
        reply(4, 2, "DeepSeek", "Запрет, но по этапам.", is_flagged=True),
        reply(
            5,
            2,
            "Gemini",
            "",
            status=ReplyStatus.FAILED,
            error_kind="timeout",
            error_message="Gemini: ответ занял больше 120 с",  # noqa: RUF001  (the catalog's)
        ),
        reply(6, 2, "Claude", json.dumps(SYNTHESIS["synthesis"]), kind=ReplyKind.SYNTHESIS),
    )
    rounds = tuple(
        Round(session_id=42, number=n, started_at=T0, first_message_id=100 + n) for n in (1, 2)
    )
    questions = (
        AudienceQuestion(
            id=1,
            session_id=42,
            user_id=5,
            display_name="Борис",
            text="Доставка тоже?",
            asked_at=T0,
            answered_in_round=2,
        ),
        AudienceQuestion(
            id=2, session_id=42, user_id=6, display_name="Карина", text="Велосипеды?", asked_at=T0
        ),
    )
    stances = (
        Stance(session_id=42, round_number=1, persona="DeepSeek", label="запрет", confidence=0.7),
        Stance(
            session_id=42,
            round_number=2,
            persona="DeepSeek",
            label="поэтапный запрет",
            previous_label="запрет",
            is_changed=True,
            reason="пример Стокгольма",
            claim="по этапам",
            confidence=0.8,
        ),
    )
    return SessionRecord(
        session=session,
        members=members,
        rounds=rounds,
        replies=replies,
        votes={2: (3, 1), 3: (1, 2), 4: (2, 0)},
        questions=questions,
        stances=stances,
    )


def english_words(text: str) -> list[str]:
    """Latin words in `text` that are not names, outside code spans and links."""
    text = re.sub(r"`[^`]*`|https?://\S+", " ", text)
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in NAMES]


def page_text(page: str) -> str:
    """What a reader of the HTML page sees and hears: its text, title, labels and alt text."""
    said = re.findall(r'(?:aria-label|title|alt)="([^"]*)"', page)
    body = re.sub(r"<style>.*?</style>", " ", page, flags=re.DOTALL)
    body = re.sub(r"<[^>]+>", " ", body)
    return html.unescape(" ".join([body, *said]))


def summary_text(record: SessionRecord) -> list[str]:
    doc = render_summary(
        record, jump_url="https://discord.com/channels/1/2", unshown=["Claude, раунд 1"]
    )
    return [doc.title, doc.description, doc.footer] + [
        part for f in doc.fields for part in (f.name, f.value)
    ]


def test_a_russian_summary_has_every_word_of_the_bots_in_russian() -> None:
    parts = summary_text(russian_council())

    assert [w for part in parts for w in english_words(part)] == []
    doc = render_summary(russian_council())
    assert doc.title == "Совет №42: итоги"
    for field in doc.fields:
        assert re.search("[\u0430-\u044f\u0451]", (field.name + field.value).lower()), field
    assert "2 700 токенов" in "\n".join(parts).replace("\xa0", " ")  # Babel's Russian grouping
    assert "0,0042 $" in "\n".join(parts)


def test_the_same_council_summarised_in_english_reads_as_today() -> None:
    doc = render_summary(russian_council(locale="en"))

    assert doc.title == "Council #42: summary"
    assert "Agreement" in "\n".join(f.value for f in doc.fields)
    assert english_words("\n".join(summary_text(russian_council(locale="en"))))


def test_a_summary_follows_an_explicit_locale_over_the_councils() -> None:
    doc = render_summary(russian_council(locale="en"), locale="ru")

    assert doc.title == "Совет №42: итоги"


@pytest.mark.parametrize("render", [render_markdown, render_html], ids=["markdown", "html"])
def test_a_russian_transcript_and_page_have_their_headings_in_russian(render) -> None:
    text = render(russian_council())
    readable = page_text(text) if render is render_html else text

    assert english_words(readable) == []
    assert "Раунд 1" in readable
    english = render(russian_council(locale="en"))
    assert "Round 1" in english


def _config() -> CouncilConfig:
    raw = {
        "providers": {"local": {"kind": "openai", "base_url": "http://127.0.0.1:9/v1"}},
        "models": {name.lower(): {"provider": "local", "model": model} for name, model, _ in SEATS},
        "personas": [{"name": name, "model": name.lower()} for name, _, _ in SEATS],
        "presets": {"default": {"members": [name for name, _, _ in SEATS], "chair": "Claude"}},
    }
    return parse_config(raw, "council.toml", {})


@pytest.mark.parametrize(
    ("language", "server", "expected"),
    [("ru", None, "ru"), ("", "ru", "ru"), ("ru", "en-US", "ru"), ("", "en-GB", "en"),
     ("de", "ru", "ru"), ("en-US", "ru", "en"), ("", None, "en"), ("de", "fr", "en")],
)  # fmt: skip
def test_a_council_speaks_its_language_else_its_servers_else_english(language, server, expected):
    spec = build_spec(_config(), "Тема", language=language or None, server_locale=server)

    assert spec.locale == expected


def test_a_russian_opening_embed_is_in_russian() -> None:
    spec = build_spec(_config(), "Запретить ли машины?", language="ru", rounds=3)

    embed = opening_embed(spec, _config(), host="ведущий", locale=spec.locale)

    assert embed.description is not None
    assert embed.description.startswith(
        "Совет в формате **параллельный**: 3 участника, 3 раунда; ведущий — ведущий."
    )
    shown = [embed.title or "", embed.description]
    shown += [part for f in embed.fields for part in (f.name or "", f.value or "")]
    assert [w for part in shown for w in english_words(part)] == []
    english = opening_embed(spec, _config(), host="host", locale="en")
    assert (english.description or "").startswith(
        "A **parallel** council of 3 in 3 rounds, hosted by host."
    )


class RecordingFonts(FontSet):
    """The shipped fonts, noting every text a chart draws."""

    def __init__(self) -> None:
        super().__init__(SHIPPED_FONTS)
        self.drawn: list[str] = []

    def draw(self, draw, xy, text, **options) -> None:  # type: ignore[no-untyped-def]
        self.drawn.append(text)
        super().draw(draw, xy, text, **options)


def test_russian_charts_label_their_bars_legends_and_intervals_in_russian() -> None:
    votes, ratings = RecordingFonts(), RecordingFonts()
    bars = [ChartBar("Claude", "#D97757", 5, 2), ChartBar("Gemini", "#1A73E8", 3, 4)]
    rows = [_row("Claude", 1010, 990, 1030), _row("Gemini", 990, float("-inf"), 1000, rank=2)]

    votes_chart(bars, title="Голоса зрителей", locale="ru", fonts=votes)
    ratings_chart(rows, title="Рейтинг", locale="ru", fonts=ratings)

    assert "за 5" in votes.drawn
    assert "против 4" in votes.drawn
    assert [w for text in votes.drawn + ratings.drawn for w in english_words(text)] == []
    english = RecordingFonts()
    votes_chart(bars, title="Audience votes", fonts=english)
    assert "up 5" in english.drawn
    assert "coloured bar: up votes    grey bar: down votes" in english.drawn
