"""Shard processes: the same councils run by one process with shards 0-1 of 2, then by two
processes with shard 0 and shard 1, on one PostgreSQL store.

The councils are spread over guilds of both shards and all started at once; the fake models
answer at the same pace in both arms. Each arm gets a fresh database on one PostgreSQL server.
Side by side: councils a minute (first start to last summary), every process's event-loop lag
(its ticker's samples, with what its `/metrics` histogram says), the bot processes' CPU time,
errors and 429s. Only "every council finished, no errors" is a target: on a 2-core machine the
fakes, PostgreSQL and the bot processes share the cores, so the rest is what was measured there.
Where PostgreSQL can't be started the benchmark says why and runs nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.botrun import LagProbe
from bench.report import Metric, at_least, at_most, percentile
from bench.world import (
    FOUR_PACES,
    PERSONAS,
    QUICK_FOUR_PACES,
    BotProcess,
    Fakes,
    Pace,
    Place,
    Preset,
    has_summary,
    start_council,
    wait_for_sessions,
)
from bot.council.models import GuildSettings, ReplyStatus, Session, SessionStatus
from bot.shards import parse_shard_plan
from bot.store.store import Store
from tests.fakediscord import Kind, Perm
from tests.pgserver import PgServer, pg_server
from tests.ports import free_port

NAME = "shards"
SKIPPED = "skipped: "
MEMBERS = PERSONAS[:4]
SHARD_COUNT = 2
ALL_SHARDS = "0-1"
GUILD_LIMIT = 50  # GuildSettings.max_concurrent_sessions allows at most this many
PRESET = "four"
ROUNDS = "council_rounds_completed_total"
LAG_BUCKETS = "council_event_loop_lag_seconds_bucket"


@dataclass(frozen=True)
class Size:
    """How many councils, of how many rounds, in how many guilds of each shard."""

    councils: int
    rounds: int
    guilds_per_shard: int
    paces: tuple[Pace, ...]


FULL = Size(councils=40, rounds=2, guilds_per_shard=2, paces=FOUR_PACES)
QUICK = Size(councils=4, rounds=1, guilds_per_shard=1, paces=QUICK_FOUR_PACES)
# Each arm: its label, and the shards of each of its processes.
ARMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1 process", (ALL_SHARDS,)),
    ("2 processes", ("0", "1")),
)
# Settings of this process's environment that would change what the bot processes run.
_OWN_SETTINGS = ("SHARDS", "SHARD_COUNT", "REST_SHARE", "LEASE_TTL_S", "DATABASE_URL")


Samples = dict[str, list[tuple[dict[str, str], float]]]


@dataclass
class Process:
    """One bot process of an arm, and what it used while the councils ran."""

    bot: BotProcess
    shards: str
    metrics_url: str
    guilds: int
    cpu_s: float = 0.0
    lag: list[float] = field(default_factory=list)
    rounds: float = 0.0
    histogram_p99_s: float = math.nan
    problems: list[str] = field(default_factory=list)

    @property
    def shards_text(self) -> str:
        """Its shards as words: "shards 0-1", "shard 0"."""
        return f"shard{'s' if self.shards == ALL_SHARDS else ''} {self.shards}"

    def label(self, arm: str) -> str:
        """How the table names it: the arm, and its shards when the arm has several."""
        return arm if self.shards == ALL_SHARDS else f"{arm}, {self.shards_text}"


@dataclass
class Arm:
    """What one arm measured, from the first `/council start` to the last summary."""

    label: str
    processes: list[Process] = field(default_factory=list)
    wall_s: float = math.nan
    finished: int = 0
    unstarted: int = 0
    failed_replies: int = 0
    violations: int = 0
    limited: int = 0
    fakes_lag: list[float] = field(default_factory=list)

    @property
    def errors(self) -> int:
        """Councils not started, failed replies, error log lines and Discord rule violations."""
        problems = sum(len(p.problems) for p in self.processes)
        return self.unstarted + self.failed_replies + problems + self.violations


def _shard_places(fakes: Fakes, size: Size) -> list[Place]:
    """Guilds of each shard in turn (0, 1, 0, 1, …), with channels enough for their councils."""
    count = SHARD_COUNT * size.guilds_per_shard
    places = []
    for g in range(count):
        shard = g % SHARD_COUNT
        guild = fakes.driver.create_guild(f"Shard {shard} #{g}", shard=(shard, SHARD_COUNT))
        channels = [
            fakes.driver.create_text_channel(guild, f"council-{c}")
            for c in range(len(range(g, size.councils, count)))
        ]
        host = fakes.driver.create_member(guild, f"host-{g}", permissions=Perm.MANAGE_THREADS)
        places.append(Place(guild, channels, host))
    return places


def _guilds_of(shards: str, places: Sequence[Place]) -> int:
    """How many of the places' guilds a process running `shards` receives."""
    plan = parse_shard_plan(shards, SHARD_COUNT)
    return sum(1 for p in places if plan is None or plan.owns(p.guild.id))


