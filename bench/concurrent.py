"""Concurrent sessions: many councils of 4 members, 2 rounds each, in one bot process.

Councils are all started at once, in their own channels of as many guilds as they need (a
guild may run at most 50). Every one must finish without an error; meanwhile the bot's event
loop may lag only so much at the 99th percentile (a ticker task in the bot process samples it)
and the process may peak at so much resident memory. The Discord requests the bot made per
persona message are reported, and what reading the model streams cost the bot's CPU against a
minimal client reading the same streams (`bench.stream_cost`). A scenario may have members
click vote buttons while the councils stream: their acknowledgements are timed. The fakes run
in this process, so the bot's figures are its own.

This module's scenario is 100 councils; `bench.crowd` runs 400 with clicks.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import random
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bench.botrun import LagProbe
from bench.observe import EXECUTE_ROUTE, acknowledged_at
from bench.report import Metric, at_least, at_most, percentile
from bench.stream_cost import cost_metrics, measure_floor, streamed_tokens
from bench.world import (
    ACK_WAIT_S,
    FOUR_PACES,
    PERSONAS,
    QUICK_FOUR_PACES,
    Fakes,
    Pace,
    Place,
    Preset,
    has_summary,
    prepare,
    running_bot,
    start_council,
    wait_for_sessions,
)
from bot.council.models import ReplyKind, ReplyStatus, SessionStatus, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.store.store import Store
from tests.fakediscord import Kind
from tests.fakediscord.state import Interaction

NAME = "concurrent"
MEMBERS = PERSONAS[:4]
GUILD_LIMIT = 50  # GuildSettings.max_concurrent_sessions allows at most this many


@dataclass(frozen=True)
class Scenario:
    """How many councils run at once, at what pace, and the targets they must meet."""

    name: str
    sessions: int
    rounds: int
    stagger_s: float
    paces: tuple[Pace, ...]
    lag_p99_ms: float
    rss_mb: float
    # Members clicking vote buttons while the councils stream, on this many messages.
    voters: int = 0
    voted_messages: int = 0
    # Each voter clicks 👍 on one message and 👎 on another, at random moments in this window.
    click_window_s: float = 8.0
    ack_p99_ms: float = 150.0
    # 429s are discord.py's to retry; a scenario may still require that none happen.
    max_429s: int | None = None
    # Whether the minimal client replays the streams to give the bot's CPU a floor.
    has_floor: bool = True
    finish_timeout_s: float = 300.0


FULL = Scenario(NAME, 100, 2, 0.0, FOUR_PACES, lag_p99_ms=50, rss_mb=300)
QUICK = Scenario(NAME, 4, 2, 0.1, QUICK_FOUR_PACES, lag_p99_ms=50, rss_mb=300)


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run 100 councils side by side and measure the bot process while they run."""
    return await run_scenario(QUICK if quick else FULL, workdir)


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


async def run_scenario(scenario: Scenario, workdir: Path) -> list[Metric]:
    """Run the scenario's councils side by side and measure the bot process while they run."""
    name, sessions, rounds = scenario.name, scenario.sessions, scenario.rounds
    guilds = math.ceil(sessions / GUILD_LIMIT)
    async with Fakes() as fakes:
        for persona, pace in zip(MEMBERS, scenario.paces, strict=True):
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
                    await asyncio.sleep(scenario.stagger_s)
                clicking = asyncio.create_task(
                    _click_while_streaming(fakes, store, places[0], scenario)
                )
                outcomes = await asyncio.gather(*starts, return_exceptions=True)
                unstarted = [o for o in outcomes if isinstance(o, BaseException)]
                acks = [o for o in outcomes if isinstance(o, float)]
                done = await wait_for_sessions(
                    store,
                    [p.guild.id for p in places],
                    sessions - len(unstarted),
                    timeout_s=scenario.finish_timeout_s,
                    is_done=has_summary,
                )
                finished = time.monotonic()
                clicks = await clicking
                await _wait_acknowledged(fakes, clicks)
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
        # The floor replays every stream as long as they ran: worth it once, not per scenario.
        floor = await measure_floor(fakes, workdir, model_calls) if scenario.has_floor else None

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
    acked = acknowledged_at(fakes.discord)
    click_lags = [acked[i.id] - i.created_at_s for i in clicks if i.id in acked]
    calls = [(r.received_at, r.finished_at or r.received_at) for r in model_calls]
    errors = len(unstarted) + failed_replies + len(problems) + len(violations)
    return [
        Metric(
            name,
            "councils finished",
            completed,
            "",
            at_least(sessions),
            detail=f"{sessions} councils x {len(MEMBERS)} members x {rounds} rounds "
            f"in {finished - started:.1f} s",
        ),
        Metric(
            name,
            "errors",
            errors,
            "",
            at_most(0),
            detail=f"{len(unstarted)} councils not started, {failed_replies} failed "
            f"replies, {len(problems)} error log lines, {len(violations)} Discord rule "
            "violations",
        ),
        Metric(
            name,
            "/council start acknowledged, p99",
            percentile(acks, 0.99) * 1000,
            "ms",
            at_most(3000),
            detail=f"starts {scenario.stagger_s} s apart" if scenario.stagger_s else "all at once",
        ),
        Metric(
            name,
            "event-loop lag p99",
            percentile(lag, 0.99) * 1000,
            "ms",
            at_most(scenario.lag_p99_ms),
            detail=f"{len(lag)} samples",
        ),
        Metric(name, "event-loop lag max", max(lag, default=math.nan) * 1000, "ms"),
        Metric(
            name,
            "fakes' event-loop lag p99 (this process)",
            percentile(fakes_lag.lag_between(started, finished), 0.99) * 1000,
            "ms",
        ),
        Metric(
            name,
            "peak RSS",
            peak_mb if peak_mb is not None else math.nan,
            "MB",
            at_most(scenario.rss_mb),
        ),
        Metric(
            name,
            "Discord requests per persona message",
            len(wire) / persona_messages,
            "",
            detail=f"{len(wire)} requests, {persona_messages} persona messages",
        ),
        Metric(name, "webhook requests per persona message", webhook_requests / persona_messages),
        Metric(
            name,
            "bot CPU use while the councils ran",
            100 * cpu_s / (finished - started),
            "%",
            detail=f"{cpu_s:.1f} s of CPU (user + system) in {finished - started:.1f} s",
        ),
        *cost_metrics(name, cpu_s, streamed_tokens(fakes, model_calls), floor),
        Metric(
            name,
            "429 answers",
            limited.total(),
            "",
            None if scenario.max_429s is None else at_most(scenario.max_429s),
            detail=", ".join(f"{n} x {route}" for route, n in limited.most_common()),
        ),
        Metric(name, "model calls in flight at peak", _peak_overlap(calls)),
        *_click_metrics(scenario, clicks, click_lags),
    ]


