"""Questions between members: the `ask:` footer, the name fallback, and the per-round cap."""

from __future__ import annotations

import asyncio
import io

import pytest

from bot.console import ConsolePresenter
from bot.council.engine import MAX_QUESTIONS_PER_ROUND
from bot.council.events import MemberFinished, RoundFinished
from bot.council.prompts import directed_questions
from bot.council.stance import parse_footer, strip_footer
from bot.render.html import render_html
from bot.render.summary import render_summary
from bot.render.transcript import render_markdown
from tests.council.conftest import NAMES


def _footer(ask: str = "none") -> str:
    return f"\n[stance: for | claim: Ban them | confidence: 70% | changed: no | ask: {ask}]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Is this fair for Claude?", []),
        (
            "Claude, I disagree. What would you do?",
            [("Claude", "Claude, I disagree. What would you do?")],
        ),
        ("Claude, I disagree.\n\nWhat would you do?", []),
        ("What do you think, Claude?", [("Claude", "What do you think, Claude?")]),
        ("I want to ask Claude: why now?", [("Claude", "I want to ask Claude: why now?")]),
        ("Claude is right. Why would anyone object?", []),
        ("Gemini, you said so. Claude, I disagree. Why?", [("Claude", "Claude, I disagree. Why?")]),
    ],
)
def test_the_name_fallback_finds_only_questions_put_to_a_member(text, expected):
    assert directed_questions(text, "DeepSeek", NAMES) == expected


def test_an_ask_entry_in_the_footer_is_read_and_stripped():
    text = "Cars must go." + _footer("Claude: How do you feel coordinating us?")
    footer = parse_footer(text)
    assert footer is not None
    assert footer.label == "for"
    assert footer.asks == (("Claude", "How do you feel coordinating us?"),)
    assert strip_footer(text) == "Cars must go."
    two = parse_footer("x" + _footer("Claude: Why? | ask: Gemini: When?"))
    assert two is not None
    assert two.asks == (("Claude", "Why?"), ("Gemini", "When?"))
    assert parse_footer("x" + _footer()).asks == ()


@pytest.mark.parametrize(
    "footer",
    [
        "[stance: <one or two words> | claim: <your position in one line> | confidence: <0-100>% "
        "| changed: <no, or yes because …>]",
        "[stance: one or two words | claim: your position in one line | confidence: 50% "
        "| changed: no]",
        "[stance: for | claim: Ban them | confidence: 70% | changed: no "
        "| ask: <none, or a participant's name: your question to them>]",
    ],
)
def test_a_footer_that_echoes_the_instructions_placeholders_is_ignored(footer):
    assert parse_footer(f"An answer.\n{footer}") is None
    assert strip_footer(f"An answer.\n{footer}") == "An answer."


async def test_a_footer_question_is_put_to_its_addressee_next_round(council):
    council.fake.script(
        "deepseek-model",
        reply=["Cars must go." + _footer("Claude: How do you feel coordinating us?"), "Yes."],
    )
    council.fake.script("claude-model", reply=["Maybe.", "Fine."])
    run = await council.open(members=["Claude", "DeepSeek"], rounds=2)
    await run.run()

    second = council.requests("Claude")[1].last_user_text()
    assert "DeepSeek asked: How do you feel coordinating us?" in second
    assert "ask:" not in repr(council.requests("Claude")[1].turns()[:-1])


async def test_a_reply_with_a_footer_is_not_searched_for_names(council):
    council.fake.script(
        "deepseek-model", reply=["Claude, I disagree. What would you do?" + _footer(), "Yes."]
    )
    council.fake.script("claude-model", reply=["Maybe.", "Fine."])
    run = await council.open(members=["Claude", "DeepSeek"], rounds=2)
    await run.run()

    assert "asked:" not in council.requests("Claude")[1].last_user_text()


async def test_a_member_is_asked_at_most_the_cap_per_round_and_the_rest_wait(council):
    asks = " | ask: ".join(f"Claude: Question {i}?" for i in range(3))
    council.fake.script("deepseek-model", reply=["Hm." + _footer(asks), "Ok.", "Ok."])
    council.fake.script("claude-model", reply=["One.", "Two.", "Three."])
    run = await council.open(members=["Claude", "DeepSeek"], rounds=3)
    await run.run()

    assert MAX_QUESTIONS_PER_ROUND == 2
    second = council.requests("Claude")[1].last_user_text()
    third = council.requests("Claude")[2].last_user_text()
    assert "Question 0?" in second
    assert "Question 1?" in second
    assert "Question 2?" not in second
    assert "Question 2?" in third
    assert "Question 0?" not in third


async def test_the_chair_can_be_asked(council):
    council.fake.script("claude-model", reply=["Is it fair?", "Next?"])
    council.fake.script("deepseek-model", reply="So so." + _footer("Claude: Why do you ask?"))
    council.fake.script("gemini-model", reply="Parking.")
    council.fake.script("llama-model", reply="Governance.")
    run = await council.open(preset="chaired", rounds=2)
    await run.run()

    assert "DeepSeek asked: Why do you ask?" in council.requests("Claude")[1].last_user_text()


