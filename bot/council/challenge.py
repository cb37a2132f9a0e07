"""Question sets for a challenge: the built-in seeded arithmetic set, and sets from JSON or CSV.

A challenge asks questions whose answers are known, to see whether the council beats one
model. The arithmetic set follows Du et al. 2023 ("Improving Factuality and Reasoning in
Language Models through Multiagent Debate"): expressions `a+b*c+d-e*f` over integers 0-29.
"""

from __future__ import annotations

import csv
import io
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from bot.council.answers import canonical_number, choice_letters
from bot.errors import UserFacingError

ARITHMETIC: Final = "arithmetic"
# Fixed so that every server, and every run of `council-bot eval`, asks the same questions.
ARITHMETIC_SEED: Final = 17
ARITHMETIC_MAX: Final = 29
MAX_QUESTIONS: Final = 100
MAX_CHOICES: Final = 10
QUESTION_MAX_CHARS: Final = 2000
# Choices in one CSV cell are separated by this.
CSV_CHOICE_SEPARATOR: Final = "|"


@dataclass(frozen=True, slots=True)
class Question:
    """One question and its known answer, canonical (a number, or a choice letter)."""

    prompt: str
    answer: str
    choices: tuple[str, ...] = ()

    @property
    def is_multiple_choice(self) -> bool:
        """Whether the answer is one of `choices`, named by letter."""
        return bool(self.choices)


class QuestionSetError(UserFacingError):
    """A question set that can't be used; the message has one line per problem."""


def arithmetic_questions(count: int, *, seed: int = ARITHMETIC_SEED) -> tuple[Question, ...]:
    """The first `count` questions of the seeded arithmetic set, with their answers."""
    rng = random.Random(seed)  # noqa: S311 - a fixed question set, not a secret
    questions = []
    for _ in range(count):
        a, b, c, d, e, f = (rng.randint(0, ARITHMETIC_MAX) for _ in range(6))
        prompt = f"What is the result of {a}+{b}*{c}+{d}-{e}*{f}?"
        questions.append(Question(prompt, str(a + b * c + d - e * f)))
    return tuple(questions)


def load_questions(name: str, count: int) -> tuple[Question, ...]:
    """The first `count` questions of the set named `name`: "arithmetic", or a .json/.csv file.

    Raises:
        QuestionSetError: the file can't be read or holds bad rows (each named on its line).
    """
    if not 1 <= count <= MAX_QUESTIONS:
        raise QuestionSetError(f"the count must be 1 to {MAX_QUESTIONS}, not {count}.")
    if name == ARITHMETIC:
        return arithmetic_questions(count)
    path = Path(name)
    if path.suffix.lower() not in (".json", ".csv"):
        raise QuestionSetError(
            f"{name!r} is neither {ARITHMETIC!r} nor a .json or .csv question file."
        )
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise QuestionSetError(f"can't read {name}: {exc}") from None
    questions = parse_question_set(text, "csv" if path.suffix.lower() == ".csv" else "json", name)
    return questions[:count]


def parse_question_set(text: str, kind: str, source: str) -> tuple[Question, ...]:
    """The questions in a JSON or CSV set.

    JSON is a list of objects (or `{"questions": [...]}`) with "question", "answer" and
    optionally "choices" (a list of strings); CSV has the columns question, answer and
    optionally choices (separated by "|"). A multiple-choice answer is a letter or the exact
    text of one choice.

    Raises:
        QuestionSetError: one line for each bad row, named by its number.
    """
    rows = _json_rows(text, source) if kind == "json" else _csv_rows(text, source)
    questions: list[Question] = []
    problems: list[str] = []
    for where, row in rows:
        try:
            questions.append(_question(row))
        except ValueError as exc:
            problems.append(f"{source} {where}: {exc}")
    if problems:
        raise QuestionSetError("\n".join(problems))
    if not questions:
        raise QuestionSetError(f"{source} holds no questions.")
    return tuple(questions)


_Row = dict[str, object]


def _json_rows(text: str, source: str) -> list[tuple[str, _Row | object]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuestionSetError(f"{source} is not valid JSON: {exc}") from None
    if isinstance(data, dict) and "questions" in data:
        data = data["questions"]
    if not isinstance(data, list):
        raise QuestionSetError(f"{source}: expected a list of questions.")
    return [(f"item {i}", row) for i, row in enumerate(data, start=1)]


def _csv_rows(text: str, source: str) -> list[tuple[str, _Row | object]]:
    reader = csv.DictReader(io.StringIO(text))
    columns = {c.strip().casefold() for c in reader.fieldnames or ()}
    if not {"question", "answer"} <= columns:
        raise QuestionSetError(f"{source}: the first row must name the columns question,answer.")
    rows: list[tuple[str, _Row | object]] = []
    for row in reader:
        fields = {(k or "").strip().casefold(): v for k, v in row.items()}
        choices = (fields.get("choices") or "").strip()
        parsed: _Row = {"question": fields.get("question") or "", "answer": fields["answer"]}
        if choices:
            parsed["choices"] = [c.strip() for c in choices.split(CSV_CHOICE_SEPARATOR)]
        rows.append((f"line {reader.line_num}", parsed))
    return rows


def _question(row: object) -> Question:
    """One row as a `Question`; a ValueError says what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError("expected an object with question and answer.")
    prompt = row.get("question")
    answer = row.get("answer")
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("the question is missing.")
    if len(prompt) > QUESTION_MAX_CHARS:
        raise ValueError(f"the question is longer than {QUESTION_MAX_CHARS} characters.")
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        raise ValueError("the answer is missing.")
    answer = str(answer).strip()
    if not answer:
        raise ValueError("the answer is missing.")
    raw_choices = row.get("choices") or []
    if not isinstance(raw_choices, list) or not all(
        isinstance(c, str) and c.strip() for c in raw_choices
    ):
        raise ValueError("choices must be a list of non-empty texts.")
    choices = tuple(c.strip() for c in raw_choices)
    if not choices:
        if (number := canonical_number(answer)) is None:
            raise ValueError(f"the answer {answer!r} is not a number (and there are no choices).")
        return Question(prompt.strip(), number)
    if not 2 <= len(choices) <= MAX_CHOICES:
        raise ValueError(f"give 2 to {MAX_CHOICES} choices, not {len(choices)}.")
    letters = choice_letters(len(choices))
    if answer.upper() in letters and len(answer) == 1:
        return Question(prompt.strip(), answer.upper(), choices)
    if answer in choices:
        return Question(prompt.strip(), letters[choices.index(answer)], choices)
    raise ValueError(
        f"the answer {answer!r} is neither a choice's letter ({letters}) nor its text."
    )
