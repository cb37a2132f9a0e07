"""A crowd: 400 councils of 4 members, 2 rounds each, in one bot process, with votes.

The issue's ceiling for one process: four times the `concurrent` benchmark's councils, all
started at once, every one finished without an error, the event loop lagging at most 100 ms
at the 99th percentile, the process within 400 MB, no 429s; and meanwhile 300 members click
vote buttons on answers already shown, each acknowledged within 150 ms at the 99th
percentile. The scenario itself is `bench.concurrent`'s; the bot's CPU per streamed token is
reported without a floor (the clicks' work counts in it, and replaying 400 councils' streams
would double the run).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from bench.concurrent import Scenario, run_scenario
from bench.report import Metric
from bench.world import FOUR_PACES, QUICK_FOUR_PACES

NAME = "crowd"
FULL = Scenario(
    NAME,
    400,
    2,
    0.0,
    FOUR_PACES,
    lag_p99_ms=100,
    rss_mb=400,
    voters=300,
    voted_messages=10,
    max_429s=0,
    has_floor=False,
    finish_timeout_s=900,
)
QUICK = dataclasses.replace(
    FULL,
    sessions=3,
    rounds=1,
    stagger_s=0.1,
    paces=QUICK_FOUR_PACES,
    voters=5,
    voted_messages=2,
    click_window_s=1.0,
    finish_timeout_s=300,
)
# Opening 400 councils takes minutes under Discord's global limit of 50 requests a second.
FULL_LIMIT_S = 1200.0


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run the crowd and measure the bot process while it runs."""
    return await run_scenario(QUICK if quick else FULL, workdir)
