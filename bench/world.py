"""The benchmarks' world: the fakes in this process, the real bot in a child process.

`Fakes` serves the fake Discord (rate limits on, Discord-like buckets) and the fake model server
on this process's event loop. `BotProcess` runs ``council-bot run`` as a separate process pointed
at them, so the loop lag, memory and CPU it reports are the bot's alone (on two cores the fakes
get the other one). The rest sets up guilds, writes the operator's config and starts councils
the way a member would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.botrun import peak_rss_kb
from bot.council.models import GuildSettings, Session
from bot.store.store import Store
from tests.fakediscord import Driver, FakeDiscord, Perm
from tests.fakediscord.state import Channel, Guild, User
from tests.fakellm import FakeLLM
from tests.fakellm.wire import tokenize

REPO = Path(__file__).resolve().parent.parent
PERSONAS = ("Ada", "Basil", "Cleo", "Dara", "Ezra", "Fern", "Gus", "Hana")
# Writes every council's synthesis, quickly, so that closing a council costs no member's time.
SCRIBE = "Scribe"
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0
# Longer than Discord's 3 s deadline: an acknowledgement after it is refused and never lands.
OPEN_WAIT_S = 120.0
ACK_WAIT_S = 5.0
# The fake provider's `max_concurrency`: model calls the bot runs at once (and its connections).
MODEL_CONCURRENCY = 256
# `python -m bench --profile DIR` sets this: each bot process is sampled by py-spy into DIR.
PROFILE_DIR_ENV = "COUNCIL_BENCH_PROFILE_DIR"
_REPLY_WORDS = (
    "This member weighs the costs against the benefits and finds the evidence mixed, "
    "so a small reversible first step seems wiser than a sweeping change. "
)


def model_of(persona: str) -> str:
    """The fake model a persona speaks through."""
    return f"{persona.lower()}-model"


@dataclass(frozen=True)
class Pace:
    """How a fake model answers: its delay to the first token, then tokens per second."""

    first_token_s: float = 0.0
    tokens_per_s: float | None = None
    tokens: int = 150


# The four members: 0.4-1.6 s to first token, then 40 tokens/s for 150 tokens; and a
# quick version of them for the smoke run.
FOUR_PACES = tuple(Pace(delay, 40.0, 150) for delay in (0.4, 0.8, 1.2, 1.6))
QUICK_FOUR_PACES = tuple(Pace(delay, 100.0, 30) for delay in (0.1, 0.2, 0.3, 0.4))


def reply_text(tokens: int) -> str:
    """A neutral reply of exactly `tokens` tokens as the fake model counts them."""
    text = _REPLY_WORDS
    while len(tokenize(text)) < tokens:
        text += _REPLY_WORDS
    return "".join(tokenize(text)[:tokens])


@dataclass(frozen=True)
class Preset:
    """A line-up in the bench's council.toml."""

    members: tuple[str, ...]
    format: str = "parallel"
    rounds: int = 1


def council_toml(llm_base_url: str, presets: Mapping[str, Preset]) -> str:
    """The operator config: every persona on its own fake model, the Scribe summarising."""
    lines = [
        "[providers.fake]",
        'kind = "openai"',
        f'base_url = "{llm_base_url}"',
        "max_retries = 0",
        "timeout_s = 120",
        f"max_concurrency = {MODEL_CONCURRENCY}",
        "",
    ]
    for persona in (*PERSONAS, SCRIBE):
        lines += [
            f"[models.{persona.lower()}]",
            'provider = "fake"',
            f'model = "{model_of(persona)}"',
            "max_tokens = 700",
            "",
        ]
    for persona in (*PERSONAS, SCRIBE):
        lines += [
            "[[personas]]",
            f'name = "{persona}"',
            f'model = "{persona.lower()}"',
            f'avatar_url = "https://example.org/{persona.lower()}.png"',
            "",
        ]
    for name, preset in presets.items():
        members = ", ".join(f'"{m}"' for m in preset.members)
        lines += [
            f"[presets.{name}]",
            f"members = [{members}]",
            f'format = "{preset.format}"',
            f"rounds = {preset.rounds}",
            f'summariser = "{SCRIBE}"',
            "",
        ]
    return "\n".join(lines)


@dataclass
class Place:
    """A guild with its channels and a member allowed to host councils."""

    guild: Guild
    channels: list[Channel]
    host: User


