"""`council-bot eval`: the challenge run in the terminal against the fake models, with a report."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.council.challenge import arithmetic_questions
from tests.fakellm import FakeLLM, RecordedRequest
from tests.test_cli import KEYS, _cli, _write_config

ANSWERS = {q.prompt: q.answer for q in arithmetic_questions(3)}


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM(keys=KEYS) as server:
        yield server


def _right(request: RecordedRequest) -> str:
    return f"Step by step.\nAnswer: {ANSWERS[request.turns()[0][1]]}"


def _right_after_debate(request: RecordedRequest) -> str:
    return _right(request) if len(request.turns()) > 1 else "Answer: -1"


def test_eval_runs_the_three_arms_and_writes_a_json_report(tmp_path, fake):
    fake.script("gpt-test", reply=_right)
    fake.script("claude-test", reply=_right_after_debate)
    fake.script("gemini-test", reply="I refuse to do arithmetic.")
    _write_config(tmp_path / "council.toml", fake)
    report = tmp_path / "out" / "challenge.json"
    result = _cli(tmp_path, "eval", "--count", "3", "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Q1: What is the result of 16+13*25+9-11*9? = 251" in result.stdout
    assert "Orca alone: 3/3 right, 100.0 % (95 % CI 43.9 %-100.0 %)" in result.stdout
    assert "Majority of independent answers: 3/3 right" in result.stdout
    assert "Debate turned 3 answer(s) wrong to right and 0 right to wrong." in result.stdout
    data = json.loads(report.read_text())
    assert data["members"] == ["Orca", "Heron", "Lynx"]
    assert data["arms"]["single_member"]["members"]["Heron"]["correct"] == 0
    assert data["arms"]["majority_after_debate"]["correct"] == 3
    assert data["results"][0]["first"] == {"Orca": "251", "Heron": "-1", "Lynx": None}
    assert len(data["unparsed"]) == 6
    assert data["unparsed"][0] == {
        "question": 1,
        "member": "Lynx",
        "stage": "first",
        "text": "I refuse to do arithmetic.",
    }


def test_eval_writes_a_markdown_report_from_a_csv_set(tmp_path, fake):
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, reply="The capital is Oslo. Answer: (A)")
    _write_config(tmp_path / "council.toml", fake)
    questions = tmp_path / "set.csv"
    questions.write_text("question,answer,choices\nCapital of Norway?,Oslo,Oslo|Bergen\n")
    report = tmp_path / "challenge.md"
    result = _cli(tmp_path, "eval", "--set", str(questions), "--report", str(report))
    assert result.returncode == 0, result.stdout + result.stderr
    text = report.read_text()
    assert text.startswith(f"# Challenge: {questions}, 1 question(s)")
    assert "| Majority after debate | 1/1 | 100.0 % | 20.7 %-100.0 % |" in text
    assert "| 1 | Capital of Norway? | A | A → A | A → A | A → A |" in text


def test_eval_refuses_bad_input_in_one_line(tmp_path, fake):
    _write_config(tmp_path / "council.toml", fake)
    bad = tmp_path / "bad.json"
    bad.write_text('[{"question": "x?", "answer": "y"}]')
    cases = [
        (("--count", "0"), "council-bot: The number of questions must be 1 to 200, not 0."),
        (("--report", "out.txt"), "council-bot: --report must name a .json or .md file"),
        (("--set", "nope"), "council-bot: 'nope' is neither 'arithmetic' nor a .json or .csv"),
        (
            ("--set", str(bad)),
            f"council-bot: {bad}: question 1: the answer y is not a number, and there are no "
            "choices.",
        ),
        (("--preset", "nope"), "council-bot: "),
    ]
    for args, message in cases:
        result = _cli(tmp_path, "eval", *args)
        assert result.returncode == 2, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith(message)
    assert fake.requests_for("gpt-test") == []
