"""The floor for reading model streams: a minimal client, in its own process, doing nothing else.

``python -m bench.floor PLAN RESULT`` replays the model calls in PLAN (JSON: the server's root
URL, the connections to allow, and each call's path, body and start offset) with a plain
``httpx.AsyncClient`` given the bot's limits and timeouts, reads
every streamed body to its end counting bytes and nothing more, and writes to RESULT the CPU
time the process spent doing so. Set against the bot's CPU for the same streams, it says how
much of the bot's cost is its own rather than the HTTP stack's and the kernel's.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bot.providers.registry import (
    CLIENT_CONNECT_TIMEOUT_S,
    CLIENT_TIMEOUT_S,
    KEEPALIVE_EXPIRY_S,
    MAX_KEEPALIVE_CONNECTIONS,
)


async def _read(client: httpx.AsyncClient, url: str, at: float, call: dict[str, Any]) -> int:
    delay = at + float(call["at_s"]) - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    size = 0
    async with client.stream("POST", url + call["path"], json=call["body"]) as response:
        async for chunk in response.aiter_raw():
            size += len(chunk)
    return size


async def replay(plan: dict[str, Any]) -> dict[str, float]:
    """Run the plan's calls at their offsets; return CPU seconds, wall seconds and bytes read."""
    calls, url = plan["calls"], plan["url"]
    # httpx as it comes, with the bot's connection limits and timeouts.
    limits = httpx.Limits(
        max_connections=int(plan["connections"]),
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
    timeout = httpx.Timeout(CLIENT_TIMEOUT_S, connect=CLIENT_CONNECT_TIMEOUT_S)
    async with httpx.AsyncClient(limits=limits, timeout=timeout) as client:
        # The first request imports and sets up what the rest reuse, as the bot's did long ago.
        await client.get(url)
        cpu_before, started = time.process_time(), time.monotonic()
        sizes = await asyncio.gather(*(_read(client, url, started, call) for call in calls))
        cpu_s, wall_s = time.process_time() - cpu_before, time.monotonic() - started
    return {"cpu_s": cpu_s, "wall_s": wall_s, "bytes": sum(sizes), "calls": len(calls)}


def main(argv: Sequence[str]) -> int:
    """Replay PLAN, write RESULT; argv is [PLAN, RESULT]."""
    if len(argv) != 2:
        print("usage: python -m bench.floor PLAN RESULT", file=sys.stderr)
        return 2
    plan = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    result = asyncio.run(replay(plan))
    Path(argv[1]).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