async def _scrape(client: httpx.AsyncClient, url: str) -> Samples:
    """A process's /metrics: every sample's (labels, value) pairs by sample name."""
    response = await client.get(url)
    response.raise_for_status()
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return samples


def _total(samples: Samples, name: str) -> float:
    return sum(value for _, value in samples.get(name, []))


def _lag_bucket_percentile(before: Samples, after: Samples, share: float) -> float:
    """The upper bound (s) of the `/metrics` lag-histogram bucket holding the `share`
    percentile of the samples taken between the two scrapes; NaN for no samples."""

    def buckets(samples: Samples) -> dict[float, float]:
        return {float(labels["le"]): value for labels, value in samples.get(LAG_BUCKETS, [])}

    earlier = buckets(before)
    counts = sorted((bound, n - earlier.get(bound, 0.0)) for bound, n in buckets(after).items())
    if not counts or counts[-1][1] == 0:
        return math.nan
    wanted = share * counts[-1][1]
    return next(bound for bound, n in counts if n >= wanted)


def _processes(
    fakes: Fakes,
    workdir: Path,
    label: str,
    shard_sets: Sequence[str],
    url: str,
    places: Sequence[Place],
) -> list[Process]:
    """The arm's bot processes, each running its shards on the database at `url`."""
    processes = []
    for shards in shard_sets:
        name = f"{label.replace(' ', '-')}-shards-{shards}"
        bot = BotProcess(fakes, workdir, dev_guild_id=None, name=name)
        for setting in _OWN_SETTINGS:
            bot.env.pop(setting, None)
        port = free_port()
        bot.env.update(
            DATABASE_URL=url,
            SHARDS=shards,
            SHARD_COUNT=str(SHARD_COUNT),
            METRICS_PORT=str(port),
        )
        guilds = _guilds_of(shards, places)
        processes.append(Process(bot, shards, f"http://127.0.0.1:{port}/metrics", guilds))
    return processes


