"""``python -m bench [--quick] [--only NAME ...] [--profile DIR]``: run, print a table, write JSON.

Run it from the checkout's root (the benchmarks use the fakes under ``tests/``). The full run
checks the targets on the issue (a 2-core machine) and exits 1 if any is missed; ``--quick``
runs every benchmark at a much smaller size to check they keep working, and exits 1 only if a
benchmark failed to produce its figures.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bench import (
    cold_start,
    concurrent,
    crowd,
    first_text,
    markdown_render,
    round_overhead,
    shards,
    vote_burst,
)
from bench.report import Metric, render_table, write_results
from bench.world import PROFILE_DIR_ENV

Benchmark = Callable[[bool, Path], Awaitable[list[Metric]]]
BENCHMARKS: dict[str, Benchmark] = {
    round_overhead.NAME: round_overhead.run,
    first_text.NAME: first_text.run,
    vote_burst.NAME: vote_burst.run,
    concurrent.NAME: concurrent.run,
    crowd.NAME: crowd.run,
    cold_start.NAME: cold_start.run,
    markdown_render.NAME: markdown_render.run,
    shards.NAME: shards.run,
}
# A longer limit for benchmarks that need one in the full run.
FULL_LIMITS_S = {crowd.NAME: crowd.FULL_LIMIT_S}
RESULTS = Path(__file__).resolve().parent / "results.json"
# A wedged benchmark is reported as failed rather than hanging the run.
FULL_LIMIT_S = 600.0
QUICK_LIMIT_S = 120.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, a few seconds per benchmark"
    )
    parser.add_argument(
        "--only", nargs="+", choices=list(BENCHMARKS), metavar="NAME", help="run only these"
    )
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help=f"results file (default {RESULTS})"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="sample every bot process with py-spy (if installed) into DIR, as collapsed stacks",
    )
    return parser


async def run_benchmarks(
    names: Sequence[str], *, quick: bool, workdir: Path
) -> tuple[list[Metric], dict[str, str]]:
    """Run the named benchmarks in order; a failing one is recorded and the rest still run."""
    metrics: list[Metric] = []
    errors: dict[str, str] = {}
    for name in names:
        started = time.monotonic()
        print(f"running {name}{' (quick)' if quick else ''} …", file=sys.stderr, flush=True)
        folder = workdir / name
        folder.mkdir()
        try:
            limit_s = QUICK_LIMIT_S if quick else FULL_LIMITS_S.get(name, FULL_LIMIT_S)
            async with asyncio.timeout(limit_s):
                found = await BENCHMARKS[name](quick, folder)
        except Exception as exc:  # noqa: BLE001  (reported in the table and results.json)
            errors[name] = "".join(traceback.format_exception(exc))
            print(errors[name], file=sys.stderr)
            found = [Metric(name, "completed", None, detail=f"{type(exc).__name__}: {exc}")]
        metrics += found
        print(f"  {name} took {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    return metrics, errors


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, write the results; the exit code says whether it all held."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    names = args.only or list(BENCHMARKS)
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ[PROFILE_DIR_ENV] = str(args.profile.resolve())
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="council-bench-") as tmp:
        metrics, errors = asyncio.run(run_benchmarks(names, quick=args.quick, workdir=Path(tmp)))
    took_s = time.monotonic() - started
    command = "python -m bench" + (" --quick" if args.quick else "")
    if args.only:
        command += " --only " + " ".join(args.only)
    print(render_table(metrics))
    mode = "quick run (reduced sizes: targets are indicative only)" if args.quick else "full run"
    print(f"\n{mode}, {took_s:.0f}s; results in {args.output}")
    write_results(
        args.output, metrics, is_quick=args.quick, errors=errors, command=command, took_s=took_s
    )
    if errors:
        return 1
    if not args.quick and any(m.passed is False for m in metrics):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
