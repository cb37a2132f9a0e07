"""Stance tracking: the footer is parsed, stripped from what is shown, and changes recorded."""

from __future__ import annotations

import pytest

from bot.council.events import TextDelta
from bot.council.models import ReplyKind
from bot.council.stance import parse_footer, strip_footer, strip_streaming_footer
from bot.render.summary import render_summary
from bot.render.transcript import render_markdown

CAUTIOUS = (
    "We should go slowly.\n"
    "[stance: cautious | claim: Cut lanes slowly | confidence: 60% | changed: no]"
)
SUPPORTIVE = (
    "Gemini convinced me.\n"
    "[stance: supportive | claim: Cut lanes now | confidence: 85% | changed: yes, because of "
    "Gemini's point about oversight]"
)


def test_a_footer_is_parsed_and_stripped():
    footer = parse_footer(SUPPORTIVE)
    assert footer.label == "supportive"
    assert footer.claim == "Cut lanes now"
    assert footer.confidence == 0.85
    assert footer.says_changed
    assert footer.reason == "Gemini's point about oversight"
    assert strip_footer(SUPPORTIVE) == "Gemini convinced me."
    assert strip_footer("Half way\n[stan") == "Half way\n[stan"
    assert strip_footer("Half way\n[stance: cau") == "Half way"
    assert parse_footer("No footer here.") is None


def test_a_footer_with_russian_words_and_english_labels_is_parsed_and_stripped():
    text = (
        "Gemini меня убедил.\n"
        "[stance: за | claim: Сокращать полосы сейчас | confidence: 85% | changed: yes, because "
        "довод Gemini про надзор]"
    )
    footer = parse_footer(text)
    assert footer.label == "за"
    assert footer.claim == "Сокращать полосы сейчас"
    assert footer.confidence == 0.85
    assert footer.reason == "довод Gemini про надзор"
    assert strip_footer(text) == "Gemini меня убедил."


def test_a_footer_written_with_full_width_punctuation_is_parsed_and_stripped():
    # Full-width [ ] : | as models writing Chinese often use them.
    text = (
        "我们应该慢慢来。\n\uff3bstance\uff1a谨慎 \uff5c claim\uff1a逐步减少车道 \uff5c "
        "confidence\uff1a60% \uff5c changed\uff1ano\uff3d"
    )
    footer = parse_footer(text)
    assert footer.label == "谨慎"
    assert footer.claim == "逐步减少车道"
    assert footer.confidence == 0.6
    assert not footer.says_changed
    assert strip_footer(text) == "我们应该慢慢来。"


async def test_stances_are_recorded_each_round_and_a_change_of_mind_is_noted(council):
    council.script_all(reply=CAUTIOUS)
    council.fake.script("deepseek-model", reply=[CAUTIOUS, SUPPORTIVE])
    run = await council.open(rounds=2)
    session = await run.run()

    first = council.requests("DeepSeek")[0].last_user_text()
    assert "[stance: <one or two words>" in first
    stances = await council.store.stances(session.id)
    assert len(stances) == 8
    moved = [s for s in stances if s.is_changed]
    assert [(s.persona, s.previous_label, s.label) for s in moved] == [
        ("DeepSeek", "cautious", "supportive")
    ]
    assert moved[0].reason == "Gemini's point about oversight"
    answers = [r for r in await council.store.replies(session.id) if r.kind is ReplyKind.ANSWER]
    assert all("[stance" not in r.text for r in answers)
    shown = [e.text for e in council.presenter.of(TextDelta)]
    assert all("[stance" not in text for text in shown)

    record = await council.store.session_record(session.id)
    summary = render_summary(record)
    field = next(f for f in summary.fields if f.name == "Changes of mind")
    assert "DeepSeek moved from cautious to supportive: Gemini's point about oversight" in (
        field.value
    )
    transcript = render_markdown(record)
    assert "**Changed position:** cautious → supportive (85% sure)" in transcript
    assert await council.store.mind_changes() == {
        "Claude": (1, 0),
        "DeepSeek": (1, 1),
        "Gemini": (1, 0),
        "Llama": (1, 0),
    }
    assert (await council.store.mind_changes(by_model=True))["deepseek-model"] == (1, 1)
    # Round two prompts carry the others' replies without their footers.
    assert "[stance" not in repr(council.requests("Claude")[1].turns()[:-1])


@pytest.mark.parametrize(
    ("streamed", "shown"),
    [
        ("Cars must go.\n[sta", "Cars must go."),
        ("Cars must go.\n[", "Cars must go."),
        ("Cars must go.\n[stance: for | ask: Cla", "Cars must go."),
        ("Cars must go. [sta", "Cars must go. [sta"),
        (
            "Cars must go.\n[a link](https://example.org)",
            "Cars must go.\n[a link](https://example.org)",
        ),
    ],
)
def test_the_first_characters_of_a_footer_are_held_back_while_streaming(streamed, shown):
    assert strip_streaming_footer(streamed) == shown