async def _start_all(
    fakes: Fakes, places: Sequence[Place], size: Size
) -> list[float | BaseException]:
    """`/council start` in every council's channel at once; each one's acknowledgement time."""
    starts = []
    for i in range(size.councils):
        place = places[i % len(places)]
        channel = place.channels[i // len(places)]
        starts.append(
            start_council(
                fakes,
                place,
                channel,
                topic=f"Sharded council {i}",
                preset=PRESET,
                rounds=size.rounds,
            )
        )
    return await asyncio.gather(*starts, return_exceptions=True)


async def _run_arm(
    fakes: Fakes,
    server: PgServer,
    places: Sequence[Place],
    workdir: Path,
    arm: Arm,
    shard_sets: Sequence[str],
    size: Size,
) -> None:
    """Run every council against processes running `shard_sets`, on a fresh database."""
    guild_ids = [p.guild.id for p in places]
    wire_before = len(fakes.discord.wire)
    violations_before = len(fakes.discord.violations)
    started = finished = math.nan
    async with server.empty_database() as url, Store.open(url) as store:
        # Saved before the bots start, as a host would set them with commands.
        for guild_id in guild_ids:
            await store.save_guild_settings(
                GuildSettings(
                    guild_id=guild_id,
                    pause_between_rounds_s=0,
                    vote_grace_s=3600,
                    max_concurrent_sessions=GUILD_LIMIT,
                )
            )
        arm.processes = _processes(fakes, workdir, arm.label, shard_sets, url, places)
        try:
            for process in arm.processes:
                await process.bot.start(process.guilds)
            async with httpx.AsyncClient(timeout=10) as client:
                scraped = [await _scrape(client, p.metrics_url) for p in arm.processes]
                cpu_before = [p.bot.cpu_s() for p in arm.processes]
                # The fakes' own loop: if it lagged, the bots were waiting on them.
                fakes_lag = LagProbe()
                ticker = asyncio.create_task(fakes_lag.tick())
                started = time.monotonic()
                outcomes = await _start_all(fakes, places, size)
                arm.unstarted = sum(1 for o in outcomes if isinstance(o, BaseException))
                done = await wait_for_sessions(
                    store,
                    guild_ids,
                    size.councils - arm.unstarted,
                    timeout_s=300,
                    is_done=has_summary,
                )
                finished = time.monotonic()
                ticker.cancel()
                arm.wall_s = finished - started
                arm.fakes_lag = fakes_lag.lag_between(started, finished)
                for process, before, cpu in zip(arm.processes, scraped, cpu_before, strict=True):
                    process.cpu_s = process.bot.cpu_s() - cpu
                    after = await _scrape(client, process.metrics_url)
                    process.rounds = _total(after, ROUNDS) - _total(before, ROUNDS)
                    process.histogram_p99_s = _lag_bucket_percentile(before, after, 0.99)
            # Stopping a bot while it still links a summary from the channel would cut that off.
            await fakes.discord.wait_for(
                lambda: _linked(fakes, wire_before, done),
                timeout=30,
                what="every summary to be linked from its channel",
            )
            arm.finished = sum(1 for s in done if s.status is SessionStatus.FINISHED)
            for session in done:
                arm.failed_replies += sum(
                    1 for r in await store.replies(session.id) if r.status is ReplyStatus.FAILED
                )
        finally:
            for process in arm.processes:
                probe = await process.bot.stop()
                process.lag = probe.lag_between(started, finished)
                process.problems = process.bot.log_problems()
    wire = fakes.discord.wire[wire_before:]
    arm.limited = sum(1 for e in wire if e.status == 429)
    arm.violations = sum(
        1
        for v in fakes.discord.violations[violations_before:]
        if v.kind not in (Kind.RATE_LIMITED, Kind.ACK_DEADLINE)
    )


def _linked(fakes: Fakes, wire_before: int, sessions: Sequence[Session]) -> bool:
    """Whether every council's closing message, linking its summary, has been posted."""
    said = [
        str(e.body.get("content"))
        for e in fakes.discord.wire[wire_before:]
        if e.method == "POST" and e.status < 300 and isinstance(e.body, dict)
    ]
    return all(any(f"/{s.summary_message_id}" in text for text in said) for s in sessions)


def _figures(arm: Arm, size: Size) -> list[Metric]:
    """One arm's rows of the table."""
    ms = 1000
    cpu = sum(p.cpu_s for p in arm.processes)
    metrics = [
        Metric(
            NAME,
            f"{arm.label}: councils finished",
            arm.finished,
            target=at_least(size.councils),
            detail=f"{size.councils} councils x {len(MEMBERS)} members x {size.rounds} round(s) "
            f"in {arm.wall_s:.1f} s",
        ),
        Metric(
            NAME,
            f"{arm.label}: errors",
            arm.errors,
            target=at_most(0),
            detail=f"{arm.unstarted} councils not started, {arm.failed_replies} failed replies, "
            f"{sum(len(p.problems) for p in arm.processes)} error log lines, "
            f"{arm.violations} Discord rule violations"
            + "".join(f"; first: {p.problems[0]}" for p in arm.processes if p.problems),
        ),
        Metric(
            NAME,
            f"{arm.label}: throughput",
            arm.finished / arm.wall_s * 60,
            "councils/min",
            detail="first /council start to last summary",
        ),
        Metric(
            NAME,
            f"{arm.label}: bot CPU",
            cpu,
            "s",
            detail=", ".join(f"{p.shards_text}: {p.cpu_s:.1f} s" for p in arm.processes)
            + f" in {arm.wall_s:.1f} s",
        ),
        Metric(NAME, f"{arm.label}: 429 answers", arm.limited),
        Metric(
            NAME,
            f"{arm.label}: fakes' event-loop lag p99",
            percentile(arm.fakes_lag, 0.99) * ms,
            "ms",
        ),
    ]
    for process in arm.processes:
        who = process.label(arm.label)
        metrics += [
            Metric(NAME, f"{who}: event-loop lag p50", percentile(process.lag, 0.5) * ms, "ms"),
            Metric(
                NAME,
                f"{who}: event-loop lag p99",
                percentile(process.lag, 0.99) * ms,
                "ms",
                detail=f"{len(process.lag)} samples; /metrics histogram: p99 in the bucket "
                f"≤ {process.histogram_p99_s * ms:g} ms",
            ),
            Metric(
                NAME,
                f"{who}: event-loop lag max",
                max(process.lag, default=math.nan) * ms,
                "ms",
            ),
            Metric(
                NAME,
                f"{who}: rounds played",
                process.rounds,
                detail=f"from its /metrics; its shards have {process.guilds} of the guilds",
            ),
        ]
    return metrics


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run the councils on one process, then on two, against one PostgreSQL server."""
    size = QUICK if quick else FULL
    with contextlib.ExitStack() as stack:
        # Starting the server runs an event loop of its own, so it starts in a thread.
        server = await asyncio.to_thread(stack.enter_context, pg_server())
        if isinstance(server, str):
            return [Metric(NAME, SKIPPED + server, 0, "councils run")]
        try:
            return await _measure(server, workdir, size)
        finally:
            await asyncio.to_thread(stack.close)


async def _measure(server: PgServer, workdir: Path, size: Size) -> list[Metric]:
    metrics: list[Metric] = []
    async with Fakes() as fakes:
        for persona, pace in zip(MEMBERS, size.paces, strict=True):
            fakes.script(persona, pace)
        places = _shard_places(fakes, size)
        (workdir / "council.toml").write_text(
            fakes.config({PRESET: Preset(MEMBERS, "parallel", size.rounds)}), encoding="utf-8"
        )
        # Retrying after a 429 is discord.py's job; they are counted, not treated as violations.
        fakes.discord.expect_violation(Kind.RATE_LIMITED)
        await BotProcess(fakes, workdir, dev_guild_id=None, name="sync").sync_globally()
        for label, shard_sets in ARMS:
            arm = Arm(label)
            await _run_arm(fakes, server, places, workdir, arm, shard_sets, size)
            metrics += _figures(arm, size)
    return metrics
