"""Shaping streamed reply text: reasoning kept apart from the visible reply, and stop strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar


def _held_prefix_len(text: str, marker: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `marker`."""
    if len(marker) < 2 or marker[0] not in text[1 - len(marker) :]:
        return 0  # the usual case: nothing near the end could start the marker
    for size in range(min(len(text), len(marker) - 1), 0, -1):
        if marker.startswith(text[-size:]):
            return size
    return 0


class ThinkTagSplitter:
    """Separates `<think>…</think>` reasoning from visible text in streamed pieces.

    Tags split across pieces are recognised by holding back a possible partial tag; an
    unclosed `<think>` leaves everything after it as reasoning. Whitespace before the first
    visible character is dropped, since models put blank lines after `</think>`.
    """

    OPEN: ClassVar[str] = "<think>"
    CLOSE: ClassVar[str] = "</think>"

    def __init__(self) -> None:
        self._pending = ""
        self._is_inside = False
        self._has_visible = False

    def feed(self, text: str) -> tuple[str, str]:
        """Add a piece of model text; return the (visible, reasoning) text now certain."""
        if not self._pending and not self._is_inside and "<" not in text:
            return self._visible(text), ""  # the usual piece: plain visible text
        buffer = self._pending + text
        self._pending = ""
        visible: list[str] = []
        reasoning: list[str] = []
        while buffer:
            tag = self.CLOSE if self._is_inside else self.OPEN
            side = reasoning if self._is_inside else visible
            index = buffer.find(tag)
            if index >= 0:
                side.append(buffer[:index])
                buffer = buffer[index + len(tag) :]
                self._is_inside = not self._is_inside
                continue
            held = _held_prefix_len(buffer, tag)
            side.append(buffer[: len(buffer) - held])
            self._pending = buffer[len(buffer) - held :]
            break
        return self._visible("".join(visible)), "".join(reasoning)

    def flush(self) -> tuple[str, str]:
        """End of text: release anything held back as (visible, reasoning)."""
        pending, self._pending = self._pending, ""
        if self._is_inside:
            return "", pending
        return self._visible(pending), ""

    def _visible(self, text: str) -> str:
        if not self._has_visible:
            text = text.lstrip()
            self._has_visible = bool(text)
        return text


class StopScanner:
    """Cuts streamed text at the first stop string, which itself is never emitted.

    Servers may honour fewer stop strings than asked (OpenAI takes four), so every one is
    enforced here too. A suffix that could begin a stop string is held back until decided.
    """

    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = tuple(stop for stop in stops if stop)
        self._firsts = frozenset(stop[0] for stop in self._stops)
        self._pending = ""
        self.is_stopped = False

    def feed(self, text: str) -> str:
        """Add visible text; return the part now certain to precede any stop string."""
        if self.is_stopped:
            return ""
        if not self._pending and self._firsts.isdisjoint(text):
            return text  # the usual piece: no stop string can start in it
        buffer = self._pending + text
        self._pending = ""
        hits = [index for stop in self._stops if (index := buffer.find(stop)) >= 0]
        if hits:
            self.is_stopped = True
            return buffer[: min(hits)]
        held = max((_held_prefix_len(buffer, stop) for stop in self._stops), default=0)
        self._pending = buffer[len(buffer) - held :]
        return buffer[: len(buffer) - held]

    def flush(self) -> str:
        """End of text: release anything held back."""
        pending, self._pending = self._pending, ""
        return "" if self.is_stopped else pending