async def test_questions_are_stored_and_the_transcript_and_summary_show_the_pairs(council):
    council.fake.script(
        "deepseek-model",
        reply=["Cars must go." + _footer("Claude: How do you feel coordinating us?"), "Yes."],
    )
    council.fake.script("claude-model", reply=["Maybe.", "I feel fine." + _footer()])
    council.fake.script("gemini-model", reply=["No.", "Still." + _footer("Llama: Why so quiet?")])
    council.fake.script("llama-model", reply="Quiet.")
    run = await council.open(rounds=2)
    session = await run.run()

    record = await council.store.session_record(session.id)
    asked = {(q.asker, q.addressee): q for q in record.member_questions}
    assert set(asked) == {("DeepSeek", "Claude"), ("Gemini", "Llama")}
    to_claude = asked[("DeepSeek", "Claude")]
    claude_answer = next(r for r in record.replies if r.persona == "Claude" and r.round_number == 2)
    assert to_claude.round_asked == 1
    assert to_claude.answered_in_round == 2
    assert to_claude.answer_reply_id == claude_answer.id
    transcript = render_markdown(record)
    assert "> ❓ DeepSeek asks Claude: How do you feel coordinating us?" in transcript
    assert "_↪ answering DeepSeek_\n\nI feel fine." in transcript
    field = next(f for f in render_summary(record).fields if f.name == "Questions put and answered")
    assert "DeepSeek asked Claude: How do you feel coordinating us? — answered in round 2" in (
        field.value
    )
    # Put in the last round, so the council ended with it open.
    assert "Gemini asked Llama: Why so quiet? — unanswered" in field.value
    russian = render_summary(record, locale="ru")
    assert any(f.name == "Вопросы участников и ответы" for f in russian.fields)


async def test_a_restarted_council_puts_the_stored_questions_and_exports_show_them(council):
    council.fake.script("deepseek-model", reply=["Hm." + _footer("Claude: Why now?"), "Ok."])
    council.fake.script("claude-model", reply=["One.", "Because." + _footer()])
    run = await council.open(members=["Claude", "DeepSeek"], rounds=2)
    await council.kill_after_round(run, 1)

    resumed = await council.restore(run.session.id)
    session = await resumed.run()

    assert "DeepSeek asked: Why now?" in council.requests("Claude")[1].last_user_text()
    record = await council.store.session_record(session.id)
    [question] = record.member_questions
    assert question.answered_in_round == 2
    page = render_html(record)
    assert "↪ answering DeepSeek" in page
    assert "DeepSeek asks Claude: Why now?" in page


async def test_a_question_stored_with_its_reply_survives_a_restart_in_the_middle_of_the_round(
    council,
):
    council.fake.script("deepseek-model", reply=["Hm." + _footer("Claude: Why now?"), "Ok."])
    council.fake.script("claude-model", reply=["One.", "Because."])
    run = await council.open(members=["DeepSeek", "Claude"], format="debate", rounds=2)
    task = asyncio.create_task(run.run())
    # The process dies once DeepSeek's asking reply is stored, before Claude speaks.
    council.presenter.on_event = lambda e: (
        task.cancel() if isinstance(e, MemberFinished) and e.turn.persona == "DeepSeek" else None
    )
    await asyncio.gather(task, return_exceptions=True)
    [put] = (await council.store.session_record(run.session.id)).member_questions
    assert (put.asker, put.addressee, put.round_asked) == ("DeepSeek", "Claude", 1)

    council.presenter.on_event = None
    resumed = await council.restore(run.session.id)
    session = await resumed.run()

    first, second = council.requests("Claude")
    assert "asked:" not in first.last_user_text()
    assert "DeepSeek asked: Why now?" in second.last_user_text()
    [question] = (await council.store.session_record(session.id)).member_questions
    assert question.answered_in_round == 2


async def test_questions_to_a_member_that_failed_or_was_muted_are_listed_unanswered(council):
    council.fake.script("deepseek-model", reply="Hm." + _footer("Claude: Why now?"))
    council.fake.script("gemini-model", reply="So." + _footer("Llama: Why so quiet?"))
    council.fake.script("claude-model", reply=["One.", ""])  # fails its answer in round 2
    council.fake.script("llama-model", reply="Quiet.")
    run = await council.open(rounds=2)
    council.presenter.on_event = lambda e: (
        run.mute("Llama") if isinstance(e, RoundFinished) and e.number == 1 else None
    )
    session = await run.run()

    record = await council.store.session_record(session.id)
    assert [q.answered_in_round for q in record.member_questions] == [None, None]
    unanswered = [
        "DeepSeek asked Claude: Why now? — unanswered",
        "Gemini asked Llama: Why so quiet? — unanswered",
    ]
    field = next(f for f in render_summary(record).fields if f.name == "Questions put and answered")
    transcript = render_markdown(record)
    page = render_html(record)
    for pair in unanswered:
        assert pair in field.value
        assert f"- {pair}" in transcript
        assert f"<li>{pair}</li>" in page
    assert "## Questions put and answered" in transcript


async def test_the_console_prints_a_question_under_the_reply_that_put_it(council):
    council.fake.script("deepseek-model", reply=["Hm." + _footer("Claude: Why now?"), "Ok."])
    council.fake.script("claude-model", reply=["One.", "Because."])
    run = await council.open(members=["DeepSeek", "Claude"], format="debate", rounds=2)
    await run.run()

    out = io.StringIO()
    console = ConsolePresenter(out=out, use_color=False)
    for event in council.presenter.events:
        await console.handle(event)
    shown = out.getvalue()
    assert "\nDeepSeek: Hm.\n❓ DeepSeek asks Claude: Why now?\n\nClaude: One." in shown
    assert shown.count("asks Claude") == 1
