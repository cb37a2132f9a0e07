"""What reading model streams costs the bot, against a floor measured in the same run.

The bot's CPU time while councils ran, per 1,000 streamed tokens, is set against the CPU time
`bench.floor` (a plain httpx client that only counts bytes, in its own process) needs to read
the very same streams: the same calls replayed at the same moments against the same fake model
server over the same loopback. Both are process CPU time, not wall time, so other load on the
machine moves them little. The bot's figure covers everything it did meanwhile (Discord, the
store), so the ratio is an upper bound on the streaming path's own overhead.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.report import Metric, at_most
from bench.world import MODEL_CONCURRENCY, REPO, Fakes, model_of
from tests.fakellm.scripts import RecordedRequest

# The target: the bot spends at most three times what reading the bytes costs.
RATIO_MAX = 3.0
FLOOR_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class Floor:
    """What the minimal client spent reading the streams."""

    cpu_s: float
    wall_s: float
    bytes_read: int


def streamed_tokens(fakes: Fakes, calls: list[RecordedRequest]) -> int:
    """The reply tokens these calls streamed, as the fake model server was scripted."""
    tokens = {model_of(persona): pace.tokens for persona, pace in fakes.paces.items()}
    return sum(tokens.get(call.model, 0) for call in calls)


async def measure_floor(fakes: Fakes, workdir: Path, calls: list[RecordedRequest]) -> Floor:
    """Replay `calls` with `bench.floor` at their original offsets; return what it spent."""
    first = min((call.received_at for call in calls), default=0.0)
    plan = {
        "url": fakes.llm.url,
        "connections": MODEL_CONCURRENCY,
        "calls": [
            {"at_s": call.received_at - first, "path": call.path, "body": call.body}
            for call in calls
        ],
    }
    plan_path, result_path = workdir / "floor-plan.json", workdir / "floor-result.json"
    plan_path.write_text(json.dumps(plan), encoding="utf-8")
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.floor", str(plan_path), str(result_path), cwd=REPO
    )
    if await asyncio.wait_for(process.wait(), FLOOR_TIMEOUT_S) != 0:
        raise RuntimeError(f"bench.floor exited with {process.returncode}")
    result = json.loads(result_path.read_text(encoding="utf-8"))
    return Floor(float(result["cpu_s"]), float(result["wall_s"]), int(result["bytes"]))


def cost_metrics(name: str, bot_cpu_s: float, tokens: int, floor: Floor | None) -> list[Metric]:
    """The bot's CPU per 1,000 streamed tokens; with a floor, the floor's and their ratio."""
    per_k = 1000 / tokens
    bot_ms = bot_cpu_s * per_k * 1000
    metrics = [
        Metric(
            name,
            "bot CPU per 1,000 streamed tokens",
            bot_ms,
            "ms",
            detail=f"{bot_cpu_s:.1f} s of CPU for {tokens} tokens (everything the bot did)",
        )
    ]
    if floor is None:
        return metrics
    floor_ms = floor.cpu_s * per_k * 1000
    return [
        *metrics,
        Metric(
            name,
            "floor CPU per 1,000 streamed tokens (plain httpx client)",
            floor_ms,
            "ms",
            detail=f"{floor.cpu_s:.1f} s of CPU reading {floor.bytes_read / 1e6:.1f} MB "
            f"in {floor.wall_s:.1f} s",
        ),
        Metric(name, "bot / floor CPU", bot_ms / floor_ms, "x", at_most(RATIO_MAX)),
    ]
