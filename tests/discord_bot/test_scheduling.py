"""How a streaming council spends its webhook's rate windows (5 requests per 2 s).

The fake Discord counts every request against its webhook's window and records the
`X-RateLimit-Remaining` it answered. discord.py's webhook adapter, on an answer saying
`Remaining: 0`, keeps the webhook (and the call that used the window up) waiting until the
window resets. So a window used up is one in which nothing more could go: the fake's record of
that answer is the signal that discord.py held the bot back, with no timing guesswork.

Requests a reply must make go at once: its first words and its final text. Placeholders
("thinking…") and progress edits are optional, and must never use up a window or take a
request away from a finished reply.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from typing import Literal

from bot.council.models import ReplyKind
from tests.council.conftest import NAMES
from tests.fakediscord.ratelimit import Arrival, WindowLog

Kind = Literal["placeholder", "first", "progress", "final"]
MUST_GO: frozenset[Kind] = frozenset({"first", "final"})
# A finished reply reaches the presenter moments after the store stamps it; a request the
# presenter chose later than this after the stamp was chosen while the final was due.
DUE_MARGIN_S = 0.25
_PART = re.compile(r"\*\(\d+/\d+\)\*$")


@dataclass(frozen=True)
class Sent:
    """One request on the personas' webhook, as the fake counted it."""

    window: WindowLog
    arrival: Arrival
    kind: Kind
    message_id: int  # the reply's first message

    @property
    def at_s(self) -> float:
        return self.arrival.at_s

    @property
    def answered_s(self) -> float:
        """When the bot could choose its next request: the answer, or discord.py's wait."""
        entry = self.arrival.entry
        answered = entry.at_s if entry is not None else self.at_s
        return max(answered, self.window.resets_s) if self.arrival.remaining == 0 else answered


@dataclass(frozen=True)
class Timeline:
    """Every persona-webhook request in arrival order, and when each reply's final was due."""

    sent: list[Sent]
    final_due_s: dict[int, float]

    def final_at(self, message_id: int) -> float:
        return next(s.at_s for s in self.sent if s.message_id == message_id and s.kind == "final")

    def unfinished_at(self, moment: float) -> set[int]:
        """Replies whose message exists and whose final text has not yet been sent."""
        return {
            s.message_id
            for s in self.sent
            if s.at_s <= moment and self.final_at(s.message_id) > moment
        }


async def _streaming_council(harness, rounds: int = 2) -> Timeline:
    """Four members streaming at different speeds, so edits and finals compete for windows."""
    world, driver, fake = harness.world, harness.driver, harness.fake
    text = " ".join(f"word{i}" for i in range(60))
    for name, tokens_per_s in zip(NAMES, (25, 30, 35, 40), strict=True):
        harness.llm.script(
            f"{name.lower()}-model", reply=text, tokens_per_s=tokens_per_s, first_token_delay_s=0.2
        )
    start = await driver.slash(
        world.host, world.general, "council start", topic="Windows", rounds=rounds
    )
    await start.wait_ack()
    session = await harness.wait_ended(timeout=60)
    record = await harness.store.session_record(session.id)
    to_monotonic = time.time() - time.monotonic()
    final_due_s = {
        r.message_ids[0]: r.created_at.timestamp() - to_monotonic
        for r in record.replies
        if r.kind is ReplyKind.ANSWER and r.message_ids
    }
    timeline = Timeline(_persona_requests(fake), final_due_s)
    assert {s.message_id for s in timeline.sent} == set(final_due_s)
    return timeline


def _persona_requests(fake) -> list[Sent]:
    """Classify each request on the personas' webhook (interaction tokens have their own)."""
    interactions = f"/webhooks/{fake.application_id}/"
    shown: dict[int, str] = {}
    sent: list[Sent] = []
    for window in fake.rate_windows("webhook"):
        for arrival in window.arrivals:
            entry = arrival.entry
            if entry is None or interactions in entry.path:
                continue
            body = entry.body if isinstance(entry.body, dict) else {}
            content = body.get("content") or ""
            if entry.method == "POST":
                message_id = int(entry.response["id"])
                if content.endswith("thinking…*"):
                    kind: Kind = "placeholder"
                elif body.get("components") or _PART.search(content):
                    # A long reply's later parts; they follow its first message.
                    kind = "final"
                    message_id = sent[-1].message_id
                else:
                    kind = "first"
            else:
                message_id = int(entry.path.rsplit("/", 1)[-1])
                if not content.endswith((" ▍", " …")):
                    kind = "final"
                elif shown.get(message_id, "").endswith("thinking…*"):
                    kind = "first"
                else:
                    kind = "progress"
            shown[message_id] = content
            sent.append(Sent(window, arrival, kind, message_id))
    sent.sort(key=lambda s: s.at_s)
    return sent


async def test_no_webhook_window_is_overrun_or_used_up_by_a_placeholder_or_progress_edit(
    harness,
):
    timeline = await _streaming_council(harness)
    windows = {id(s.window): s.window for s in timeline.sent}.values()
    assert len(windows) >= 4
    for window in windows:
        assert window.refused == []
        assert len(window.admitted) <= window.limit
    # discord.py waits out a used-up window, holding whatever the bot needs to send next;
    # only a request that had to go at once may cause that.
    holders = [s for s in timeline.sent if s.arrival.remaining == 0]
    assert [s.kind for s in holders if s.kind not in MUST_GO] == []


async def test_a_finished_reply_goes_before_any_other_request_on_the_webhook(harness):
    timeline = await _streaming_council(harness)
    overtaken = []
    for before, request in itertools.pairwise(timeline.sent):
        if request.kind == "final":
            continue
        # The presenter sends one request at a time: it chose this one after the previous
        # answer (or discord.py's wait) came back.
        chosen_after = before.answered_s
        for message_id, due in timeline.final_due_s.items():
            if due + DUE_MARGIN_S < chosen_after and request.at_s < timeline.final_at(message_id):
                overtaken.append((request.kind, request.message_id, message_id))
    assert overtaken == []


async def test_placeholders_and_progress_edits_leave_a_request_for_unfinished_replies(harness):
    timeline = await _streaming_council(harness)
    optional = [s for s in timeline.sent if s.kind not in MUST_GO]
    assert {s.kind for s in optional} == {"placeholder", "progress"}
    taken = [
        (s.kind, s.message_id)
        for s in optional
        if s.arrival.remaining == 0 and timeline.unfinished_at(s.at_s)
    ]
    assert taken == []
