"""What the fakes saw, timed: when persona messages first showed text, when they were final,
when clicks were acknowledged, and when vote tallies were edited.

Times are `time.monotonic()` seconds stamped by the fakes when they handled a request, which is
when Discord would show its effect.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from bot.discord_ui.presenter import THINKING
from tests.fakediscord import FakeDiscord, WireEntry
from tests.fakellm import FakeLLM, RecordedRequest

EXECUTE_ROUTE = "/webhooks/{webhook_id}/{webhook_token}"
EDIT_ROUTE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
CALLBACK_ROUTE = "/interactions/{interaction_id}/{interaction_token}/callback"
ORIGINAL = "@original"


@dataclass
class MessageTimes:
    """When a persona message first showed text, and when it got its final text and buttons;
    whether it was first posted as "thinking…", and how many edits streamed text before the
    final one."""

    first_text_at: float | None = None
    final_at: float | None = None
    was_placeholder: bool = False
    progress_edits: int = 0


def _is_ok(entry: WireEntry) -> bool:
    return 200 <= entry.status < 300


def _body(entry: WireEntry) -> dict[str, Any]:
    return entry.body if isinstance(entry.body, dict) else {}


def _shows_text(body: dict[str, Any]) -> bool:
    content = body.get("content")
    thinking = str(THINKING)
    return isinstance(content, str) and bool(content.strip()) and not content.endswith(thinking)


def _has_buttons(body: dict[str, Any]) -> bool:
    return bool(body.get("components"))


def persona_message_times(fake: FakeDiscord) -> dict[int, MessageTimes]:
    """Every webhook message by id: its first edit showing text and its first with buttons."""
    times: dict[int, MessageTimes] = defaultdict(MessageTimes)
    for entry in list(fake.wire):
        if not _is_ok(entry):
            continue
        if entry.method == "POST" and entry.route == EXECUTE_ROUTE:
            response = entry.response if isinstance(entry.response, dict) else {}
            message_id = int(response.get("id", 0))
        elif entry.method == "PATCH" and entry.route == EDIT_ROUTE:
            tail = entry.path.rsplit("/", 1)[-1]
            if not tail.isdigit():
                continue
            message_id = int(tail)
        else:
            continue
        body = _body(entry)
        seen = times[message_id]
        if entry.method == "POST" and not _shows_text(body):
            seen.was_placeholder = True
        if seen.first_text_at is not None and seen.final_at is None and not _has_buttons(body):
            seen.progress_edits += 1
        if seen.first_text_at is None and _shows_text(body):
            seen.first_text_at = entry.at_s
        if seen.final_at is None and _has_buttons(body):
            seen.final_at = entry.at_s
    return dict(times)


def acknowledged_at(fake: FakeDiscord) -> dict[int, float]:
    """Interaction id → when the bot's first successful callback for it arrived."""
    acks: dict[int, float] = {}
    for entry in list(fake.wire):
        if entry.method == "POST" and entry.route == CALLBACK_ROUTE and _is_ok(entry):
            interaction_id = int(entry.path.split("/")[-3])
            acks.setdefault(interaction_id, entry.at_s)
    return acks


def tally_edits(fake: FakeDiscord) -> dict[int, list[float]]:
    """Message id → when its buttons were edited through a click's interaction token."""
    by_token = {i.token: i for i in fake.world.interactions.values()}
    edits: dict[int, list[float]] = defaultdict(list)
    for entry in list(fake.wire):
        if entry.method != "PATCH" or entry.route != EDIT_ROUTE or not _is_ok(entry):
            continue
        parts = entry.path.split("/")
        if parts[-1] != ORIGINAL:
            continue
        interaction = by_token.get(parts[-3])
        if interaction is not None and interaction.message_id is not None:
            edits[interaction.message_id].append(entry.at_s)
    return {message_id: sorted(times) for message_id, times in edits.items()}


def most_in_window(times: list[float], window_s: float) -> int:
    """The most of these sorted times that fall in any half-open window of `window_s`."""
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window_s:
            start += 1
        most = max(most, end - start + 1)
    return most


def requests_about(llm: FakeLLM, model: str, topic: str) -> list[RecordedRequest]:
    """A model's requests whose prompt carries this council's topic, oldest first."""
    return [r for r in llm.requests_for(model) if topic in json.dumps(r.body)]
