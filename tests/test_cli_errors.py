"""Every mistake an operator can make ends in one plain line on stderr, a non-zero exit and no
traceback; a Discord that can't be reached is tried again. The real `council-bot` runs in a
subprocess against the fake Discord, a closed port, or a server that answers nonsense."""

from __future__ import annotations

import asyncio
import itertools
import os
import re
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from tests.fakediscord.rules import Kind

KEY = "sk-local-secret-key-that-must-never-show"
# Shaped like a bot token (its first part encodes an application id), but not the fake's.
WRONG_TOKEN = "ODk4NzY1NDMyMTA5ODc2NTQz.Wr0ng1.a-token-that-was-reset-long-ago-xyz"
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
RETRY = re.compile(r"Can't reach Discord \((.+)\); trying again in (\d+) s\.$")


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def one_line(self) -> str:
        """The only line on stderr; no traceback, nothing on stdout."""
        assert "Traceback" not in self.stderr, self.stderr
        lines = self.stderr.splitlines()
        assert len(lines) == 1, self.stderr
        assert self.stdout == ""
        return lines[0]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(tmp_path: Path, **overrides: str) -> dict[str, str]:
    """A new operator's environment: a valid config, a key, LOG_LEVEL=ERROR so that stderr
    holds only what the command says; Discord points at a closed port unless overridden."""
    config = tmp_path / "council.toml"
    if not config.exists():
        config.write_text(
            f"""
[providers.local]
kind = "openai"
base_url = "http://127.0.0.1:{_closed_port()}/v1"
api_key_env = "LOCAL_API_KEY"
max_retries = 0

[models.m]
provider = "local"
model = "m-1"

[[personas]]
name = "Ann"
model = "m"

[[personas]]
name = "Bob"
model = "m"

[presets.default]
members = ["Ann", "Bob"]
"""
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    closed = _closed_port()
    env.update(
        COUNCIL_CONFIG=str(config),
        COUNCIL_DB=str(tmp_path / "data" / "council.db"),
        LOCAL_API_KEY=KEY,
        LOG_LEVEL="ERROR",
        NO_COLOR="1",
        DISCORD_API_BASE=f"http://127.0.0.1:{closed}/api/v10",
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{closed}/gateway",
    )
    env.update(overrides)
    return env


async def _start(tmp_path: Path, env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _council_bot(tmp_path: Path, env: dict[str, str], *args: str) -> Result:
    """Run `council-bot ARGS` to its end (killed after 60 s, which fails the test)."""
    process = await _start(tmp_path, env, *args)
    try:
        out, err = await asyncio.wait_for(process.communicate(), 60)
    except TimeoutError:
        process.kill()
        out, err = await process.communicate()
        pytest.fail(f"council-bot {' '.join(args)} did not end:\n{err.decode()}")
    assert process.returncode is not None
    return Result(process.returncode, out.decode(), err.decode())


async def _read_until(
    process: asyncio.subprocess.Process, lines: list[str], pattern: re.Pattern[str], count: int
) -> None:
    """Collect stderr lines into `lines` until `count` of them match `pattern` (30 s at most)."""
    stderr = process.stderr
    assert stderr is not None

    async def read() -> None:
        while sum(1 for line in lines if pattern.search(line)) < count:
            raw = await stderr.readline()
            if not raw:
                raise AssertionError("council-bot ended early:\n" + "\n".join(lines))
            lines.append(raw.decode().rstrip("\n"))

    try:
        await asyncio.wait_for(read(), 30)
    except TimeoutError:
        listing = "\n".join(lines)
        raise AssertionError(f"no {count} lines like {pattern.pattern}:\n{listing}") from None


async def _interrupt(process: asyncio.subprocess.Process, lines: list[str]) -> int:
    """Ctrl-C, then the rest of stderr into `lines`; returns the exit code."""
    assert process.stderr is not None
    process.send_signal(signal.SIGINT)
    try:
        rest = await asyncio.wait_for(process.stderr.read(), 20)
        await asyncio.wait_for(process.wait(), 20)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise AssertionError("council-bot did not stop on Ctrl-C:\n" + "\n".join(lines)) from None
    lines.extend(rest.decode().splitlines())
    return process.returncode if process.returncode is not None else -1


def _no_secrets(text: str, *secrets: str) -> None:
    for secret in (KEY, *secrets):
        assert secret not in text


# --- Settings, config file and database: before Discord is asked anything ---------------


def _folder_config(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "configs").mkdir()
    return {"COUNCIL_CONFIG": str(tmp_path / "configs")}


def _latin1_config(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "latin1.toml"
    path.write_bytes("# Council\n# Réunion du conseil\n".encode("latin-1"))
    return {"COUNCIL_CONFIG": str(path)}


def _missing_config(tmp_path: Path) -> dict[str, str]:
    return {"COUNCIL_CONFIG": str(tmp_path / "nowhere.toml")}


@pytest.mark.parametrize(
    ("args", "setup", "line"),
    [
        (
            ("run",),
            lambda tmp: {"LOG_LEVEL": "verbose"},
            "council-bot: LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not 'verbose'.",
        ),
        (
            ("run",),
            lambda tmp: {"COUNCIL_DEV_GUILD_ID": "abc"},
            "council-bot: COUNCIL_DEV_GUILD_ID must be a server id, a whole number (in Discord: "
            "right-click the server, Copy Server ID), or empty, not 'abc'.",
        ),
        (
            ("sync",),
            lambda tmp: {"DISCORD_API_BASE": "localhost:8080"},
            "council-bot: DISCORD_API_BASE must be an http(s) URL with the API version, e.g. "
            "http://127.0.0.1:8080/api/v10, or empty for Discord itself, not 'localhost:8080'.",
        ),
        (
            ("check",),
            _folder_config,
            "council-bot: {tmp}/configs: (file): is a folder — set COUNCIL_CONFIG to the file "
            "itself",
        ),
        (
            ("check",),
            _latin1_config,
            "council-bot: {tmp}/latin1.toml: (file): is not UTF-8 text (line 2) — save it as "
            "UTF-8, or set COUNCIL_CONFIG to your council.toml",
        ),
        (
            ("run",),
            _missing_config,
            "council-bot: {tmp}/nowhere.toml: (file): does not exist — copy "
            "council.example.toml to council.toml, or set COUNCIL_CONFIG",
        ),
        (
            ("invite",),
            lambda tmp: {"DISCORD_TOKEN": "not-a-bot-token"},
            "council-bot: DISCORD_TOKEN is malformed: a bot token starts with the application "
            "id. Copy it again from the developer portal (Bot > Reset Token), or give "
            "--client-id (the Application ID).",
        ),
        (
            ("sync", "--guild", "my-server"),
            lambda tmp: {},
            "council-bot sync: argument --guild: invalid int value: 'my-server' "
            "(see `council-bot sync --help`)",
        ),
        (
            ("run",),
            lambda tmp: {"COUNCIL_DB": str(tmp)},
            "council-bot: COUNCIL_DB is a folder ({tmp}): set it to a database file, e.g. "
            "{tmp}/council.db.",
        ),
        (
            ("run",),
            lambda tmp: {"COUNCIL_DB": str(tmp / "council.toml" / "council.db")},
            "council-bot: Can't create the database {tmp}/council.toml/council.db: "
            "{tmp}/council.toml is a file, not a folder. Set COUNCIL_DB to a file in a folder "
            "the bot may write.",
        ),
    ],
    ids=[
        "log-level",
        "dev-guild-id",
        "api-base",
        "config-folder",
        "config-not-utf8",
        "config-missing",
        "invite-malformed-token",
        "sync-guild-not-a-number",
        "db-folder",
        "db-under-a-file",
    ],
)
async def test_a_setup_mistake_is_one_line_and_exit_2(tmp_path, args, setup, line):
    env = _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN)
    env.update(setup(tmp_path))

    result = await _council_bot(tmp_path, env, *args)

    assert result.returncode == 2
    assert result.one_line() == line.format(tmp=tmp_path)
    _no_secrets(result.stderr, WRONG_TOKEN)


async def test_a_file_that_is_not_a_database_is_one_line_and_left_alone(tmp_path):
    db = tmp_path / "notes.db"
    db.write_bytes(b"Shopping: bread, milk.\n" * 200)

    result = await _council_bot(
        tmp_path, _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN, COUNCIL_DB=str(db)), "run"
    )

    assert result.returncode == 2
    assert result.one_line() == (
        f"council-bot: {db} is not a SQLite database: set COUNCIL_DB to Council's, or to a "
        "new file."
    )
    assert db.read_bytes() == b"Shopping: bread, milk.\n" * 200


# --- Discord's answers --------------------------------------------------------------------


async def test_a_token_discord_refuses_is_one_line_for_run_and_sync(tmp_path, fake_discord):
    fake_discord.expect_violation(Kind.BAD_TOKEN)
    env = _env(
        tmp_path,
        DISCORD_TOKEN=WRONG_TOKEN,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
    )

    for args in (("run",), ("sync", "--guild", "42")):
        result = await _council_bot(tmp_path, env, *args)

        assert result.returncode == 2
        assert result.one_line() == (
            "council-bot: Discord refused DISCORD_TOKEN: it is wrong, or was reset in the "
            "developer portal. Copy the bot's token again (Bot > Reset Token) into .env."
        )
        _no_secrets(result.stderr, WRONG_TOKEN, fake_discord.token)


@pytest.mark.parametrize("refusal", ["not invited", "no commands scope"])
async def test_sync_to_a_server_discord_refuses_is_one_line(
    tmp_path, fake_discord, discord_driver, refusal
):
    fake = fake_discord
    if refusal == "not invited":
        guild_id, answer = 123456789012345678, "10004 Unknown Guild"
        fake.expect_violation(Kind.UNKNOWN_GUILD)
    else:
        guild_id, answer = discord_driver.create_guild("Ours").id, "50001 Missing Access"
        route = "/applications/{application_id}/guilds/{guild_id}/commands"
        fake.force_status("PUT", route, 403, code=50001, message="Missing Access")
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake.token,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
    )

    result = await _council_bot(tmp_path, env, "sync", "--guild", str(guild_id))

    assert result.returncode == 2
    assert result.one_line() == (
        f"council-bot: Discord won't take commands for server {guild_id} ({answer}): the bot "
        "is not in it, or was added without the applications.commands scope. Add it with the "
        "link `council-bot invite` prints, or check the server id."
    )
    _no_secrets(result.stderr, fake.token)


