"""The command line, run as a user would: a real subprocess against local fake servers."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakellm import FakeLLM, ModelScript, plausible_opinion
from tests.ports import free_port

KEYS = {"openai": "sk-openai-secret-1", "anthropic": "sk-ant-secret-2", "gemini": "g-secret-3"}


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM(keys=KEYS) as server:
        yield server


def _write_config(path: Path, fake: FakeLLM, *, anthropic_url: str | None = None) -> None:
    path.write_text(
        f"""
[providers.openai]
kind = "openai"
base_url = "{fake.base_url("openai")}"
api_key_env = "OPENAI_KEY"
max_retries = 0

[providers.anthropic]
kind = "anthropic"
base_url = "{anthropic_url or fake.base_url("anthropic")}"
api_key_env = "ANTHROPIC_KEY"
max_retries = 0

[providers.gemini]
kind = "gemini"
base_url = "{fake.base_url("gemini")}"
api_key_env = "GEMINI_KEY"
max_retries = 0

[models.gpt]
provider = "openai"
model = "gpt-test"

[models.claude]
provider = "anthropic"
model = "claude-test"

[models.gemini]
provider = "gemini"
model = "gemini-test"

[[personas]]
name = "Orca"
model = "gpt"
color = "#2E8B57"

[[personas]]
name = "Heron"
model = "claude"

[[personas]]
name = "Lynx"
model = "gemini"

