"""Keys are needed only where they are used: the real `council-bot` in a subprocess, a local
OpenAI-compatible server (the fake) for the local personas, and no cloud key unless given."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakediscord.state import Perm
from tests.fakellm import FakeLLM, Fault, ModelScript, plausible_opinion
from tests.ports import free_port

ANTHROPIC_KEY = "sk-ant-keys-test-5b1f7c"
GEMINI_KEY = "g-keys-test-93c1d0"
# The variables the config names; none is set unless a test sets it.
KEY_NAMES = ("ANTHROPIC_KEY", "GEMINI_KEY")
LOCAL_MODELS = ("llama3.2", "qwen2.5")


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM(keys={"anthropic": ANTHROPIC_KEY, "gemini": GEMINI_KEY}) as server:
        yield server


def _config(fake: FakeLLM, *, extra: str = "", qwen: str = "") -> str:
    """Two cloud personas with keys, two local ones without; `default` seats both kinds."""
    return f"""
[providers.anthropic]
kind = "anthropic"
base_url = "{fake.base_url("anthropic")}"
api_key_env = "ANTHROPIC_KEY"

[providers.gemini]
kind = "gemini"
base_url = "{fake.base_url("gemini")}"
api_key_env = "GEMINI_KEY"

[providers.local]
kind = "openai"
base_url = "{fake.base_url("openai")}"

[models.claude]
provider = "anthropic"
model = "claude-test"

[models.gemini]
provider = "gemini"
model = "gemini-test"

[models.local-llama]
provider = "local"
model = "llama3.2"

[models.local-qwen]
provider = "local"
model = "qwen2.5"
{qwen}

[[personas]]
name = "Claude"
model = "claude"

[[personas]]
name = "Gemini"
model = "gemini"

[[personas]]
name = "Orca"
model = "local-llama"

[[personas]]
name = "Heron"
model = "local-qwen"
{extra}
[presets.default]
members = ["Claude", "Gemini", "Orca"]
rounds = 1

[presets.local]
members = ["Orca", "Heron"]
rounds = 1
"""


def _env(tmp_path: Path, keys: dict[str, str]) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "COUNCIL_")) and k not in KEY_NAMES
    }
    env.update(
        COUNCIL_CONFIG=str(tmp_path / "council.toml"),
        COUNCIL_DB=str(tmp_path / "data" / "council.db"),
        NO_COLOR="1",
        **keys,
    )
    return env


def _cli(
    tmp_path: Path, *args: str, keys: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=_env(tmp_path, keys or {}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _rows(stdout: str) -> dict[str, str]:
    """Table rows by model key."""
    return {
        line.split()[0]: line
        for line in stdout.splitlines()
        if " OK " in line or " FAILED " in line
    }


def _assert_clean(result: subprocess.CompletedProcess) -> None:
    output = result.stdout + result.stderr
    assert "Traceback" not in output
    assert ANTHROPIC_KEY not in output
    assert GEMINI_KEY not in output


def test_check_of_the_local_preset_needs_no_cloud_key_and_prints_only_the_table(tmp_path, fake):
    for model in LOCAL_MODELS:
        fake.script(model, reply="OK")
    (tmp_path / "council.toml").write_text(_config(fake))
    result = _cli(tmp_path, "check", "--preset", "local")
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_clean(result)
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == f"{tmp_path / 'council.toml'}: configuration OK"
    assert lines[1].split() == ["model", "provider", "status", "latency", "error"]
    assert [line.split()[:4] for line in lines[2:4]] == [
        ["local-llama", "(llama3.2)", "local", "OK"],
        ["local-qwen", "(qwen2.5)", "local", "OK"],
    ]
    assert lines[4:] == ["2/2 models OK"]


def test_check_warns_about_an_avatar_discord_would_not_show_and_goes_on(tmp_path, fake):
    for model in LOCAL_MODELS:
        fake.script(model, reply="OK")
    config = _config(fake).replace(
        'model = "local-qwen"\n', 'model = "local-qwen"\navatar_url = "https://example.org/h.svg"\n'
    )
    (tmp_path / "council.toml").write_text(config)
    result = _cli(tmp_path, "check", "--preset", "local")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    path = tmp_path / "council.toml"
    assert lines[:2] == [
        f"{path}: configuration OK, 1 warning(s):",
        f"  - {path}: personas[3].avatar_url: is an SVG image, which Discord does not show as an "
        "avatar — use a PNG, JPEG, WebP or GIF image URL",
    ]
    assert lines[-1] == "2/2 models OK"


def test_check_of_every_preset_fails_the_rows_without_a_key_and_sends_them_nothing(tmp_path, fake):
    for model in LOCAL_MODELS:
        fake.script(model, reply="OK")
    (tmp_path / "council.toml").write_text(_config(fake))
    result = _cli(tmp_path, "check")
    assert result.returncode == 1
    _assert_clean(result)
    assert result.stderr == ""
    rows = _rows(result.stdout)
    assert "FAILED" in rows["claude"]
    assert rows["claude"].endswith("no_key: ANTHROPIC_KEY is not set")
    assert rows["gemini"].endswith("no_key: GEMINI_KEY is not set")
    assert " OK " in rows["local-llama"]
    assert " OK " in rows["local-qwen"]
    assert "2/4 models OK; 2 failed" in result.stdout
    assert fake.requests_for("claude-test") == []
    assert fake.requests_for("gemini-test") == []


def test_check_asks_each_model_once_and_logs_no_retry_before_its_table(tmp_path, fake):
    # The local provider keeps its default retries for councils; a check does not use them.
    fake.script("llama3.2", fault=Fault.http(503), fault_rate=1.0)
    fake.script("qwen2.5", reply="OK")
    (tmp_path / "council.toml").write_text(_config(fake))
    result = _cli(tmp_path, "check", "--preset", "local")
    assert result.returncode == 1
    _assert_clean(result)
    assert result.stderr == ""
    assert result.stdout.splitlines()[1].startswith("model")
    assert "overloaded" in _rows(result.stdout)["local-llama"]
    assert len(fake.requests_for("llama3.2")) == 1


def test_check_explain_says_what_to_do_about_each_failed_row(tmp_path, fake):
    fake.script(
        "llama3.2",
        fault=Fault.http(404, message='model "llama3.2" not found, try pulling it first'),
        fault_rate=1.0,
    )
    fake.script("qwen2.5", fault=Fault.http(429), fault_rate=1.0)
    port = free_port()
    extra = f"""