class Fakes:
    """The fake Discord and the fake model server, serving on this process's loop."""

    def __init__(self) -> None:
        # The bench measures the bot; checking every body against Discord's OpenAPI schema
        # is the tests' job and would only slow the fake's answers down.
        self.discord = FakeDiscord(validate_openapi=False)
        self.driver = Driver(self.discord)
        self.llm = FakeLLM()
        self.paces: dict[str, Pace] = {}

    async def __aenter__(self) -> Fakes:
        await self.discord.start()
        await self.llm.start()
        self.script(SCRIBE, Pace(tokens=20))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.llm.stop()
        await self.discord.stop()

    def script(self, persona: str, pace: Pace) -> None:
        """Make a persona's model answer with `pace.tokens` tokens at this pace."""
        self.paces[persona] = pace
        self.llm.script(
            model_of(persona),
            reply=reply_text(pace.tokens),
            first_token_delay_s=pace.first_token_s,
            tokens_per_s=pace.tokens_per_s,
        )

    def add_place(self, name: str, channels: int = 1) -> Place:
        """A guild with `channels` text channels and a host (Manage Threads)."""
        guild = self.driver.create_guild(name)
        made = [self.driver.create_text_channel(guild, f"council-{i}") for i in range(channels)]
        host = self.driver.create_member(guild, f"host-{name}", permissions=Perm.MANAGE_THREADS)
        return Place(guild, made, host)

    def config(self, presets: Mapping[str, Preset]) -> str:
        """council.toml text for these presets, pointing at this fake model server."""
        return council_toml(self.llm.base_url("openai"), presets)


async def prepare(
    fakes: Fakes,
    workdir: Path,
    presets: Mapping[str, Preset],
    guild_ids: Iterable[int],
    **settings: Any,
) -> None:
    """Write the bot's council.toml with `presets`, and save each guild's settings.

    Benchmarks run rounds back to back (no pause) and keep voting open for an hour, unless
    `settings` says otherwise.
    """
    (workdir / "council.toml").write_text(fakes.config(presets), encoding="utf-8")
    values: dict[str, Any] = {"pause_between_rounds_s": 0, "vote_grace_s": 3600} | settings
    # Saved before the bot starts, as a host would set them with commands.
    async with Store.open(workdir / "council.db") as store:
        for guild_id in guild_ids:
            await store.save_guild_settings(GuildSettings(guild_id=guild_id, **values))


@dataclass
class Probe:
    """What `bench.botrun` recorded in the bot process."""

    lag: list[tuple[float, float]] = field(default_factory=list)
    rss_peak_kb: int | None = None

    def lag_between(self, start: float, end: float) -> list[float]:
        """Loop-lag samples (seconds) whose tick began in [start, end] (monotonic)."""
        return [lag for at, lag in self.lag if start <= at <= end]


class BotProcess:
    """``council-bot run`` in a child process, configured through its environment."""

    def __init__(
        self,
        fakes: Fakes,
        workdir: Path,
        *,
        dev_guild_id: int | None,
        is_probed: bool = True,
        name: str = "bot",
    ) -> None:
        self.fakes = fakes
        self.workdir = workdir
        self.is_probed = is_probed
        self.config_path = workdir / "council.toml"
        self.db = workdir / "council.db"
        self.log_path = workdir / f"{name}.log"
        self.probe_path = workdir / f"{name}-probe.json"
        fake = fakes.discord
        self.env = {
            k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))
        }
        self.env.update(
            DISCORD_TOKEN=fake.token,
            DISCORD_API_BASE=fake.api_base,
            DISCORD_GATEWAY_URL=fake.gateway_url,
            COUNCIL_CONFIG=str(self.config_path),
            COUNCIL_DB=str(self.db),
            LOG_LEVEL="INFO",
            PYTHONPATH=os.pathsep.join(
                p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p
            ),
        )
        if dev_guild_id is not None:
            self.env["COUNCIL_DEV_GUILD_ID"] = str(dev_guild_id)
        self.name = name
        self.process: asyncio.subprocess.Process | None = None
        self.profiler: asyncio.subprocess.Process | None = None
        self.spawned_at = 0.0

    @property
    def pid(self) -> int:
        """The child's process id."""
        if self.process is None:
            raise RuntimeError("the bot is not running")
        return self.process.pid

    async def sync_globally(self) -> None:
        """Register the slash commands for every guild with ``council-bot sync``."""
        with self.log_path.open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "sync",
                cwd=self.workdir,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        if await asyncio.wait_for(process.wait(), READY_TIMEOUT_S) != 0:
            raise RuntimeError(f"council-bot sync failed:\n{self.log_tail()}")

    async def start(self, guilds: int = 1) -> float:
        """Spawn the bot; wait until the fake has sent it `guilds` guilds; return the seconds."""
        fake = self.fakes.discord
        sent_before = len(fake.gateway.dispatched("GUILD_CREATE"))
        command = (
            ["-m", "bench.botrun", str(self.probe_path)] if self.is_probed else ["-m", "bot", "run"]
        )
        with self.log_path.open("ab") as log:
            self.spawned_at = time.monotonic()
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *command, cwd=self.workdir, env=self.env, stdout=log, stderr=log
            )
        process = self.process
        await self._start_profiler(process.pid)

        def received() -> bool:
            if process.returncode is not None:
                return True
            return len(fake.gateway.dispatched("GUILD_CREATE")) >= sent_before + guilds

        await fake.wait_for(received, timeout=READY_TIMEOUT_S, what="the bot to get its guilds")
        ready_at = time.monotonic()
        if process.returncode is not None:
            raise RuntimeError(f"the bot exited with {process.returncode}:\n{self.log_tail()}")
        return ready_at - self.spawned_at

    async def _start_profiler(self, pid: int) -> None:
        folder = os.environ.get(PROFILE_DIR_ENV)
        venv_bin = str(Path(sys.executable).parent)
        py_spy = shutil.which("py-spy") or shutil.which("py-spy", path=venv_bin)
        if not folder or py_spy is None:
            return
        output = Path(folder) / f"{self.workdir.name}-{self.name}.txt"
        self.profiler = await asyncio.create_subprocess_exec(
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--format",
            "raw",
            "--output",
            str(output),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )

    def cpu_s(self) -> float:
        """CPU time (user + system) the running bot has used so far, in seconds."""
        fields = Path(f"/proc/{self.pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1]
        user, system = fields.split()[11:13]
        return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")

    def peak_rss_mb(self) -> float | None:
        """The running bot's peak resident memory in MiB."""
        kb = peak_rss_kb(self.pid)
        return None if kb is None else kb / 1024

    async def stop(self) -> Probe:
        """Stop the bot as an operator would (SIGINT) and read its probe."""
        process = self.process
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(process.wait(), STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
        self.process = None
        if self.profiler is not None:
            await asyncio.wait_for(self.profiler.wait(), STOP_TIMEOUT_S)
            self.profiler = None
        if not self.is_probed or not self.probe_path.exists():
            return Probe()
        data = json.loads(self.probe_path.read_text(encoding="utf-8"))
        return Probe([(at, lag) for at, lag in data["lag"]], data.get("rss_peak_kb"))

    def log_problems(self) -> list[str]:
        """Log lines at ERROR or above, and tracebacks, from the bot's log."""
        if not self.log_path.exists():
            return []
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return [
            line
            for line in lines
            if " ERROR " in line or " CRITICAL " in line or line.startswith("Traceback")
        ]

    def log_tail(self, lines: int = 30) -> str:
        """The end of the bot's log, for error messages."""
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])


