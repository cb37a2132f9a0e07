"""Rendering hostile markdown, and scanning a long reply against a thousand keyword rules.

Both run on every reply (the HTML export renders each one; moderation checks each as it
streams), so input built to make a parser or a scanner backtrack must stay cheap. The figures
are the best of a few runs of each, the least disturbed by other work on the machine.
"""

from __future__ import annotations

import random
import string
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench.report import Metric, at_most
from bot.council.moderation import ModerationPolicy, ModerationRule, RuleAction, RuleBook, RuleKind
from bot.render.html import render_markdown_html

NAME = "markdown_render"
RUNS = {"full": 5, "quick": 1}
KEYWORDS = 1000
REPLY = "An ordinary sentence about trains and buses. " * 90  # about 4,000 characters


def hostile_markdown() -> str:
    """Unclosed emphasis, stray backticks, deep quotes and list markers: what a naive
    markdown parser backtracks over (about 33,000 characters)."""
    return ("**a " * 3000) + ("`" * 500) + ("_b " * 3000) + ("> " * 2000) + "\n" + "- " * 2000


def keyword_book(count: int = KEYWORDS) -> RuleBook:
    """A guild's rules at their largest: `count` keywords, every other one a prefix wildcard,
    the last one `word{count - 1}`."""
    rng = random.Random(1)
    words = [
        "".join(rng.choices(string.ascii_lowercase, k=rng.randint(5, 9))) for _ in range(count - 1)
    ]
    keywords = [*(w + "*" * (n % 2) for n, w in enumerate(words)), f"word{count - 1}"]
    now = datetime(2025, 1, 1, tzinfo=UTC)
    rules = tuple(
        ModerationRule(
            id=n,
            guild_id=1,
            kind=RuleKind.KEYWORD,
            pattern=k,
            action=RuleAction.WITHHOLD,
            category=None,
            created_at=now,
        )
        for n, k in enumerate(keywords)
    )
    return RuleBook(ModerationPolicy(rules=rules))


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` calls of `work`, in seconds."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Time the hostile render and the keyword scan (the same sizes in both modes)."""
    del workdir  # nothing to keep on disk
    runs = RUNS["quick" if quick else "full"]
    hostile = hostile_markdown()
    book = keyword_book()
    rendered = _best_of(runs, lambda: render_markdown_html(hostile))
    scanned = _best_of(runs, lambda: book.check(REPLY))
    return [
        Metric(
            NAME,
            "hostile markdown render",
            rendered,
            "s",
            at_most(2.0),
            detail=f"{len(hostile):,} characters",
        ),
        Metric(
            NAME,
            "1,000-keyword scan of a 4,000-character reply",
            scanned * 1000,
            "ms",
            at_most(50.0),
        ),
    ]