[providers.lan]
kind = "openai"
base_url = "http://127.0.0.1:{port}/v1"

[models.lan-model]
provider = "lan"
model = "mistral"

[[personas]]
name = "Lynx"
model = "lan-model"
"""
    config = _config(fake).replace("[presets.default]", f"{extra}\n[presets.default]")
    config = config.replace('members = ["Orca", "Heron"]', 'members = ["Orca", "Heron", "Lynx"]')
    (tmp_path / "council.toml").write_text(config)
    keys = {"ANTHROPIC_KEY": "sk-ant-wrong-key-that-must-not-leak"}

    plain = _cli(tmp_path, "check", keys=keys)
    assert plain.returncode == 1
    assert "What to do" not in plain.stdout
    # The row itself says which model to pull.
    assert "ollama pull llama3.2" in _rows(plain.stdout)["local-llama"]

    result = _cli(tmp_path, "check", "--explain", keys=keys)
    assert result.returncode == 1
    _assert_clean(result)
    assert "sk-ant-wrong-key-that-must-not-leak" not in result.stdout + result.stderr
    assert result.stderr == ""
    advice = result.stdout.split("\nWhat to do:\n", 1)[1].splitlines()
    assert advice == [
        "  claude: the key was refused: check the value of ANTHROPIC_KEY",
        "  gemini: set GEMINI_KEY in .env or the environment, or check only the presets you "
        "can run now: council-bot check --preset NAME",
        "  local-llama: run `ollama pull llama3.2` where Ollama runs, then check again",
        "  local-qwen: the provider is limiting requests: wait a minute and check again",
        f"  lan-model: is the server running at http://127.0.0.1:{port}/v1? Start it, or "
        "correct providers.lan.base_url",
    ]


def test_console_with_the_local_preset_runs_with_no_cloud_key(tmp_path, fake):
    for model in LOCAL_MODELS:
        fake.script(model, ModelScript(reply=plausible_opinion, tokens_per_s=400.0))
    (tmp_path / "council.toml").write_text(_config(fake))
    result = _cli(tmp_path, "console", "Trains or cars?", "--preset", "local")
    assert result.returncode == 0, result.stdout + result.stderr
    _assert_clean(result)
    assert "Orca: " in result.stdout
    assert "Heron: " in result.stdout


def test_console_refuses_each_persona_without_a_key_in_one_line(tmp_path, fake):
    (tmp_path / "council.toml").write_text(_config(fake))
    result = _cli(tmp_path, "console", "Trains or cars?", keys={"ANTHROPIC_KEY": ANTHROPIC_KEY})
    assert result.returncode == 2
    _assert_clean(result)
    assert result.stderr.splitlines() == [
        "council-bot: Persona Gemini can't be seated: GEMINI_KEY is not set — set GEMINI_KEY in "
        ".env or the environment."
    ]
    assert fake.requests == []


# --- run -------------------------------------------------------------------------------------


def test_a_first_run_without_a_token_names_the_keys_still_to_fill_in(tmp_path, fake):
    (tmp_path / "council.toml").write_text(_config(fake))
    result = _cli(tmp_path, "run", keys={"ANTHROPIC_KEY": ANTHROPIC_KEY})
    assert result.returncode == 2
    _assert_clean(result)
    *warnings, last = result.stderr.splitlines()
    assert last.startswith("council-bot: DISCORD_TOKEN is not set")
    assert len(warnings) == 1
    assert warnings[0].endswith(
        "Persona Gemini can't be seated: GEMINI_KEY is not set — set GEMINI_KEY in .env or "
        "the environment."
    )


async def _run_bot(fake_discord, guild_id: int, tmp_path: Path, keys: dict[str, str]):
    env = _env(tmp_path, keys)
    env.update(
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        COUNCIL_DEV_GUILD_ID=str(guild_id),
    )
    log = (tmp_path / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env, stdout=log, stderr=log
    )
    log.close()
    await fake_discord.wait_for(
        lambda: fake_discord.gateway.dispatched("GUILD_CREATE") or process.returncode is not None,
        timeout=20,
        what="the bot to receive its guild",
    )
    return process


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.send_signal(signal.SIGINT)
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


async def test_run_names_each_persona_it_cannot_seat_and_refuses_them_privately_at_start(
    fake_discord, discord_driver, fake_llm, tmp_path
):
    driver = discord_driver
    guild = driver.create_guild("Keys")
    general = driver.create_text_channel(guild, "general")
    host = driver.create_member(guild, "host", permissions=Perm.MANAGE_THREADS)
    for model in ("claude-test", *LOCAL_MODELS):
        fake_llm.script(model, reply="A short answer.")
    # Gemini's key is not set, and Heron's model has a mistake: neither stops the bot.
    config = _config(fake_llm, qwen="temperature = 5").replace(
        'model = "claude"\n', 'model = "claude"\navatar_url = "https://example.org/claude.svg"\n'
    )
    (tmp_path / "council.toml").write_text(config)
    process = await _run_bot(fake_discord, guild.id, tmp_path, {"ANTHROPIC_KEY": ANTHROPIC_KEY})
    try:
        assert process.returncode is None, (tmp_path / "bot.log").read_text()

        refused = await driver.slash(host, general, "council start", topic="Tea?")
        reply = await refused.wait_response(timeout=10)
        assert reply.is_ephemeral
        assert reply.content == (
            "Persona Gemini can't be seated: GEMINI_KEY is not set. The bot's operator must set "
            "GEMINI_KEY in .env or the environment and restart the bot."
        )
        broken = await driver.slash(host, general, "council start", topic="Tea?", preset="local")
        reply = await broken.wait_response(timeout=10)
        assert reply.is_ephemeral
        assert reply.content.startswith(
            "Persona Heron can't be seated: council.toml has a mistake at "
            "models.local-qwen.temperature."
        )
        assert driver.threads_of(general) == []

        seated = await driver.slash(
            host, general, "council start", topic="Tea?", members="Claude,Orca"
        )
        reply = await seated.wait_response(timeout=10)
        assert reply.content.startswith("Council #1 meets in")
    finally:
        await _stop(process)

    log = (tmp_path / "bot.log").read_text()
    assert "Traceback" not in log
    assert ANTHROPIC_KEY not in log
    [avatar] = [line for line in log.splitlines() if "avatar_url" in line]
    assert "WARNING" in avatar
    assert avatar.endswith(
        "personas[0].avatar_url: is an SVG image, which Discord does not show "
        "as an avatar — use a PNG, JPEG, WebP or GIF image URL"
    )
    unseated = [line for line in log.splitlines() if "can't be seated" in line]
    assert len(unseated) == 2
    assert "WARNING" in unseated[0]
    assert unseated[0].endswith(
        "Persona Gemini can't be seated: GEMINI_KEY is not set — set GEMINI_KEY in .env or the "
        "environment."
    )
    assert "Persona Heron can't be seated: " in unseated[1]
    assert unseated[1].endswith(
        "models.local-qwen.temperature: Input should be less than or equal to 2 (got 5) — "
        "correct the value."
    )