@contextlib.asynccontextmanager
async def running_bot(
    fakes: Fakes, workdir: Path, *, dev_guild_id: int | None, guilds: int = 1, name: str = "bot"
) -> AsyncIterator[BotProcess]:
    """A started `BotProcess`, stopped on exit whatever happens.

    Without a development guild the commands are first registered globally, as an operator
    does once with ``council-bot sync``.
    """
    bot = BotProcess(fakes, workdir, dev_guild_id=dev_guild_id, name=name)
    if dev_guild_id is None:
        await bot.sync_globally()
    try:
        await bot.start(guilds)
        yield bot
    finally:
        await bot.stop()


async def start_council(
    fakes: Fakes, place: Place, channel: Channel, *, topic: str, preset: str, rounds: int
) -> float:
    """Run ``/council start`` as the host; return the seconds until the bot acknowledged it.

    Raises:
        RuntimeError: the bot refused the council, let Discord's 3 s deadline pass, or told
            the host it could not open the council.
    """
    sent = time.monotonic()
    handle = await fakes.driver.slash(
        place.host, channel, "council start", topic=topic, preset=preset, rounds=rounds
    )
    try:
        await handle.wait_ack(timeout=ACK_WAIT_S)
    except AssertionError as exc:
        # Discord refuses an acknowledgement after 3 s, so a late one never arrives.
        raise RuntimeError(f"/council start in #{channel.name} was not acknowledged") from exc
    acknowledged = time.monotonic() - sent
    if not handle.is_deferred:
        said = [m.content for m in handle.responses]
        raise RuntimeError(f"/council start in #{channel.name} was refused: {said}")
    # After deferring, the host hears where the council meets, or why it could not start.
    said = (await handle.wait_response(timeout=OPEN_WAIT_S)).content
    if not said.startswith("Council #"):
        raise RuntimeError(f"/council start in #{channel.name} failed: {said}")
    return acknowledged


async def wait_for_sessions(
    store: Store,
    guild_ids: Sequence[int],
    count: int,
    *,
    timeout_s: float,
    is_done: Callable[[Session], bool],
) -> list[Session]:
    """Poll the store until `count` sessions of these guilds satisfy `is_done`; return them."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = [
            s
            for guild_id in guild_ids
            for s in await store.list_sessions(guild_id=guild_id, limit=100)
        ]
        done = [s for s in found if is_done(s)]
        if len(done) >= count:
            return sorted(done, key=lambda s: s.id)
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {len(done)} of {count} councils got there in {timeout_s}s")
        await asyncio.sleep(0.1)


def has_summary(session: Session) -> bool:
    """Whether the council's summary is posted (it has ended, visibly)."""
    return session.summary_message_id is not None


def monotonic_of(moment: datetime) -> float:
    """A stored (wall-clock, aware) time on this machine's monotonic clock."""
    return moment.timestamp() - (time.time() - time.monotonic())
