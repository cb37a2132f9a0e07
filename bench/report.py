"""Benchmark results: metrics with their targets, percentiles, the table and results.json."""

from __future__ import annotations

import json
import math
import os
import platform
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Comparison = Literal["<=", ">="]
_SYMBOL = {"<=": "≤", ">=": "≥"}


@dataclass(frozen=True)
class Target:
    """What a metric must reach: `value <= limit` or `value >= limit`."""

    op: Comparison
    limit: float

    def is_met(self, value: float) -> bool:
        """Whether `value` reaches the target."""
        return value <= self.limit if self.op == "<=" else value >= self.limit

    def __str__(self) -> str:
        return f"{_SYMBOL[self.op]} {_number(self.limit)}"


def at_most(limit: float) -> Target:
    """A target `value <= limit`."""
    return Target("<=", limit)


def at_least(limit: float) -> Target:
    """A target `value >= limit`."""
    return Target(">=", limit)


@dataclass(frozen=True)
class Metric:
    """One measured figure; `value` None means the benchmark could not measure it."""

    benchmark: str
    name: str
    value: float | None
    unit: str = ""
    target: Target | None = None
    detail: str = ""

    @property
    def passed(self) -> bool | None:
        """True/False against the target; None when there is no target or no value."""
        if self.target is None or self.value is None:
            return None
        return self.target.is_met(self.value)

    def as_json(self) -> dict[str, Any]:
        """The metric as results.json stores it."""
        return {
            "benchmark": self.benchmark,
            "metric": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": str(self.target) if self.target else None,
            "passed": self.passed,
            "detail": self.detail,
        }


def percentile(values: Sequence[float], share: float) -> float:
    """The `share` (0-1) percentile by linear interpolation; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _number(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if value == int(value) and abs(value) < 1e9:
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _verdict(metric: Metric) -> str:
    if metric.value is None:
        return "ERROR"
    passed = metric.passed
    return "" if passed is None else ("pass" if passed else "FAIL")


def render_table(metrics: Iterable[Metric]) -> str:
    """The metrics as a fixed-width text table: benchmark, metric, value, target, pass/fail."""
    header = ("benchmark", "metric", "value", "target", "result")
    rows = [
        (
            m.benchmark,
            m.name,
            "—" if m.value is None else f"{_number(m.value)} {m.unit}".strip(),
            str(m.target) if m.target else "",
            _verdict(m),
        )
        for m in metrics
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def write_results(
    path: Path,
    metrics: Sequence[Metric],
    *,
    is_quick: bool,
    errors: dict[str, str],
    command: str,
    took_s: float,
) -> None:
    """Write results.json: the run's mode, machine, every metric and any benchmark errors."""
    document = {
        "mode": "quick" if is_quick else "full",
        "command": command,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "took_s": round(took_s, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
        },
        "metrics": [m.as_json() for m in metrics],
        "errors": errors,
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
