"""`council-bot run` with a probe that samples the bot's event-loop lag.

`bench.world.BotProcess` starts it as ``python -m bench.botrun PROBE_FILE``. Everything else is
the real bot's composition root, configured through the environment as in production; the probe
only adds a ticker task to the event loop ``asyncio.run`` creates, and writes its samples (and the
process's peak RSS) to PROBE_FILE as JSON when the process exits.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

TICK_S = 0.05


def peak_rss_kb(pid: int | str = "self") -> int | None:
    """A process's peak resident set size (VmHWM) in KiB, from /proc; None if unreadable."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return None


class LagProbe:
    """Samples how late a `TICK_S` sleep wakes up: the event loop's lag, with when it was seen."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.samples: list[tuple[float, float]] = []

    async def tick(self) -> None:
        """Sleep `TICK_S` over and over, recording (started_at, lateness) in monotonic seconds."""
        while True:
            before = time.monotonic()
            await asyncio.sleep(TICK_S)
            self.samples.append((before, time.monotonic() - before - TICK_S))

    def lag_between(self, start: float, end: float) -> list[float]:
        """Lag samples (seconds) whose tick began in [start, end] (monotonic)."""
        return [lag for at, lag in self.samples if start <= at <= end]

    def write(self) -> None:
        """Write the samples and peak RSS to `path` as JSON (registered with atexit)."""
        if self.path is None:
            return
        document = {"tick_s": TICK_S, "lag": self.samples, "rss_peak_kb": peak_rss_kb()}
        self.path.write_text(json.dumps(document), encoding="utf-8")


class ProbedLoopPolicy(asyncio.DefaultEventLoopPolicy):
    """The default policy, except that every new loop starts the probe's ticker first thing."""

    def __init__(self, probe: LagProbe) -> None:
        super().__init__()
        self._probe = probe
        self._tasks: set[asyncio.Task[None]] = set()

    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        """A new loop with the ticker scheduled on it."""
        loop = super().new_event_loop()
        loop.call_soon(self._start_ticker, loop)
        return loop

    def _start_ticker(self, loop: asyncio.AbstractEventLoop) -> None:
        task = loop.create_task(self._probe.tick(), name="bench-lag-probe")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def main(argv: Sequence[str]) -> int:
    """Run the bot with the probe; argv is [PROBE_FILE]."""
    if len(argv) != 1:
        print("usage: python -m bench.botrun PROBE_FILE", file=sys.stderr)
        return 2
    probe = LagProbe(Path(argv[0]))
    atexit.register(probe.write)
    asyncio.set_event_loop_policy(ProbedLoopPolicy(probe))
    from bot.__main__ import main as council_bot

    return council_bot(["run"])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
