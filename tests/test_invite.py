"""`council-bot invite`: the permission integer is exactly the permissions the README lists."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import discord

README = Path(__file__).resolve().parents[1] / "README.md"


def _readme_permissions() -> set[str]:
    text = README.read_text()
    section = text.split("## Discord permissions", 1)[1].split("\n## ", 1)[0]
    return {m.strip().lower() for m in re.findall(r"^- (.+)$", section, re.MULTILINE)}


def _invite(*args: str, token: str = "") -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    env["DISCORD_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "bot", "invite", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        cwd=README.parent,
    )


def test_the_invite_permissions_decode_to_exactly_the_readmes_list():
    result = _invite("--client-id", "123456789012345678")
    assert result.returncode == 0, result.stderr
    url = urlsplit(result.stdout.strip())
    query = parse_qs(url.query)
    assert query["client_id"] == ["123456789012345678"]
    assert query["scope"] == ["bot applications.commands"]
    listed = {
        name.replace(" ", "_").replace("view_channels", "view_channel")
        for name in _readme_permissions()
    }
    assert int(query["permissions"][0]) == discord.Permissions(**dict.fromkeys(listed, True)).value


def test_the_client_id_comes_from_the_token_when_not_given():
    head = base64.b64encode(b"987654321098765432").decode().rstrip("=")
    result = _invite(token=f"{head}.GHIJKL.mnopqrstuvwxyz")
    assert "client_id=987654321098765432" in result.stdout


def test_without_a_client_id_or_token_it_says_what_to_give_in_one_line():
    result = _invite()
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "council-bot: give --client-id (the Application ID from the Discord developer portal), "
        "or set DISCORD_TOKEN."
    ]
