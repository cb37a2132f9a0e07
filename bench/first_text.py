"""Time to first visible text: from a model's first token to the first edit that shows it.

Councils of four members (0.4 / 0.8 / 1.2 / 1.6 s to the first token, 40 tokens/s, 150
tokens) run side by side in their own channels for two rounds. For every answer, the delay from
the model server sending its first token to the fake Discord applying the first edit of the
persona's message that shows text: median within 1 s, p95 within 1.5 s.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.councils import played_rounds
from bench.observe import persona_message_times
from bench.report import Metric, at_most, percentile
from bench.world import (
    FOUR_PACES,
    PERSONAS,
    QUICK_FOUR_PACES,
    Fakes,
    Preset,
    has_summary,
    prepare,
    running_bot,
    start_council,
    wait_for_sessions,
)
from bot.store.store import Store

NAME = "first_text"
MEMBERS = PERSONAS[:4]
FULL_COUNCILS, FULL_ROUNDS = 3, 2


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run the councils and measure every answer's first visible text."""
    paces = QUICK_FOUR_PACES if quick else FOUR_PACES
    councils, rounds = (1, 1) if quick else (FULL_COUNCILS, FULL_ROUNDS)
    async with Fakes() as fakes:
        for persona, pace in zip(MEMBERS, paces, strict=True):
            fakes.script(persona, pace)
        place = fakes.add_place("First text", channels=councils)
        await prepare(
            fakes,
            workdir,
            {"four": Preset(MEMBERS, "parallel", rounds)},
            [place.guild.id],
            max_concurrent_sessions=councils,
        )
        async with (
            running_bot(fakes, workdir, dev_guild_id=place.guild.id) as bot,
            Store.open(bot.db) as store,
        ):
            for i, channel in enumerate(place.channels):
                await start_council(
                    fakes, place, channel, topic=f"First text {i}", preset="four", rounds=rounds
                )
            sessions = await wait_for_sessions(
                store, [place.guild.id], councils, timeout_s=120, is_done=has_summary
            )
            times = persona_message_times(fakes.discord)
            delays: list[float] = []
            placeholders, progress_edits = 0, 0
            missing = 0
            for session in sessions:
                for played in await played_rounds(fakes, store, session, times):
                    for answer in played.answers:
                        shown = answer.first_message.first_text_at
                        placeholders += answer.first_message.was_placeholder
                        progress_edits += answer.first_message.progress_edits
                        if shown is None:
                            missing += 1
                        else:
                            delays.append(shown - answer.first_token_at)
    if missing:
        raise RuntimeError(f"{missing} answers never showed text")
    return [
        Metric(
            NAME,
            "first token → first visible text, median",
            statistics.median(delays),
            "s",
            at_most(1.0),
        ),
        Metric(
            NAME,
            "first token → first visible text, p95",
            percentile(delays, 0.95),
            "s",
            at_most(1.5),
        ),
        Metric(NAME, "first token → first visible text, max", max(delays), "s"),
        Metric(NAME, "answers measured", len(delays)),
        Metric(
            NAME,
            'answers first shown as "thinking…"',
            placeholders / len(delays) * 100,
            "%",
            detail="the rest appeared with their first words",
        ),
        Metric(NAME, "streaming edits per answer", progress_edits / len(delays)),
    ]
