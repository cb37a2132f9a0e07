"""`council-bot run` as a real child process against the fakes, for tests that kill it or run
several side by side (shard clusters)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from tests.council.conftest import NAMES
from tests.fakediscord import FakeDiscord

T = TypeVar("T")
# Settings of the test's own environment that must not leak into the child's.
OWN_PREFIXES = ("DISCORD_", "COUNCIL_", "SHARD", "REST_SHARE", "LEASE_TTL_S", "DATABASE_URL")


def write_config(path: Path, base_url: str) -> None:
    """A council.toml seating the four test personas on one OpenAI-compatible fake."""
    lines = [f'[providers.local]\nkind = "openai"\nbase_url = "{base_url}"\nmax_retries = 0\n']
    for name in NAMES:
        lines.append(
            f'[models.{name.lower()}]\nprovider = "local"\nmodel = "{name.lower()}-model"\n'
        )
    for name in NAMES:
        lines.append(f'[[personas]]\nname = "{name}"\nmodel = "{name.lower()}"\n')
    members = ", ".join(f'"{n}"' for n in NAMES)
    lines.append(f"[presets.default]\nmembers = [{members}]\nrounds = 2\n")
    path.write_text("\n".join(lines))


class BotProcess:
    """`council-bot run [args]` as a real process against the fakes, in folder `tmp`.

    The store is `tmp/council.db` unless `env` names another (COUNCIL_DB or DATABASE_URL).
    """

    def __init__(
        self,
        fake: FakeDiscord,
        guild_id: int,
        tmp: Path,
        *,
        args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        name: str = "bot",
    ) -> None:
        self.fake = fake
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(OWN_PREFIXES)}
        self.env.update(
            DISCORD_TOKEN=fake.token,
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            COUNCIL_DEV_GUILD_ID=str(guild_id),
            COUNCIL_CONFIG=str(tmp / "council.toml"),
            COUNCIL_DB=str(tmp / "council.db"),
        )
        self.env.update(env or {})
        self.args = tuple(args)
        self.tmp = tmp
        self.log_path = tmp / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Spawn it; wait until the fake has sent it a guild (after IDENTIFY)."""
        guilds_sent = len(self.fake.gateway.dispatched("GUILD_CREATE"))
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                *self.args,
                cwd=self.tmp,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        process = self.process
        # Commands are synced in setup_hook, before the gateway connects; the guild arrives
        # after IDENTIFY.
        await self.fake.wait_for(
            lambda: (
                process.returncode is not None
                or len(self.fake.gateway.dispatched("GUILD_CREATE")) > guilds_sent
            ),
            timeout=20,
            what="the bot to receive its guild",
        )
        if process.returncode is not None:
            raise AssertionError(f"the bot exited with {process.returncode}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        """The end of the bot's log."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def kill(self) -> None:
        """SIGKILL: the process ends at once, winding nothing down."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """Stop it as an operator would (Ctrl-C), or kill it if it won't."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def poll(check: Callable[[], Awaitable[T | None]], timeout: float = 15.0) -> T:
    """Await `check()` every 50 ms until it returns something truthy; return that."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {check.__name__}")
        await asyncio.sleep(0.05)
