"""What the command line logs, run as a user would: the bot's own lines by default, the
libraries' chatter only with --verbose, never a log line on the console's stdout and never a
colour code in a file."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakellm import FakeLLM, Fault, ModelScript

# A log line as the bot formats it: "2026-01-02 03:04:05,678 INFO    bot.x: ...".
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR)")
# A line from a library's logger: "... INFO    discord.gateway: ...".
LIBRARY_LINE = re.compile(r"^\S+ \S+ \w+ +(?!bot[.:]|cogs[.:])[\w.]+: ", re.MULTILINE)
ORCA_SAYS = " ".join(f"word{i}" for i in range(40))


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def _config(path: Path, base_url: str) -> None:
    # Orca streams for about two seconds; Heron fails at once, which the bot logs meanwhile.
    path.write_text(
        f"""
[providers.local]
kind = "openai"
base_url = "{base_url}"
max_retries = 0

[models.orca]
provider = "local"
model = "orca-model"

[models.heron]
provider = "local"
model = "heron-model"

[[personas]]
name = "Orca"
model = "orca"
color = "#2E8B57"

[[personas]]
name = "Heron"
model = "heron"
color = "#8A2BE2"

[presets.default]
members = ["Orca", "Heron"]
rounds = 1
summariser = "Orca"
"""
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # No NO_COLOR and no keys: what a new user's shell has.
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "COUNCIL_")) and k not in ("NO_COLOR", "LOG_LEVEL")
    }
    env.update(
        COUNCIL_CONFIG=str(tmp_path / "council.toml"), COUNCIL_DB=str(tmp_path / "council.db")
    )
    env.update(extra)
    return env


def _console(tmp_path: Path, fake: FakeLLM, *args: str, env: dict[str, str] | None = None):
    """`council-bot console` with stdout and stderr each piped to its own file."""
    fake.script("orca-model", ModelScript(reply=ORCA_SAYS, tokens_per_s=20.0))
    fake.script("heron-model", ModelScript(fault=Fault.http(500)))
    _config(tmp_path / "council.toml", fake.base_url("openai"))
    with (tmp_path / "out.txt").open("w") as out, (tmp_path / "err.txt").open("w") as err:
        result = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=tmp_path,
            env=env or _env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            timeout=60,
            check=False,
        )
    return result, (tmp_path / "out.txt").read_text(), (tmp_path / "err.txt").read_text()


def test_console_piped_to_a_file_has_no_colour_codes_and_no_log_lines_on_stdout(tmp_path, fake):
    result, out, err = _console(tmp_path, fake, "console", "Should cities ban cars?")

    assert result.returncode == 0, out + err
    assert "Orca: " in out
    assert "[Heron " in out  # the failure is shown on stdout, in plain text ...
    assert "\x1b" not in out
    assert not LOG_LINE.search(out)
    # ... and logged on stderr, where the bot's own lines go.
    assert "bot.providers" in err
    assert "heron-model failed" in err


def test_console_at_the_default_level_logs_no_library_lines(tmp_path, fake):
    _, out, err = _console(tmp_path, fake, "console", "Should cities ban cars?")

    assert "Orca: " in out
    assert LOG_LINE.search(err), err  # the bot's own lines are there
    assert not LIBRARY_LINE.search(err), err
    assert "httpx" not in err
    assert "\x1b" not in err


@pytest.mark.parametrize(
    "args",
    [
        ("--verbose", "console", "Should cities ban cars?"),
        ("console", "Should cities ban cars?", "-v"),
    ],
)
def test_verbose_before_or_after_the_command_logs_every_request(tmp_path, fake, args):
    result, out, err = _console(tmp_path, fake, *args)

    assert result.returncode == 0, out + err
    assert "httpx: HTTP Request: POST" in err
    assert "heron-model failed" in err
    assert not LOG_LINE.search(out)


def test_console_with_stderr_on_stdout_ends_the_streaming_line_before_a_log_line(tmp_path, fake):
    fake.script("orca-model", ModelScript(reply=ORCA_SAYS, tokens_per_s=20.0))
    fake.script("heron-model", ModelScript(fault=Fault.http(500)))
    _config(tmp_path / "council.toml", fake.base_url("openai"))
    with (tmp_path / "both.txt").open("w") as both:
        subprocess.run(
            [sys.executable, "-m", "bot", "console", "Should cities ban cars?"],
            cwd=tmp_path,
            env=_env(tmp_path),
            stdin=subprocess.DEVNULL,
            stdout=both,
            stderr=subprocess.STDOUT,
            timeout=60,
            check=False,
        )
    lines = (tmp_path / "both.txt").read_text().splitlines()

    logged = [i for i, line in enumerate(lines) if LOG_LINE.search(line)]
    assert any("heron-model failed" in lines[i] for i in logged)
    for i in logged:
        assert LOG_LINE.match(lines[i]), f"a log line inside a reply: {lines[i]!r}"
    # Orca's reply was cut by the log lines and went on after them under its name again,
    # every word of it.
    orca = [line.removeprefix("Orca: ") for line in lines if line.startswith("Orca: ")]
    assert len(orca) > 1
    assert "".join(orca) == ORCA_SAYS


async def _run_bot_until_ready(fake_discord, tmp_path: Path, *args: str) -> str:
    """`council-bot [args] run` against the fake Discord until it has its guild; its stderr."""
    _config(tmp_path / "council.toml", "http://127.0.0.1:9/v1")
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
    )
    sent = len(fake_discord.gateway.dispatched("GUILD_CREATE"))
    with (tmp_path / "err.txt").open("w") as err:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            *args,
            "run",
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            await fake_discord.wait_for(
                lambda: len(fake_discord.gateway.dispatched("GUILD_CREATE")) > sent,
                timeout=20,
                what="the bot to receive its guild",
            )
        finally:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
    return (tmp_path / "err.txt").read_text()


async def test_run_at_the_default_level_logs_no_discord_chatter_and_no_voice_warnings(
    fake_discord, discord_driver, tmp_path
):
    discord_driver.create_guild("Logs")
    err = await _run_bot_until_ready(fake_discord, tmp_path)

    assert "bot: store" in err  # the bot's own line
    assert not LIBRARY_LINE.search(err), err
    assert "PyNaCl" not in err
    assert "davey" not in err


async def test_run_verbose_logs_discord_and_its_voice_warnings(
    fake_discord, discord_driver, tmp_path
):
    discord_driver.create_guild("Logs")
    err = await _run_bot_until_ready(fake_discord, tmp_path, "--verbose")

    assert LIBRARY_LINE.search(err)
    assert "discord.gateway: " in err
    assert "discord.client: " in err
    if importlib.util.find_spec("nacl") is None:
        assert "PyNaCl is not installed" in err