def _click_metrics(
    scenario: Scenario, clicks: list[Interaction], lags: list[float]
) -> list[Metric]:
    if not scenario.voters:
        return []
    return [
        Metric(
            scenario.name,
            "vote acknowledgement p99 while councils stream",
            percentile(lags, 0.99) * 1000,
            "ms",
            at_most(scenario.ack_p99_ms),
            detail=f"{len(clicks)} clicks by {scenario.voters} members on "
            f"{scenario.voted_messages} messages in {scenario.click_window_s:.0f} s, "
            f"{len(clicks) - len(lags)} never acknowledged",
        ),
        Metric(
            scenario.name,
            "vote clicks acknowledged",
            100 * len(lags) / len(clicks) if clicks else math.nan,
            "%",
            at_least(100),
        ),
    ]


async def _wait_acknowledged(fakes: Fakes, clicks: list[Interaction]) -> None:
    """Give the last clicks Discord's 3 s to be acknowledged (late ones are measured)."""
    with contextlib.suppress(AssertionError):
        await fakes.discord.wait_for(
            lambda: all(i.response_type is not None for i in clicks),
            timeout=ACK_WAIT_S,
            what="every click to be acknowledged",
        )


async def _voted_messages(store: Store, place: Place, count: int) -> list[tuple[int, int]]:
    """(reply id, message id) of `count` answers shown in full with their buttons, once there
    are that many in the place's councils."""
    while True:
        found: list[tuple[int, int]] = []
        for session in await store.list_sessions(guild_id=place.guild.id, limit=100):
            for reply in await store.replies(session.id):
                if (
                    reply.kind is ReplyKind.ANSWER
                    and reply.status is ReplyStatus.OK
                    and reply.message_ids
                ):
                    found.append((reply.id, reply.message_ids[-1]))
            if len(found) >= count:
                return found[:count]
        await asyncio.sleep(0.25)


async def _click_while_streaming(
    fakes: Fakes, store: Store, place: Place, scenario: Scenario
) -> list[Interaction]:
    """Once the first answers have their buttons, members click them while councils stream."""
    if not scenario.voters:
        return []
    voters = [fakes.driver.create_member(place.guild, f"fan-{i}") for i in range(scenario.voters)]
    targets = await _voted_messages(store, place, scenario.voted_messages)
    rng = random.Random(19)
    plan: list[tuple[float, int, int, VoteValue]] = []
    for member in range(len(voters)):
        up, down = rng.sample(range(len(targets)), 2)
        plan.append((rng.uniform(0, scenario.click_window_s), member, up, VoteValue.UP))
        plan.append((rng.uniform(0, scenario.click_window_s), member, down, VoteValue.DOWN))
    plan.sort()
    sent: list[Interaction] = []
    started = time.monotonic()
    for at_s, member, target, value in plan:
        delay = started + at_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        reply_id, message_id = targets[target]
        handle = await fakes.driver.click(
            voters[member], message_id, vote_custom_id(reply_id, value)
        )
        sent.append(handle.interaction)
    return sent
