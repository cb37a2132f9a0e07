"""Prompting: who sees what as which role, and cleaning model output."""

from __future__ import annotations

from bot.council.prompts import (
    PromptRules,
    Seat,
    Turn,
    TurnKind,
    build_messages,
    clean_reply,
    directed_questions,
    impersonation_start,
    stop_strings,
    system_prompt,
)

NAMES = ["Claude", "Gemini", "Llama"]


def test_own_turns_are_assistant_and_others_are_user_turns_prefixed_with_the_name():
    transcript = [
        Turn(1, "Claude", TurnKind.ANSWER, "Mine."),
        Turn(1, "Gemini", TurnKind.ANSWER, "Theirs."),
        Turn(2, "Ada", TurnKind.QUESTION, "Why?"),
        Turn(2, "Llama", TurnKind.CHAIR, "Discuss."),
    ]
    messages = build_messages("Claude", "Topic X", transcript, "Round 2.")
    assert [(m.role, m.content) for m in messages] == [
        ("user", "The council's topic: Topic X"),
        ("assistant", "Mine."),
        (
            "user",
            "Gemini: Theirs.\n\nA member of the audience, Ada, asks: Why?\n\n"
            "Llama (chair): Discuss.\n\nRound 2.",
        ),
    ]


def test_an_audience_member_sharing_a_persona_name_is_still_a_user_turn():
    messages = build_messages("Claude", "T", [Turn(1, "Claude", TurnKind.QUESTION, "Hi?")], "Go")
    assert [m.role for m in messages] == ["user"]


def test_the_system_prompt_carries_name_style_rules_language_and_length():
    text = system_prompt(
        Seat("Gemini", "The optimist."),
        ["Claude", "Llama"],
        PromptRules(language="French", max_words=99),
        is_chair=False,
    )
    for fragment in ("You are Gemini", "The optimist.", "Claude, Llama", "French", "99 words"):
        assert fragment in text
    assert "Speak only as yourself" in text


def test_other_members_names_are_stop_strings():
    assert stop_strings("Claude", NAMES) == ("\nGemini:", "\nLlama:")


def test_a_leading_own_name_is_stripped():
    assert clean_reply("Claude: I think so.", "Claude", NAMES) == "I think so."
    assert clean_reply("**Claude**: Bold.", "Claude", NAMES) == "Bold."
    assert clean_reply("I agree with Gemini: yes.", "Claude", NAMES) == "I agree with Gemini: yes."


def test_a_reply_that_starts_speaking_for_another_member_is_cut_there():
    text = "My view is X.\n\nGemini: And I would add Y."
    assert clean_reply(text, "Claude", NAMES) == "My view is X."
    assert impersonation_start(text, "Claude", NAMES) == len("My view is X.\n")
    assert clean_reply("Fine.\n**Llama**: me too", "Claude", NAMES) == "Fine."
    assert impersonation_start("Gemini is right: yes", "Claude", NAMES) is None


def test_questions_put_to_another_member_by_name_are_found():
    text = (
        "I disagree. Gemini, what would you cut first? And a question for Llama: who decides? "
        "Is that fair? Claude, am I right?"
    )
    found = directed_questions(text, "Claude", NAMES)
    assert found == [
        ("Gemini", "Gemini, what would you cut first?"),
        ("Llama", "And a question for Llama: who decides?"),
    ]
