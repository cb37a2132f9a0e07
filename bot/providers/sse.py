"""Server-sent events, parsed incrementally from raw bytes as they arrive."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One dispatched server-sent event: its type (`message` when unnamed) and its data."""

    event: str
    data: str


class SSEParser:
    """Incremental server-sent-events parser fed raw bytes in chunks of any size.

    Works on bytes: the buffer is cut at blank lines into whole events, and only an event's
    field values are decoded, so a multi-byte UTF-8 character split across chunks is read
    correctly and a chunk costs a few byte searches rather than work per line. Handles `\\n`,
    `\\r\\n` and `\\r` line ends (also a `\\r\\n` split across chunks), comment lines, and
    multi-line `data:`. As the SSE spec says, an event not terminated by a blank line before
    the stream ends is never dispatched.
    """

    def __init__(self) -> None:
        # The bytes after the last complete event, line ends already made `\n`.
        self._buffer = b""
        # The buffer ends with a CR that may be the first half of a CRLF still in flight.
        self._holds_cr = False

    def feed(self, chunk: bytes) -> list[SSEEvent]:
        """Add bytes from the stream; return the events they completed, in order."""
        buffer = self._buffer + chunk if self._buffer else chunk
        if self._holds_cr or b"\r" in chunk:
            # Rare: servers use bare `\n`. A trailing CR waits for the next chunk.
            held = buffer.endswith(b"\r")
            if held:
                buffer = buffer[:-1]
            buffer = buffer.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            self._holds_cr = held
            if held:
                buffer += b"\r"
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        self._buffer = buffer[end + 2 :]
        events: list[SSEEvent] = []
        for block in buffer[:end].split(b"\n\n"):
            if (event := _event(block)) is not None:
                events.append(event)
        return events

    def close(self) -> list[SSEEvent]:
        """The stream ended: a trailing CR still ends its line; an unfinished event is dropped."""
        events = self.feed(b"\n") if self._buffer.endswith(b"\r") else []
        self._buffer = b""
        self._holds_cr = False
        return events


def _event(block: bytes) -> SSEEvent | None:
    """One event from the lines between two blank lines; None when it carries no data."""
    if block.startswith(b"data:") and b"\n" not in block:
        # The usual event: one `data:` line.
        value = block[6:] if block[5:6] == b" " else block[5:]
        return SSEEvent("message", value.decode("utf-8", errors="replace"))
    event_type = "message"
    data: list[str] = []
    for line in block.split(b"\n"):
        if not line or line[0] == 0x3A:  # blank, or a ":" comment
            continue
        name, colon, value = line.partition(b":")
        if colon and value[:1] == b" ":
            value = value[1:]
        if name == b"data":
            data.append(value.decode("utf-8", errors="replace"))
        elif name == b"event":
            event_type = value.decode("utf-8", errors="replace") or "message"
    if not data:
        return None
    return SSEEvent(event_type, "\n".join(data))
