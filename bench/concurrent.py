"""Concurrent sessions: 100 councils of 4 members, 2 rounds each, in one bot process.

Councils are all started at once, in their own channels of two guilds (a guild may run at most
50). Every one must finish without an error; meanwhile the bot's event loop may lag at
most 100 ms at the 99th percentile (a ticker task in the bot process samples it) and the
process may peak at 300 MB resident. The Discord requests the bot made per persona message are
reported. The fakes run in this process, so the bot's figures are its own.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from pathlib import Path

from bench.botrun import LagProbe
from bench.observe import EXECUTE_ROUTE
from bench.report import Metric, at_least, at_most, percentile
from bench.stream_cost import cost_metrics, measure_floor, streamed_tokens
from bench.world import (
    PERSONAS,
    Fakes,
    Pace,
    Preset,
    has_summary,
    prepare,
    running_bot,
    start_council,
    wait_for_sessions,
)
from bot.council.models import ReplyStatus, SessionStatus
from bot.store.store import Store
from tests.fakediscord import Kind

NAME = "concurrent"
MEMBERS = PERSONAS[:4]
GUILD_LIMIT = 50  # GuildSettings.max_concurrent_sessions allows at most this many
FULL = {"sessions": 100, "rounds": 2, "stagger_s": 0.0}
QUICK = {"sessions": 4, "rounds": 2, "stagger_s": 0.1}
FULL_PACES = [Pace(delay, 40.0, 150) for delay in (0.4, 0.8, 1.2, 1.6)]
QUICK_PACES = [Pace(delay, 100.0, 30) for delay in (0.1, 0.2, 0.3, 0.4)]


def _is_global(response: object) -> bool:
    return isinstance(response, dict) and bool(response.get("global"))


def _peak_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one moment."""
    events = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run the councils side by side and measure the bot process while they run."""
    size = QUICK if quick else FULL
    sessions, rounds = int(size["sessions"]), int(size["rounds"])
    paces = QUICK_PACES if quick else FULL_PACES
    guilds = math.ceil(sessions / GUILD_LIMIT)
    async with Fakes() as fakes:
        for persona, pace in zip(MEMBERS, paces, strict=True):
            fakes.script(persona, pace)
        places = [
            fakes.add_place(f"Busy {g}", channels=len(range(g, sessions, guilds)))
            for g in range(guilds)
        ]
        await prepare(
            fakes,
            workdir,
            {"four": Preset(MEMBERS, "parallel", rounds)},
            [p.guild.id for p in places],
            max_concurrent_sessions=GUILD_LIMIT,
        )
        # Retrying after a 429 is discord.py's job; they are counted, not treated as violations.
        fakes.discord.expect_violation(Kind.RATE_LIMITED)
        async with running_bot(fakes, workdir, dev_guild_id=None, guilds=guilds) as bot:
            async with Store.open(bot.db) as store:
                wire_before = len(fakes.discord.wire)
                cpu_before = bot.cpu_s()
                # The fakes' own loop: if it lagged, the bot was waiting on them, not itself.
                fakes_lag = LagProbe()
                ticker = asyncio.create_task(fakes_lag.tick())
                started = time.monotonic()
                starts = []
                for i in range(sessions):
                    place = places[i % guilds]
                    channel = place.channels[i // guilds]
                    starts.append(
                        asyncio.create_task(
                            start_council(
                                fakes,
                                place,
                                channel,
                                topic=f"Concurrent council {i}",
                                preset="four",
                                rounds=rounds,
                            )
                        )
                    )
                    await asyncio.sleep(float(size["stagger_s"]))
                outcomes = await asyncio.gather(*starts, return_exceptions=True)
                unstarted = [o for o in outcomes if isinstance(o, BaseException)]
                acks = [o for o in outcomes if isinstance(o, float)]
                done = await wait_for_sessions(
                    store,
                    [p.guild.id for p in places],
                    sessions - len(unstarted),
                    timeout_s=300,
                    is_done=has_summary,
                )
                finished = time.monotonic()
                ticker.cancel()
                cpu_s = bot.cpu_s() - cpu_before
                peak_mb = bot.peak_rss_mb()
                failed_replies = 0
                for session in done:
                    failed_replies += sum(
                        1 for r in await store.replies(session.id) if r.status is ReplyStatus.FAILED
                    )
            probe = await bot.stop()
            problems = bot.log_problems()
        model_calls = [r for r in fakes.llm.requests if started <= r.received_at <= finished]
        floor = await measure_floor(fakes, workdir, model_calls)

    wire = fakes.discord.wire[wire_before:]
    persona_messages = sum(
        1 for e in wire if e.method == "POST" and e.route == EXECUTE_ROUTE and e.status < 300
    )
    webhook_requests = sum(1 for e in wire if e.route.startswith("/webhooks/{webhook_id}"))
    limited = Counter(
        f"{e.method} {e.route} ({'global' if _is_global(e.response) else 'route'} limit)"
        for e in wire
        if e.status == 429
    )
    # A late acknowledgement is already counted as a council that did not start.
    violations = [
        v for v in fakes.discord.violations if v.kind not in (Kind.RATE_LIMITED, Kind.ACK_DEADLINE)
    ]
    completed = sum(1 for s in done if s.status is SessionStatus.FINISHED)
    lag = probe.lag_between(started, finished)
    calls = [(r.received_at, r.finished_at or r.received_at) for r in model_calls]
    errors = len(unstarted) + failed_replies + len(problems) + len(violations)
    return [
        Metric(
            NAME,
            "councils finished",
            completed,
            "",
            at_least(sessions),
            detail=f"{sessions} councils x {len(MEMBERS)} members x {rounds} rounds "
            f"in {finished - started:.1f} s",
        ),
        Metric(
            NAME,
            "errors",
            errors,
            "",
            at_most(0),
            detail=f"{len(unstarted)} councils not started, {failed_replies} failed "
            f"replies, {len(problems)} error log lines, {len(violations)} Discord rule "
            "violations",
        ),
        Metric(
            NAME,
            "/council start acknowledged, p99",
            percentile(acks, 0.99) * 1000,
            "ms",
            at_most(3000),
            detail=f"starts {size['stagger_s']} s apart" if size["stagger_s"] else "all at once",
        ),
        Metric(
            NAME,
            "event-loop lag p99",
            percentile(lag, 0.99) * 1000,
            "ms",
            at_most(100),
            detail=f"{len(lag)} samples",
        ),
        Metric(NAME, "event-loop lag max", max(lag, default=math.nan) * 1000, "ms"),
        Metric(
            NAME,
            "fakes' event-loop lag p99 (this process)",
            percentile(fakes_lag.lag_between(started, finished), 0.99) * 1000,
            "ms",
        ),
        Metric(NAME, "peak RSS", peak_mb if peak_mb is not None else math.nan, "MB", at_most(300)),
        Metric(
            NAME,
            "Discord requests per persona message",
            len(wire) / persona_messages,
            "",
            detail=f"{len(wire)} requests, {persona_messages} persona messages",
        ),
        Metric(NAME, "webhook requests per persona message", webhook_requests / persona_messages),
        Metric(
            NAME,
            "bot CPU use while the councils ran",
            100 * cpu_s / (finished - started),
            "%",
            detail=f"{cpu_s:.1f} s of CPU (user + system) in {finished - started:.1f} s",
        ),
        *cost_metrics(NAME, cpu_s, streamed_tokens(fakes, model_calls), floor),
        Metric(
            NAME,
            "429 answers",
            limited.total(),
            detail=", ".join(f"{n} x {route}" for route, n in limited.most_common()),
        ),
        Metric(NAME, "model calls in flight at peak", _peak_overlap(calls)),
    ]