async def test_a_development_guild_the_bot_is_not_in_stops_run_in_one_line(tmp_path, fake_discord):
    fake_discord.expect_violation(Kind.UNKNOWN_GUILD)
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        COUNCIL_DEV_GUILD_ID="123456789012345678",
    )

    result = await _council_bot(tmp_path, env, "run")

    assert result.returncode == 2
    assert result.one_line().startswith(
        "council-bot: COUNCIL_DEV_GUILD_ID: Discord won't take commands for server "
        "123456789012345678 (10004 Unknown Guild): the bot is not in it"
    )


def _growing_retries(lines: list[str]) -> list[int]:
    waits = [int(m[2]) for line in lines if (m := RETRY.search(line))]
    assert len(waits) >= 2, lines
    assert all(a < b for a, b in itertools.pairwise(waits)), waits
    return waits


async def test_run_tries_a_discord_it_cannot_reach_again_with_growing_waits(tmp_path):
    env = _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN, LOG_LEVEL="WARNING")
    process = await _start(tmp_path, env, "run")
    lines: list[str] = []

    await _read_until(process, lines, RETRY, 2)
    code = await _interrupt(process, lines)

    _growing_retries(lines)
    reasons = [m[1] for line in lines if (m := RETRY.search(line))]
    assert reasons[0].startswith("can't connect to 127.0.0.1:")
    assert code == 130
    assert not any("Traceback" in line for line in lines), lines
    _no_secrets("\n".join(lines), WRONG_TOKEN)


