"""Server-sent events, parsed incrementally from raw bytes as they arrive."""

from __future__ import annotations

import re
from dataclasses import dataclass

_EOL = re.compile(rb"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched server-sent event: its type (`message` when unnamed) and its data."""

    event: str
    data: str


class SSEParser:
    """Incremental server-sent-events parser fed raw bytes in chunks of any size.

    Lines are split on bytes and decoded only when complete, so a multi-byte UTF-8 character
    split across chunks is read correctly. Handles `\\n`, `\\r\\n` and `\\r` line ends (also a
    `\\r\\n` split across chunks), comment lines, and multi-line `data:`. As the SSE spec says,
    an event not terminated by a blank line before the stream ends is never dispatched.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._event_type = ""
        self._data_lines: list[str] = []

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes from the stream; return the events they completed, in order."""
        self._buffer += chunk
        events: list[SSEEvent] = []
        position = 0
        while match := _EOL.search(self._buffer, position):
            # A lone trailing CR may be the first half of a CRLF still in flight.
            if match.group() == b"\r" and match.end() == len(self._buffer):
                break
            line = bytes(self._buffer[position : match.start()])
            position = match.end()
            if (event := self._take_line(line.decode("utf-8", errors="replace"))) is not None:
                events.append(event)
        del self._buffer[:position]
        return events

    def close(self) -> list[SSEEvent]:
        """The stream ended: a trailing CR still ends its line; an unfinished event is dropped."""
        events = self.feed(b"\n") if self._buffer.endswith(b"\r") else []
        self._buffer.clear()
        self._event_type = ""
        self._data_lines = []
        return events

    def _take_line(self, line: str) -> SSEEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data_lines.append(value)
        elif name == "event":
            self._event_type = value
        return None

    def _dispatch(self) -> SSEEvent | None:
        if not self._data_lines:
            self._event_type = ""
            return None
        event = SSEEvent(self._event_type or "message", "\n".join(self._data_lines))
        self._event_type = ""
        self._data_lines = []
        return event
