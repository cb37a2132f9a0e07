"""Round overhead: how much longer a round takes on Discord than its slowest model.

Four members whose models take 0.4 / 0.8 / 1.2 / 1.6 s to their first token and then stream
150 tokens at 40 tokens/s. A parallel round's wall time (the engine starting the round to the
last final message, with its buttons, on Discord) divided by the slowest member's own generation
time must stay within 5 %. A debate round (members one after another, as single-speaker bots
work) is measured in the same run for comparison.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from bench.councils import PlayedRound, played_rounds
from bench.observe import persona_message_times
from bench.report import Metric, at_most
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

NAME = "round_overhead"
MEMBERS = PERSONAS[:4]
FULL_PARALLEL_ROUNDS = 3
MAX_RATIO = 1.05


def _ratio(played: PlayedRound) -> float:
    wall = played.wall_s
    slowest = max(a.generation_s for a in played.answers)
    if wall is None:
        raise RuntimeError(f"round {played.number} of council #{played.session_id} never ended")
    return wall / slowest


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run a parallel council and a debate council; compare round times to model times."""
    paces = QUICK_FOUR_PACES if quick else FOUR_PACES
    parallel_rounds = 1 if quick else FULL_PARALLEL_ROUNDS
    async with Fakes() as fakes:
        for persona, pace in zip(MEMBERS, paces, strict=True):
            fakes.script(persona, pace)
        place = fakes.add_place("Rounds", channels=2)
        presets = {
            "parallel4": Preset(MEMBERS, "parallel", parallel_rounds),
            "debate4": Preset(MEMBERS, "debate", 1),
        }
        await prepare(fakes, workdir, presets, [place.guild.id])
        async with (
            running_bot(fakes, workdir, dev_guild_id=place.guild.id) as bot,
            Store.open(bot.db) as store,
        ):
            await start_council(
                fakes,
                place,
                place.channels[0],
                topic="Round overhead parallel",
                preset="parallel4",
                rounds=parallel_rounds,
            )
            [parallel] = await wait_for_sessions(
                store, [place.guild.id], 1, timeout_s=120, is_done=has_summary
            )
            await start_council(
                fakes,
                place,
                place.channels[1],
                topic="Round overhead debate",
                preset="debate4",
                rounds=1,
            )
            sessions = await wait_for_sessions(
                store, [place.guild.id], 2, timeout_s=120, is_done=has_summary
            )
            debate = next(s for s in sessions if s.id != parallel.id)
            times = persona_message_times(fakes.discord)
            parallel_played = await played_rounds(fakes, store, parallel, times)
            [debate_played] = await played_rounds(fakes, store, debate, times)

    ratios = [_ratio(p) for p in parallel_played]
    parallel_walls = [p.wall_s or 0.0 for p in parallel_played]
    slowest = statistics.median(max(a.generation_s for a in p.answers) for p in parallel_played)
    sequential_wall = debate_played.wall_s or 0.0
    generation_sum = sum(a.generation_s for a in debate_played.answers)
    per_round = ", ".join(f"{r:.3f}" for r in ratios)
    return [
        Metric(
            NAME,
            "parallel wall / slowest generation (worst round)",
            max(ratios),
            "x",
            at_most(MAX_RATIO),
            detail=f"rounds: {per_round}",
        ),
        Metric(NAME, "parallel round wall time (median)", statistics.median(parallel_walls), "s"),
        Metric(NAME, "slowest member generation time (median)", slowest, "s"),
        Metric(NAME, "sequential round wall time", sequential_wall, "s"),
        Metric(
            NAME,
            "sequential wall / sum of generations",
            sequential_wall / generation_sum,
            "x",
            detail=f"sum of the members' generation times {generation_sum:.2f} s",
        ),
        Metric(
            NAME,
            "sequential / parallel round time",
            sequential_wall / statistics.median(parallel_walls),
            "x",
        ),
    ]
