"""Challenge mode's pure core: answer reading, question sets, the three arms and intervals."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.council.answers import extract_answer
from bot.council.challenge import (
    Question,
    QuestionSetError,
    arithmetic_questions,
    check_set_name,
    load_questions,
    parse_question_set,
    questions_from_json,
    questions_to_json,
)
from bot.council.challenge_scores import (
    MemberAnswer,
    QuestionResult,
    Unparsed,
    majority,
    score_challenge,
    wilson_interval,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The answer is 1,234.", "1234"),
        ("16+13*25+9-11*9 = 251", "251"),
        ("So the result is **42**", "42"),
        ("5-3", "3"),
        ("x = \u22127", "-7"),
        ("Answer: -12.50", "-12.5"),
        ("It is -8, I think.", "-8"),
        ("First 3, then 4, finally 1,000,000", "1000000"),
        ("2.0", "2"),
        ("I can't tell.", None),
        ("", None),
    ],
)
def test_a_numeric_answer_is_the_last_number_in_the_reply(text, expected):
    assert extract_answer(text) == expected


CHOICES = ("3", "7", "Paris", "London")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Answer: B", "B"),
        ("I pick (C) over (A).", "A"),
        ("A good point. The answer is **D**", "D"),
        ("The answer is (E)", None),  # no fifth choice
        ("C", "C"),
        ("It must be 7", "B"),
        ("It is Paris, not Rome.", "C"),
        ("No idea at all.", None),
    ],
)
def test_a_multiple_choice_answer_is_the_stated_letter_else_the_choice_mentioned(text, expected):
    assert extract_answer(text, CHOICES) == expected


def test_the_seeded_arithmetic_set_is_stable_and_its_answers_are_right():
    questions = arithmetic_questions(20)
    assert questions[:3] == (
        Question("What is the result of 16+13*25+9-11*9?", "251"),
        Question("What is the result of 5+24*22+22-17*21?", "198"),
        Question("What is the result of 8+3*29+0-7*12?", "11"),
    )
    for question in questions:
        expression = question.prompt.removeprefix("What is the result of ").removesuffix("?")
        assert str(eval(expression)) == question.answer
        assert all(
            0 <= int(n) <= 29 for n in expression.replace("*", "+").replace("-", "+").split("+")
        )
    assert load_questions("arithmetic", 5) == questions[:5]


def test_a_json_set_loads_numbers_and_choices(tmp_path):
    path = tmp_path / "set.json"
    rows = [
        {"question": "2+2?", "answer": 4},
        {"question": "Capital of France?", "answer": "Paris", "choices": ["Rome", "Paris"]},
        {"question": "Pick B", "answer": "b", "choices": ["x", "y", "z"]},
    ]
    path.write_text(json.dumps(rows))
    assert load_questions(str(path), 10) == (
        Question("2+2?", "4"),
        Question("Capital of France?", "B", ("Rome", "Paris")),
        Question("Pick B", "B", ("x", "y", "z")),
    )


def test_a_csv_set_loads_and_count_takes_the_first_questions(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text(
        'question,answer,choices\n"1,000 + 1?","1,001",\nWhich?,Oslo,Oslo|Bergen\nx?,3,\n'
    )
    assert load_questions(str(path), 2) == (
        Question("1,000 + 1?", "1001"),
        Question("Which?", "A", ("Oslo", "Bergen")),
    )


def test_a_set_round_trips_through_its_stored_form():
    questions = parse_question_set(
        "question,answer,choices\nÜber?,Ja,Ja|Nein\n7*6?,42,\n".encode(), "csv"
    )
    assert questions_from_json(questions_to_json(questions)) == questions


def _refusal(data: str, kind: str = "csv") -> str:
    with pytest.raises(QuestionSetError) as refused:
        parse_question_set(data.encode(), kind)
    return refused.value.message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("question,answer\nok?,1\n,2\nwhat?,seven\n", "line 3: question is empty."),
        ("question,answer\nok?,1\nwhat?,   \n", "line 3: answer is empty."),
        (
            "question,answer\nwhat?,seven\n",
            "line 2: the answer seven is not a number, and there are no choices.",
        ),
        (
            "question,answer,choices\nwhich?,Z,a|b\n",
            "line 2: the answer Z is neither a choice's letter (A, B) nor a choice's text.",
        ),
        ("question,answer,choices\nwhich?,a,a||b\n", "line 2: choice 2 is empty."),
        ("question,answer,choices\nwhich?,a,a\n", "line 2: give 2 to 10 choices, not 1."),
        ("question,answer,choices\nwhich?,a,a|a\n", "line 2: two choices are the same."),
        ("question,answer\nq?,1,extra\n", "line 2: more cells than the header names."),
        (
            "q,a\n1,2\n",
            "The first line must name the columns question,answer or question,answer,choices.",
        ),
        ("question,answer\n", "The file holds no questions."),
        (
            'question,answer\n"open,1\n',
            "The file is not valid CSV at line 2: unexpected end of data.",
        ),
    ],
)
def test_a_bad_csv_set_is_refused_in_one_line_naming_the_row(data, message):
    assert _refusal(data) == message


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            "{not json",
            "The file is not valid JSON: Expecting property name enclosed in double "
            "quotes at line 1, column 2.",
        ),
        (
            '{"questions": []}',
            "The JSON must be an array of objects with question, answer and optionally choices.",
        ),
        ("[]", "The file holds no questions."),
        (
            '[{"question": "q", "answer": 1}, 3]',
            "question 2: expected an object with question and answer.",
        ),
        ('[{"question": "q"}]', "question 1: answer is missing."),
        ('[{"question": "q", "answer": true}]', "question 1: answer must be text."),
        (
            '[{"question": "q", "answer": 1, "hint": "x"}]',
            "question 1: unknown field hint (use question, answer and choices).",
        ),
        (
            '[{"question": "q", "answer": "a", "choices": "a|b"}]',
            "question 1: choices must be a list of texts.",
        ),
        (
            json.dumps([{"question": "q" * 1001, "answer": 1}]),
            "question 1: question is 1001 characters long; at most 1000.",
        ),
        (
            json.dumps([{"question": "q", "answer": "B", "choices": ["a", "b" * 81]}]),
            "question 1: choice 2 is longer than 80 characters.",
        ),
        (
            json.dumps([{"question": f"{i}?", "answer": i} for i in range(201)]),
            "The file holds 201 questions; a set may hold at most 200.",
        ),
    ],
)
def test_a_bad_json_set_is_refused_in_one_line_naming_the_question(data, message):
    assert _refusal(data, "json") == message


def test_a_file_that_is_too_large_or_not_utf8_is_refused():
    with pytest.raises(QuestionSetError, match="larger than 256 KiB"):
        parse_question_set(b"[" + b" " * 256 * 1024 + b"]", "json")
    with pytest.raises(QuestionSetError, match="not UTF-8"):
        parse_question_set(b"question,answer\n\xff,1\n", "csv")


def test_a_set_refused_for_eval_names_its_file(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("question,answer\nok?,1\n,2\n")
    with pytest.raises(QuestionSetError) as refused:
        load_questions(str(path), 10)
    assert refused.value.message == f"{path}: line 3: question is empty."
    with pytest.raises(QuestionSetError, match=r"'\S+set\.txt' is neither 'arithmetic' nor a"):
        load_questions(str(tmp_path / "set.txt"), 10)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Trivia-1", "trivia-1"), ("  geo_caps ", "geo_caps")],
)
def test_a_set_name_is_folded(name, expected):
    assert check_set_name(name) == expected


@pytest.mark.parametrize("name", ["arithmetic", "two words", "-lead", "x" * 41, "émoji"])
def test_a_set_name_that_cannot_be_used_is_refused(name):
    with pytest.raises(QuestionSetError):
        check_set_name(name)


def test_a_count_out_of_range_is_refused():
    with pytest.raises(QuestionSetError, match="must be 1 to 200, not 0"):
        load_questions("arithmetic", 0)


@pytest.mark.parametrize(
    ("correct", "total", "low", "high"),
    [
        (7, 10, 0.3968, 0.8922),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (50, 100, 0.4038, 0.5962),
        (0, 0, 0.0, 1.0),
    ],
)
def test_the_interval_is_wilsons(correct, total, low, high):
    assert wilson_interval(correct, total) == (
        pytest.approx(low, abs=1e-4),
        pytest.approx(high, abs=1e-4),
    )


@pytest.mark.parametrize(
    ("answers", "winner"),
    [
        (["1", "2", "2"], "2"),
        (["1", "2", "3"], "1"),  # a three-way tie: the first seat's answer
        ([None, "2", "3", "3", "2"], "2"),  # a tie: the answer given first in seat order
        ([None, None], None),
        ([None, "5"], "5"),
    ],
)
def test_the_majority_breaks_ties_by_seat_order_and_ignores_unreadable_answers(answers, winner):
    assert majority(answers) == winner


MEMBERS = ("Ann", "Bo", "Cy")


def _result(answer: str, first: tuple, final: tuple) -> QuestionResult:
    def said(values: tuple) -> dict[str, MemberAnswer]:
        return {
            name: MemberAnswer(f"reply {value}", value)
            for name, value in zip(MEMBERS, values, strict=True)
        }

    return QuestionResult(Question("q?", answer), said(first), said(final))


def test_the_three_arms_and_changes_of_mind_are_counted_exactly():
    results = [
        # alone: Ann right; vote wrong (1 vs 9, 9); debate brings everyone to 1
        _result("1", ("1", "9", "9"), ("1", "1", "1")),
        # everyone right before; Cy talked out of it
        _result("2", ("2", "2", "2"), ("2", "2", "5")),
        # Bo unreadable at first; the vote is right before and wrong after
        _result("3", ("3", None, "4"), ("4", "4", "3")),
        # all wrong throughout
        _result("4", ("0", "0", "0"), ("0", None, "0")),
    ]
    score = score_challenge(results, MEMBERS)
    assert score.questions == 4
    assert {n: a.correct for n, a in score.members.items()} == {"Ann": 3, "Bo": 1, "Cy": 1}
    assert score.best_member == "Ann"
    assert score.average_member == pytest.approx(5 / 12)
    # Q1: 9 wins; Q2: 2; Q3: tie 3/4 goes to Ann's 3; Q4: 0.
    assert score.majority_independent.correct == 2
    # After debate the votes are 1, 2, 4 and 0.
    assert score.majority_debate.correct == 2
    assert (score.wrong_to_right, score.right_to_wrong) == (3, 2)
    assert score.unparsed == (
        Unparsed(3, "Bo", "first", "reply None"),
        Unparsed(4, "Bo", "final", "reply None"),
    )
    assert (score.majority_debate.low, score.majority_debate.high) == wilson_interval(2, 4)


def test_the_readme_example_sets_are_accepted():
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Challenges") : readme.index("## In Discord")]
    blocks = re.findall(r"```(csv|json)\n(.*?)```", section, re.DOTALL)
    assert [kind for kind, _ in blocks] == ["csv", "json"]
    parsed = [parse_question_set(text.encode(), kind) for kind, text in blocks]
    assert (
        parsed[0][0]
        == parsed[1][0]
        == Question("Capital of Norway?", "B", ("Bergen", "Oslo", "Tromsø"))
    )
    assert parsed[0][2] == parsed[1][1] == Question("1,000 + 1?", "1001")
