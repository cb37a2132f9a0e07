"""Vote burst: 2,000 clicks from 500 members over 10 messages within 2 s.

Every click must be acknowledged inside Discord's 3 s (p99 within 150 ms), none may be lost (the
store ends equal to the clicks' net effect: votes, switches and withdrawals), and each message's
buttons may be edited at most once per 2 s. A member's clicks on one message always differ from
their previous click there, or come well after the 1 s double-click window, so that every click
counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from bench.observe import acknowledged_at, most_in_window, tally_edits
from bench.report import Metric, at_least, at_most, percentile
from bench.world import (
    PERSONAS,
    Fakes,
    Pace,
    Preset,
    has_summary,
    prepare,
    running_bot,
    start_council,
    wait_for_sessions,
)
from bot.council.models import ReplyKind, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.discord_ui.votes import DOUBLE_CLICK_S, REFRESH_INTERVAL_S
from bot.store.store import Store
from tests.fakediscord.reader import see
from tests.fakediscord.state import Interaction, User

NAME = "vote_burst"
ACK_DEADLINE_S = 3.0
# Full: 500 members x 4 clicks over 10 messages (5 members x 2 rounds) in 2 s.
FULL = {"members": 500, "personas": 5, "rounds": 2, "window_s": 2.0}
QUICK = {"members": 50, "personas": 4, "rounds": 1, "window_s": 1.5}
CLICKS_PER_MEMBER = 4
# A withdrawal (the same button again) comes this long after the vote it cancels.
WITHDRAW_GAP_S = DOUBLE_CLICK_S + 0.4
STEP_S = 0.1
# Edits 2 s apart when sent can land a little closer together: network jitter, not the bot.
EDIT_JITTER_S = 0.05
UP, DOWN = VoteValue.UP, VoteValue.DOWN


@dataclass(frozen=True)
class Click:
    """One planned click: who, on which message (by index), which button, when (s from start)."""

    at_s: float
    member: int
    message: int
    value: VoteValue


def plan_clicks(members: int, messages: int, window_s: float, rng: random.Random) -> list[Click]:
    """Four clicks per member in four patterns: votes, a switch, a withdrawal, switching back.

    Messages a-d are distinct for each member, so only the intended repeats touch one message.
    """
    clicks: list[Click] = []
    for member in range(members):
        a, b, c, d = ((member + k) % messages for k in range(4))
        patterns = (
            [(0, a, UP), (1, b, DOWN), (2, a, DOWN), (3, c, UP)],
            [(0, a, UP), (1, b, UP), (2, c, DOWN), (WITHDRAW_GAP_S / STEP_S, a, UP)],
            [(0, a, DOWN), (1, b, UP), (2, c, UP), (3, d, DOWN)],
            [(0, a, UP), (1, a, DOWN), (2, a, UP), (3, b, DOWN)],
        )
        pattern = patterns[member % len(patterns)]
        span = max(step for step, _, _ in pattern) * STEP_S
        start = rng.uniform(0, window_s - span)
        clicks += [Click(start + step * STEP_S, member, msg, v) for step, msg, v in pattern]
    return sorted(clicks, key=lambda c: c.at_s)


def net_effect(clicks: list[Click]) -> dict[tuple[int, int], VoteValue]:
    """(member, message) → the vote left standing: a repeat withdraws, the other button switches."""
    standing: dict[tuple[int, int], VoteValue] = {}
    for click in clicks:
        key = (click.member, click.message)
        if standing.get(key) is click.value:
            del standing[key]
        else:
            standing[key] = click.value
    return standing


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Run a council, then the burst, and check acknowledgements, the store and the edits."""
    size = QUICK if quick else FULL
    members, window_s = int(size["members"]), float(size["window_s"])
    personas = PERSONAS[: int(size["personas"])]
    async with Fakes() as fakes:
        for persona in personas:
            fakes.script(persona, Pace(tokens=20))
        place = fakes.add_place("Votes")
        await prepare(
            fakes,
            workdir,
            {"votes": Preset(personas, "parallel", int(size["rounds"]))},
            [place.guild.id],
        )
        async with (
            running_bot(fakes, workdir, dev_guild_id=place.guild.id) as bot,
            Store.open(bot.db) as store,
        ):
            await start_council(
                fakes,
                place,
                place.channels[0],
                topic="Vote burst",
                preset="votes",
                rounds=int(size["rounds"]),
            )
            [session] = await wait_for_sessions(
                store, [place.guild.id], 1, timeout_s=60, is_done=has_summary
            )
            answers = [r for r in await store.replies(session.id) if r.kind is ReplyKind.ANSWER]
            voters = [fakes.driver.create_member(place.guild, f"fan-{i}") for i in range(members)]
            clicks = plan_clicks(members, len(answers), window_s, random.Random(8))
            sent, took_s = await _burst(
                fakes, voters, [a.message_ids[-1] for a in answers], [a.id for a in answers], clicks
            )
            await _wait_acknowledged(fakes, sent, timeout_s=ACK_DEADLINE_S + 2)
            await asyncio.sleep(REFRESH_INTERVAL_S + 1.0)  # the last coalesced refresh
            stored = {(v.user_id, v.reply_id): v.value for v in await store.votes(session.id)}
            counts = {a.id: await store.votes_for(a.id) for a in answers}

    acks = acknowledged_at(fakes.discord)
    latencies = [acks[i.id] - i.created_at_s for i in sent if i.id in acks]
    in_time = sum(1 for lat in latencies if lat <= ACK_DEADLINE_S)
    refused = sum(1 for i in sent if i.response_type not in (None, 6, 7))
    expected = {
        (voters[m].id, answers[msg].id): value for (m, msg), value in net_effect(clicks).items()
    }
    wrong = len(set(expected.items()) ^ set(stored.items()))
    edits = tally_edits(fakes.discord)
    message_ids = [a.message_ids[-1] for a in answers]
    window_s = REFRESH_INTERVAL_S - EDIT_JITTER_S
    busiest = max((most_in_window(edits.get(m, []), window_s) for m in message_ids), default=0)
    stale = 0
    for answer in answers:
        shown = see(fakes.discord, fakes.discord.world.messages[answer.message_ids[-1]])
        up, down = counts[answer.id]
        if [b.label for b in shown.buttons] != [f"👍 {up}", f"👎 {down}"]:
            stale += 1
    return [
        Metric(
            NAME,
            "clicks sent",
            len(sent),
            detail=f"over {took_s:.2f} s to {len(answers)} messages by {members} members",
        ),
        Metric(
            NAME, "clicks acknowledged within 3 s", 100 * in_time / len(sent), "%", at_least(100)
        ),
        Metric(NAME, "acknowledgement p99", percentile(latencies, 0.99) * 1000, "ms", at_most(150)),
        Metric(NAME, "acknowledgement median", statistics.median(latencies) * 1000, "ms"),
        Metric(NAME, "acknowledgement max", max(latencies) * 1000, "ms"),
        Metric(
            NAME,
            "votes lost or wrong in the store",
            wrong + refused,
            "",
            at_most(0),
            detail=f"{len(expected)} votes expected, {refused} clicks refused",
        ),
        Metric(
            NAME,
            "most tally edits of a message in 2 s",
            busiest,
            "",
            at_most(1),
            detail=f"{sum(len(t) for t in edits.values())} tally edits in all; "
            f"windows of {window_s:.2f} s allow for network jitter",
        ),
        Metric(NAME, "messages whose buttons disagree with the store", stale, "", at_most(0)),
    ]


async def _burst(
    fakes: Fakes,
    voters: list[User],
    message_ids: list[int],
    reply_ids: list[int],
    clicks: list[Click],
) -> tuple[list[Interaction], float]:
    """Send the clicks on schedule; return their interactions and how long sending took."""
    sent: list[Interaction] = []
    started = time.monotonic()
    for click in clicks:
        delay = started + click.at_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        custom_id = vote_custom_id(reply_ids[click.message], click.value)
        handle = await fakes.driver.click(
            voters[click.member], message_ids[click.message], custom_id
        )
        sent.append(handle.interaction)
    return sent, time.monotonic() - started


async def _wait_acknowledged(fakes: Fakes, sent: list[Interaction], *, timeout_s: float) -> None:
    """Wait until every click is acknowledged or `timeout_s` passes (late ones are measured)."""
    with contextlib.suppress(AssertionError):
        await fakes.discord.wait_for(
            lambda: all(i.response_type is not None for i in sent),
            timeout=timeout_s,
            what="every click to be acknowledged",
        )