async def test_run_tries_again_when_only_the_gateway_cannot_be_reached(tmp_path, fake_discord):
    # Discord's REST API answers, its gateway does not: discord.py gives up on a first
    # connection that fails.
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=f"ws://127.0.0.1:{_closed_port()}/gateway",
        LOG_LEVEL="WARNING",
    )
    process = await _start(tmp_path, env, "run")
    lines: list[str] = []

    await _read_until(process, lines, RETRY, 2)
    code = await _interrupt(process, lines)

    _growing_retries(lines)
    assert code == 130
    assert not any("Traceback" in line or "Lost the connection" in line for line in lines)
    _no_secrets("\n".join(lines), fake_discord.token)


async def test_sync_says_in_one_line_that_discord_cannot_be_reached(tmp_path):
    result = await _council_bot(tmp_path, _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN), "sync")

    assert result.returncode == 2
    line = result.one_line()
    assert re.fullmatch(
        r"council-bot: Can't reach Discord \(can't connect to 127\.0\.0\.1:\d+: Connection "
        r"refused\): check the network \(and DISCORD_API_BASE / DISCORD_GATEWAY_URL if set\), "
        r"then try again\.",
        line,
    ), line


async def _running_bot(
    tmp_path: Path, fake, driver, **overrides: str
) -> tuple[asyncio.subprocess.Process, list[str]]:
    """`council-bot run` connected to the fake and holding its guild."""
    driver.create_guild("Ours")
    guilds_sent = len(fake.gateway.dispatched("GUILD_CREATE"))
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake.token,
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        LOG_LEVEL="WARNING",
        **overrides,
    )
    process = await _start(tmp_path, env, "run")
    await fake.wait_for(
        lambda: len(fake.gateway.dispatched("GUILD_CREATE")) > guilds_sent,
        timeout=30,
        what="the bot to receive its guild",
    )
    return process, []


