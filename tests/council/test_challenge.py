"""Challenge mode's pure core: answer reading, question sets, the three arms and intervals."""

from __future__ import annotations

import json

import pytest

from bot.council.answers import extract_answer
from bot.council.challenge import (
    Question,
    QuestionSetError,
    arithmetic_questions,
    load_questions,
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
    path.write_text(json.dumps({"questions": rows}))
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


def test_bad_rows_are_each_refused_in_one_line(tmp_path):
    path = tmp_path / "set.csv"
    path.write_text("question,answer,choices\nok?,1,\n,2,\nwhat?,seven,\nwhich?,Z,a|b\n")
    with pytest.raises(QuestionSetError) as refused:
        load_questions(str(path), 10)
    assert refused.value.message.splitlines() == [
        f"{path} line 3: the question is missing.",
        f"{path} line 4: the answer 'seven' is not a number (and there are no choices).",
        f"{path} line 5: the answer 'Z' is neither a choice's letter (AB) nor its text.",
    ]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("set.txt", "", "is neither 'arithmetic' nor a .json or .csv question file"),
        ("set.json", "{not json", "is not valid JSON"),
        ("set.json", '{"a": 1}', "expected a list of questions"),
        ("set.json", "[]", "holds no questions"),
        ("set.csv", "q,a\n1,2\n", "the first row must name the columns question,answer"),
    ],
)
def test_an_unusable_set_is_refused(tmp_path, name, content, message):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(QuestionSetError, match=message):
        load_questions(str(path), 10)


def test_a_count_out_of_range_is_refused():
    with pytest.raises(QuestionSetError, match="the count must be 1 to 100, not 0"):
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
