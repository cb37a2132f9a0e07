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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from bot.council.answers import canonical_number, choice_letters
from bot.errors import UserFacingError
from bot.i18n import Text, t

ARITHMETIC: Final = "arithmetic"
# Fixed so that every server, and every run of `council-bot eval`, asks the same questions.
ARITHMETIC_SEED: Final = 17
ARITHMETIC_MAX: Final = 29
MAX_QUESTIONS: Final = 200
MAX_CHOICES: Final = 10
# A question, its lettered choices and the bot's framing fit one Discord message (2,000
# characters): 1,000 + 10 x (80 + 4) + about 100.
QUESTION_MAX_CHARS: Final = 1000
CHOICE_MAX_CHARS: Final = 80
ANSWER_MAX_CHARS: Final = 200
SET_MAX_BYTES: Final = 256 * 1024
SET_NAME_MAX_CHARS: Final = 40
# Choices in one CSV cell are separated by this.
CSV_CHOICE_SEPARATOR: Final = "|"
SetFormat = Literal["json", "csv"]
_FIELDS: Final = ("question", "answer", "choices")
_SET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*")


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
    """A question set that can't be used; the message is one line naming the first problem
    (and the row it is on)."""


class _RowError(Exception):
    """What is wrong with one row, before the row is named."""

    def __init__(self, text: Text) -> None:
        super().__init__(str(text))
        self.text = text


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
    """The first `count` questions of the set named `name`: "arithmetic", or a .json/.csv file
    in the format an admin uploads (see `parse_question_set`).

    Raises:
        QuestionSetError: the count is out of range, or the file can't be read or is refused.
    """
    check_count(count)
    if name == ARITHMETIC:
        return arithmetic_questions(count)
    path = Path(name)
    if path.suffix.lower() not in (".json", ".csv"):
        raise QuestionSetError(
            f"{name!r} is neither {ARITHMETIC!r} nor a .json or .csv question file."
        )
    try:
        kind = set_format(path.name)
        if path.stat().st_size > SET_MAX_BYTES:
            raise QuestionSetError(t("replies.challenge-set.too-large", kib=SET_MAX_BYTES // 1024))
        questions = parse_question_set(path.read_bytes(), kind)
    except OSError as exc:
        raise QuestionSetError(f"{name}: can't read it: {exc.strerror or exc}") from None
    except QuestionSetError as exc:
        raise QuestionSetError(f"{name}: {exc.message}") from None
    return questions[:count]


def check_count(count: int) -> None:
    """Refuse a number of questions no set can give.

    Raises:
        QuestionSetError: `count` is not 1 to `MAX_QUESTIONS`.
    """
    if not 1 <= count <= MAX_QUESTIONS:
        raise QuestionSetError(t("replies.challenge-set.count", count=count, most=MAX_QUESTIONS))


def set_format(filename: str) -> SetFormat:
    """The format a question file's name says it holds.

    Raises:
        QuestionSetError: it is neither .json nor .csv.
    """
    suffix = Path(filename).suffix.lower()
    if suffix == ".json":
        return "json"
    if suffix == ".csv":
        return "csv"
    raise QuestionSetError(t("replies.challenge-set.wrong-kind", name=filename))


def check_set_name(name: str) -> str:
    """An uploaded set's name, folded to lower case: letters, digits, - and _, not a built-in.

    Raises:
        QuestionSetError: the name can't be used.
    """
    folded = name.strip().casefold()
    if not (0 < len(folded) <= SET_NAME_MAX_CHARS and _SET_NAME.fullmatch(folded)):
        raise QuestionSetError(
            t("replies.challenge-set.bad-name", name=name, most=SET_NAME_MAX_CHARS)
        )
    if folded == ARITHMETIC:
        raise QuestionSetError(t("replies.challenge-set.built-in-name", name=ARITHMETIC))
    return folded


def parse_question_set(data: bytes, kind: SetFormat) -> tuple[Question, ...]:
    """The questions in an uploaded set, read strictly.

    JSON is an array of objects with "question", "answer" and optionally "choices" (an array
    of texts); CSV has a header row naming the columns question, answer and optionally choices
    (separated by "|"). A multiple-choice answer is a choice's letter or its exact text; any
    other answer is a number. At most `MAX_QUESTIONS` questions, `SET_MAX_BYTES` bytes.

    Raises:
        QuestionSetError: one line naming the first problem and its row; nothing is kept.
    """
    if len(data) > SET_MAX_BYTES:
        raise QuestionSetError(t("replies.challenge-set.too-large", kib=SET_MAX_BYTES // 1024))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise QuestionSetError(t("replies.challenge-set.not-utf8")) from None
    rows = _json_rows(text) if kind == "json" else _csv_rows(text)
    if not rows:
        raise QuestionSetError(t("replies.challenge-set.empty"))
    if len(rows) > MAX_QUESTIONS:
        raise QuestionSetError(
            t("replies.challenge-set.too-many", count=len(rows), most=MAX_QUESTIONS)
        )
    questions = []
    for where, row in rows:
        try:
            questions.append(_question(row))
        except _RowError as exc:
            raise QuestionSetError(
                t("replies.challenge-set.row", where=where, problem=exc.text)
            ) from None
    return tuple(questions)


def questions_to_json(questions: Sequence[Question]) -> str:
    """Questions, canonical, as the JSON an uploaded set is kept in (and can be read from)."""
    return json.dumps(
        [
            {
                "question": q.prompt,
                "answer": q.answer,
                **({"choices": q.choices} if q.choices else {}),
            }
            for q in questions
        ],
        ensure_ascii=False,
    )


def questions_from_json(text: str) -> tuple[Question, ...]:
    """Questions kept by `questions_to_json`."""
    return tuple(
        Question(row["question"], row["answer"], tuple(row.get("choices", ())))
        for row in json.loads(text)
    )


_Rows = list[tuple[Text, object]]


def _json_rows(text: str) -> _Rows:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuestionSetError(
            t("replies.challenge-set.bad-json", line=exc.lineno, column=exc.colno, error=exc.msg)
        ) from None
    if not isinstance(data, list):
        raise QuestionSetError(t("replies.challenge-set.not-a-list"))
    return [(t("replies.challenge-set.item", number=i), row) for i, row in enumerate(data, 1)]


def _csv_rows(text: str) -> _Rows:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [cell.strip().casefold() for cell in next(reader, [])]
        if header[:2] != ["question", "answer"] or header[2:] not in ([], ["choices"]):
            raise QuestionSetError(t("replies.challenge-set.csv-header"))
        rows: _Rows = []
        for cells in reader:
            where = t("replies.challenge-set.line", number=reader.line_num)
            if not any(cell.strip() for cell in cells):
                continue  # a blank line, as spreadsheets leave at the end
            if len(cells) > len(header):
                rows.append((where, _RowError(t("replies.challenge-set.extra-cells"))))
                continue
            row: dict[str, object] = dict(zip(header, cells, strict=False))
            choices = str(row.pop("choices", "") or "")
            if choices.strip():
                row["choices"] = choices.split(CSV_CHOICE_SEPARATOR)
            rows.append((where, row))
    except csv.Error as exc:
        raise QuestionSetError(
            t("replies.challenge-set.bad-csv", number=reader.line_num, error=str(exc))
        ) from None
    return rows


def _question(row: object) -> Question:
    """One row as a `Question`.

    Raises:
        _RowError: what is wrong with it.
    """
    if isinstance(row, _RowError):
        raise row
    if not isinstance(row, dict):
        raise _RowError(t("replies.challenge-set.not-an-object"))
    for key in row:
        if key not in _FIELDS:
            raise _RowError(t("replies.challenge-set.unknown-field", field=str(key)))
    prompt = _text_field(row, "question", QUESTION_MAX_CHARS)
    answer = row.get("answer")
    if isinstance(answer, int | float) and not isinstance(answer, bool):
        answer = str(answer)
    answer = _text_field({"answer": answer}, "answer", ANSWER_MAX_CHARS)
    choices = _choices(row.get("choices"))
    if not choices:
        if (number := canonical_number(answer)) is None:
            raise _RowError(t("replies.challenge-set.answer-not-number", answer=answer))
        return Question(prompt, number)
    letters = choice_letters(len(choices))
    if len(answer) == 1 and answer.upper() in letters:
        return Question(prompt, answer.upper(), choices)
    if answer in choices:
        return Question(prompt, letters[choices.index(answer)], choices)
    raise _RowError(
        t("replies.challenge-set.answer-not-choice", answer=answer, letters=", ".join(letters))
    )


def _text_field(row: dict[str, object], field: str, most: int) -> str:
    value = row.get(field)
    if value is None:
        raise _RowError(t("replies.challenge-set.missing", field=field))
    if not isinstance(value, str):
        raise _RowError(t("replies.challenge-set.not-text", field=field))
    value = value.strip()
    if not value:
        raise _RowError(t("replies.challenge-set.blank", field=field))
    if len(value) > most:
        raise _RowError(
            t("replies.challenge-set.too-long", field=field, length=len(value), most=most)
        )
    return value


def _choices(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise _RowError(t("replies.challenge-set.choices-not-list"))
    choices = tuple(c.strip() for c in raw)
    if not 2 <= len(choices) <= MAX_CHOICES:
        raise _RowError(
            t("replies.challenge-set.choice-count", count=len(choices), most=MAX_CHOICES)
        )
    for number, choice in enumerate(choices, start=1):
        if not choice:
            raise _RowError(t("replies.challenge-set.choice-blank", number=number))
        if len(choice) > CHOICE_MAX_CHARS:
            raise _RowError(
                t("replies.challenge-set.choice-too-long", number=number, most=CHOICE_MAX_CHARS)
            )
    if len(set(choices)) < len(choices):
        raise _RowError(t("replies.challenge-set.choice-twice"))
    return choices
