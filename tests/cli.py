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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    env.update(COUNCIL_DB=str(db), COUNCIL_CONFIG=str(tmp_path / "missing.toml"), LC_ALL="C")
    env["PYTHONIOENCODING"] = "ascii"
    return subprocess.run(
        [sys.executable, "-m", "bot", command, *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
