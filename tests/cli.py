"""Running the real `council-bot` on a stored database, as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def database_command(
    tmp_path: Path, db: Path, command: str, *args: str
) -> subprocess.CompletedProcess[bytes]:
    """`council-bot COMMAND ARGS` on `db`, with no config and a locale that can't encode emoji.

    Reading the store must need no config, and a bare server's locale is often plain ASCII.
    """
    return council_bot(tmp_path, command, *args, COUNCIL_DB=str(db), PYTHONIOENCODING="ascii")


def council_bot(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[bytes]:
    """`council-bot ARGS` in `tmp_path` with no config, in the C locale, with only these of the
    bot's own variables (DISCORD_*, COUNCIL_*, DATABASE_URL) set."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DISCORD_", "COUNCIL_")) and k != "DATABASE_URL"
    }
    clean.update(COUNCIL_CONFIG=str(tmp_path / "missing.toml"), LC_ALL="C")
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