async def test_a_second_run_on_the_same_database_is_refused_and_ctrl_c_ends_the_first_quietly(
    tmp_path, fake_discord, discord_driver
):
    first, lines = await _running_bot(tmp_path, fake_discord, discord_driver)
    db = tmp_path / "data" / "council.db"
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
    )

    second = await _council_bot(tmp_path, env, "run")

    assert second.returncode == 2
    assert second.one_line() == (
        f"council-bot: Another `council-bot run` (process {first.pid}) is using the database "
        f"{db}: stop it first, or set COUNCIL_DB to another file."
    )
    assert first.returncode is None
    assert await _interrupt(first, lines) == 130
    assert not any("Traceback" in line or "Error" in line for line in lines), lines


async def test_a_connection_lost_while_running_is_one_line_per_attempt(
    tmp_path, fake_discord, discord_driver
):
    process, lines = await _running_bot(tmp_path, fake_discord, discord_driver)

    await fake_discord.stop()
    lost = re.compile(r"Lost the connection to Discord \(.+\); reconnecting in [\d.]+ s\.$")
    await _read_until(process, lines, lost, 2)
    code = await _interrupt(process, lines)

    assert code == 130
    assert not any("Traceback" in line for line in lines), lines
    _no_secrets("\n".join(lines), fake_discord.token)


# --- A bug is not an operator's mistake -----------------------------------------------------


class _Nonsense(BaseHTTPRequestHandler):
    """Answers every request 200 with an empty JSON object: no Discord would."""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        """Keep the test's output quiet."""


@pytest.fixture
def nonsense() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), _Nonsense)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v10"
    finally:
        server.shutdown()
        server.server_close()


async def test_an_unexpected_error_is_one_line_with_an_id_and_its_traceback_at_debug(
    tmp_path, nonsense
):
    env = _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN, DISCORD_API_BASE=nonsense)

    quiet = await _council_bot(tmp_path, env, "run")
    env["LOG_LEVEL"] = "DEBUG"
    verbose = await _council_bot(tmp_path, env, "run")

    assert quiet.returncode == verbose.returncode == 1
    line = re.compile(
        r"council-bot: unexpected error \(id ([0-9a-f]{8})\); run with LOG_LEVEL=DEBUG for "
        r"details\."
    )
    assert line.fullmatch(quiet.one_line())
    said = verbose.stderr.splitlines()
    match = line.fullmatch(said[-1])
    assert match is not None, verbose.stderr
    assert f"unexpected error {match[1]}" in verbose.stderr
    assert "Traceback" in verbose.stderr
    _no_secrets(quiet.stderr + verbose.stderr, WRONG_TOKEN)


@pytest.mark.parametrize("shards", [(), ("--shards", "0", "--shard-count", "2")])
async def test_a_bot_in_too_many_servers_for_its_shards_is_told_to_shard_in_one_line(
    tmp_path, fake_discord, discord_driver, shards
):
    fake_discord.max_guilds_per_session = 1
    for shard in (0, 0):
        discord_driver.create_guild("Busy", shard=(shard, 2))
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
    )

    result = await _council_bot(tmp_path, env, "run", *shards)

    assert result.returncode == 2
    assert result.one_line() == (
        "council-bot: Discord requires sharding (close code 4011): the bot is in too many "
        "servers for one shard. Run with --shards and --shard-count (see README, Running at "
        "scale)."
    )