[presets.default]
members = ["Orca", "Heron", "Lynx"]
chair = "Heron"
rounds = 2
"""
    )


def _cli(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    base.update(
        {
            "COUNCIL_CONFIG": str(tmp_path / "council.toml"),
            "COUNCIL_DB": str(tmp_path / "data" / "council.db"),
            "OPENAI_KEY": KEYS["openai"],
            "ANTHROPIC_KEY": KEYS["anthropic"],
            "GEMINI_KEY": KEYS["gemini"],
            "NO_COLOR": "1",
        }
    )
    base.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_run_without_a_discord_token_says_what_to_set_in_one_line(tmp_path, fake):
    _write_config(tmp_path / "council.toml", fake)
    result = _cli(tmp_path, "run")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "DISCORD_TOKEN is not set" in lines[0]


def test_check_reaches_every_model_on_all_three_wire_formats(tmp_path, fake):
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, reply="OK")
    _write_config(tmp_path / "council.toml", fake)
    result = _cli(tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration OK" in result.stdout
    for model in ("gpt (gpt-test)", "claude (claude-test)", "gemini (gemini-test)"):
        line = next(line for line in result.stdout.splitlines() if line.startswith(model))
        assert " OK " in line
    assert "3/3 models OK" in result.stdout


def test_check_warns_in_one_line_about_a_persona_name_no_font_draws(tmp_path, fake):
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, reply="OK")
    _write_config(tmp_path / "council.toml", fake)
    config = tmp_path / "council.toml"
    # Ethiopic: neither the shipped fonts nor a CJK font draws it.
    config.write_text(config.read_text().replace('"Lynx"', '"ሰላም"'))
    result = _cli(tmp_path, "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "configuration OK, 1 warning(s):" in result.stdout
    warnings = [line for line in result.stdout.splitlines() if "no font here draws" in line]
    assert len(warnings) == 1
    assert "'ሰላም'" in warnings[0]
    assert "Ethiopic" in warnings[0]


def test_check_reports_a_wrong_key_an_unknown_model_and_a_server_down_without_the_key(
    tmp_path, fake
):
    fake.script("gpt-test", reply="OK")
    # gemini-test has no script: the fake answers 404 like an unknown model.
    _write_config(tmp_path / "council.toml", fake, anthropic_url=f"http://127.0.0.1:{free_port()}")
    wrong_key = "sk-wrong-key-that-must-not-leak"
    result = _cli(tmp_path, "check", env={"OPENAI_KEY": wrong_key})
    output = result.stdout + result.stderr

    assert result.returncode == 1
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if "FAILED" in line}
    assert set(rows) == {"gpt", "claude", "gemini"}
    assert "auth" in rows["gpt"]
    assert "OPENAI_KEY" in rows["gpt"]
    assert "unreachable" in rows["claude"]
    assert "model_not_found" in rows["gemini"]
    assert wrong_key not in output
    assert "0/3 models OK; 3 failed" in result.stdout


def test_check_lists_every_config_problem_and_exits_2(tmp_path, fake):
    path = tmp_path / "council.toml"
    _write_config(path, fake)
    text = path.read_text().replace(
        'model = "claude-test"', 'model = "claude-test"\ntemperature = 5'
    )
    path.write_text(text.replace('color = "#2E8B57"', 'color = "green"'))
    result = _cli(tmp_path, "check")
    assert result.returncode == 2
    assert "models.claude.temperature: Input should be less than or equal to 2" in result.stderr
    assert "personas[0].color: 'green' is not a colour" in result.stderr
    assert "2 configuration problem(s)" in result.stderr


def test_console_runs_a_council_offline_and_writes_the_transcript(tmp_path, fake):
    script = ModelScript(reply=plausible_opinion, tokens_per_s=400.0)
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, script)
    _write_config(tmp_path / "council.toml", fake)
    transcript = tmp_path / "out" / "council.md"
    result = _cli(
        tmp_path,
        "console",
        "Should cities ban cars?",
        "--rounds",
        "2",
        "--transcript",
        str(transcript),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for expected in ("Round 1", "Round 2", "Orca: ", "Lynx: "):
        assert expected in result.stdout
    assert "\x1b[" not in result.stdout  # no colour codes when not a terminal
    text = transcript.read_text()
    assert text.startswith("# Council #1: Should cities ban cars?")
    assert "## Round 1" in text
    assert "## Round 2" in text
    for name in ("Orca", "Heron", "Lynx"):
        assert f"### {name}" in text
    assert "## Synthesis" in text
    assert "all 3 members answered every round" in text
    # Round 2 prompts carried round 1's answers from the others.
    orca_round_two = fake.requests_for("gpt-test")[1]
    assert "Heron" in repr(orca_round_two.turns())


def test_console_with_a_language_asks_every_model_to_answer_in_it(tmp_path, fake):
    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, ModelScript(reply="Ответ.", tokens_per_s=400.0))
    _write_config(tmp_path / "council.toml", fake)
    transcript = tmp_path / "council.md"
    result = _cli(
        tmp_path, "console", "Trains or cars?", "--rounds", "1", "--language", "ru",
        "--transcript", str(transcript),
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.requests
    for request in fake.requests:
        assert "Answer in Russian" in request.system_text()
    # The console's own words, and the transcript's, follow the council's language too.
    assert "Совет №1: Trains or cars?" in result.stdout
    assert "── Раунд 1 ──" in result.stdout
    assert "Round" not in result.stdout
    assert transcript.read_text().startswith("# Совет №1: Trains or cars?")


def test_console_refuses_an_unknown_language_in_one_line(tmp_path, fake):
    _write_config(tmp_path / "council.toml", fake)
    result = _cli(tmp_path, "console", "Topic", "--language", "Klingon")
    assert result.returncode == 2
    assert result.stderr.startswith("council-bot: There is no council language 'Klingon'.")


def test_console_refuses_an_unknown_persona_in_one_line(tmp_path, fake):
    _write_config(tmp_path / "council.toml", fake)
    result = _cli(tmp_path, "console", "Topic", "--members", "Orca,Nobody")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "council-bot: There is no persona called 'Nobody'. Personas: Orca, Heron, Lynx."
    )


def test_console_at_a_terminal_puts_a_typed_question_to_the_next_round(tmp_path, fake):
    import pty

    for model in ("gpt-test", "claude-test", "gemini-test"):
        fake.script(model, reply="A considered answer.")
    _write_config(tmp_path / "council.toml", fake)
    controller, terminal = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    env.update(
        COUNCIL_CONFIG=str(tmp_path / "council.toml"),
        COUNCIL_DB=str(tmp_path / "council.db"),
        OPENAI_KEY=KEYS["openai"],
        ANTHROPIC_KEY=KEYS["anthropic"],
        GEMINI_KEY=KEYS["gemini"],
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "console", "Trains or cars?", "--rounds", "2"],
        cwd=tmp_path,
        env=env,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(terminal)
    try:
        os.write(controller, b"What about buses?\n")
        out, err = process.communicate(timeout=60)
    finally:
        os.close(controller)
    assert process.returncode == 0, out + err
    assert "Ask the council a question" in out
    assert "A member of the audience, you, asks: What about buses?" in out
    second_round = fake.requests_for("gpt-test")[1]
    assert "A member of the audience, you, asks: What about buses?" in repr(second_round.turns())
