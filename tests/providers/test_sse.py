"""The SSE parser reads events however the bytes are chunked."""

from __future__ import annotations

import pytest

from bot.providers.sse import SSEEvent, SSEParser


def feed_in_pieces(data: bytes, size: int) -> list[SSEEvent]:
    parser = SSEParser()
    events: list[SSEEvent] = []
    for start in range(0, len(data), size):
        events += parser.feed(data[start : start + size])
    return events + parser.close()


STREAM = (
    ": comment to ignore\n"
    "event: greeting\n"
    'data: {"text": "Grüße aus Köln — 東京 🎉"}\n'
    "\n"
    "data: first line\n"
    "data: second line\n"
    "\n"
    "data:no-space\n"
    "\n"
    "data: [DONE]\n"
    "\n"
).encode()
EXPECTED = [
    SSEEvent("greeting", '{"text": "Grüße aus Köln — 東京 🎉"}'),
    SSEEvent("message", "first line\nsecond line"),
    SSEEvent("message", "no-space"),
    SSEEvent("message", "[DONE]"),
]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64, 10_000])
def test_events_are_the_same_whatever_the_chunk_size(size: int) -> None:
    assert feed_in_pieces(STREAM, size) == EXPECTED


@pytest.mark.parametrize("size", [1, 3, 10_000])
def test_crlf_line_endings_are_read_even_when_split_between_chunks(size: int) -> None:
    assert feed_in_pieces(STREAM.replace(b"\n", b"\r\n"), size) == EXPECTED


def test_lone_cr_line_endings_are_read() -> None:
    assert feed_in_pieces(STREAM.replace(b"\n", b"\r"), 1) == EXPECTED


def test_a_multibyte_character_split_across_chunks_is_decoded_whole() -> None:
    data = "data: 🎉\n\n".encode()
    parser = SSEParser()
    assert parser.feed(data[:8]) == []  # inside the four-byte emoji
    assert parser.feed(data[8:]) == [SSEEvent("message", "🎉")]


def test_an_event_without_its_blank_line_is_not_dispatched() -> None:
    parser = SSEParser()
    assert parser.feed(b'data: {"cut": ') == []
    assert parser.feed(b"tru\n") == []
    assert parser.close() == []


def test_blank_lines_without_data_dispatch_nothing_and_reset_the_event_name() -> None:
    assert feed_in_pieces(b"event: ping\n\n\ndata: x\n\n", 4) == [SSEEvent("message", "x")]
