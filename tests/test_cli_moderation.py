"""The command line with a moderation model: `check` reaches it, `console` applies it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakellm import FakeLLM, Fault, ModelScript
from tests.test_cli import KEYS, _cli, _write_config

MODERATION = """
[moderation]
kind = "openai"
provider = "openai"
model = "omni-moderation-latest"
timeout_s = 5
"""


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM(keys=KEYS) as server:
        yield server


def _configure(tmp_path, fake: FakeLLM) -> None:
    _write_config(tmp_path / "council.toml", fake)
    with (tmp_path / "council.toml").open("a", encoding="utf-8") as config:
        config.write(MODERATION)


def test_check_reaches_the_moderation_model_and_reports_it_in_its_own_row(tmp_path, fake):
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, reply="OK")
    _configure(tmp_path, fake)

    result = _cli(tmp_path, "check")

    assert result.returncode == 0, result.stdout + result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("moderation "))
    assert "(omni-moderation-latest)" in row
    assert " OK " in row
    assert "4/4 models OK" in result.stdout
    [asked] = [r for r in fake.requests if r.path == "/v1/moderations"]
    assert asked.header("authorization") == f"Bearer {KEYS['openai']}"


def test_check_names_a_moderation_model_that_is_down(tmp_path, fake):
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, reply="OK")
    fake.script_moderation(fault=Fault.http(503))
    _configure(tmp_path, fake)

    result = _cli(tmp_path, "check")

    assert result.returncode == 1
    row = next(line for line in result.stdout.splitlines() if line.startswith("moderation "))
    assert "FAILED" in row
    assert "overloaded" in row
    assert KEYS["openai"] not in result.stdout + result.stderr


def test_console_applies_the_moderation_model_and_shows_the_withheld_note(tmp_path, fake):
    fake.script_moderation(flags={"arsenic": "violence"})
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, ModelScript(reply="Plant more trees.", tokens_per_s=400.0))
    fake.script("gpt-test", ModelScript(reply="Add arsenic to the tea.", tokens_per_s=400.0))
    _configure(tmp_path, fake)
    transcript = tmp_path / "council.md"

    result = _cli(tmp_path, "console", "Gardens?", "--rounds", "1", "--transcript", str(transcript))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "[Orca's reply was withheld by moderation (violence).]" in result.stdout
    assert "arsenic" not in result.stdout
    assert "_Withheld by moderation (violence)._" in transcript.read_text()
    assert "arsenic" not in transcript.read_text()
