"""What a fake model does: its reply, its pace, its wire quirks and the faults it injects.

A `ModelScript` is set per model name on a `FakeLLM`; every request for that model is served
from it and recorded as a `RecordedRequest`.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

WireFormat = Literal["openai", "anthropic", "gemini"]
WIRE_FORMATS: tuple[WireFormat, ...] = ("openai", "anthropic", "gemini")


@dataclass
class RecordedRequest:
    """One request the fake received, kept so tests can assert what each model was sent.

    `headers` has lower-case names; `body` is the parsed JSON (None when it was not JSON);
    times are `time.monotonic()`. `disconnected` is true when the client went away before
    the reply ended (a cancelled call).
    """

    wire: WireFormat
    model: str
    path: str
    headers: dict[str, str]
    body: Any
    received_at: float
    finished_at: float | None = None
    status: int | None = None
    disconnected: bool = False

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name."""
        return self.headers.get(name.lower())

    def system_text(self) -> str:
        """The system prompt, however this wire format carries it."""
        body = self.body if isinstance(self.body, dict) else {}
        if self.wire == "openai":
            return "\n".join(
                _text_of(m.get("content"))
                for m in body.get("messages", [])
                if isinstance(m, dict) and m.get("role") == "system"
            )
        if self.wire == "anthropic":
            return _text_of(body.get("system"))
        instruction = body.get("systemInstruction")
        return _text_of(instruction.get("parts") if isinstance(instruction, dict) else None)

    def turns(self) -> list[tuple[str, str]]:
        """The conversation as (role, text) pairs, roles as the wire format names them."""
        body = self.body if isinstance(self.body, dict) else {}
        key = "contents" if self.wire == "gemini" else "messages"
        turns: list[tuple[str, str]] = []
        for message in body.get(key, []):
            if not isinstance(message, dict) or message.get("role") == "system":
                continue
            content = message.get("parts" if self.wire == "gemini" else "content")
            turns.append((str(message.get("role", "")), _text_of(content)))
        return turns

    def last_user_text(self) -> str:
        """The text of the last user turn, or "" when there is none."""
        return next((text for role, text in reversed(self.turns()) if role == "user"), "")


def _text_of(content: Any) -> str:
    """Text from a string, or from a list of text blocks / parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(block.get("text", "")) for block in content if isinstance(block, dict))
    return ""


ReplySource = str | Sequence[str] | Callable[[RecordedRequest], str]


class FaultKind(StrEnum):
    """What goes wrong."""

    HTTP_ERROR = "http_error"
    MALFORMED_JSON = "malformed_json"
    CUT = "cut"
    ERROR_EVENT = "error_event"


@dataclass(frozen=True)
class Fault:
    """One injected failure. Build with the class methods.

    In-stream faults (`malformed_json`, `cut`, `error_event`) strike after `after_tokens`
    streamed tokens (reasoning and text); `http` answers the request with an error status.
    """

    kind: FaultKind
    status: int = 500
    retry_after: str | None = None
    message: str = ""
    echo_key: bool = False
    after_tokens: int = 0

    @classmethod
    def http(
        cls,
        status: int,
        *,
        retry_after: str | float | None = None,
        message: str = "",
        echo_key: bool = False,
    ) -> Fault:
        """Answer with `status` and the wire format's error body.

        `retry_after` becomes the `Retry-After` header (seconds, or an HTTP date string);
        `echo_key` appends the key the client sent to the error message, as some servers do.
        """
        after = None if retry_after is None else str(retry_after)
        return cls(FaultKind.HTTP_ERROR, status, after, message, echo_key)

    @classmethod
    def malformed_json(cls, *, after_tokens: int = 1) -> Fault:
        """Send one event whose data is not valid JSON, then carry on."""
        return cls(FaultKind.MALFORMED_JSON, after_tokens=after_tokens)

    @classmethod
    def cut(cls, *, after_tokens: int = 2) -> Fault:
        """Drop the connection in the middle of an event, without ending the HTTP body."""
        return cls(FaultKind.CUT, after_tokens=after_tokens)

    @classmethod
    def error_event(
        cls, *, status: int = 529, message: str = "Overloaded", after_tokens: int = 0
    ) -> Fault:
        """Send the wire format's in-stream error (Anthropic `event: error`) and end."""
        return cls(FaultKind.ERROR_EVENT, status, None, message, after_tokens=after_tokens)


@dataclass
class ModelScript:
    """How one fake model behaves.

    `reply` is the text, a list of texts used one per request (the last one repeats), or a
    callable given the `RecordedRequest`. `faults` strike one per request in order; once they
    are used up, `fault` (if set) strikes on every request. Server-side stop strings and the
    request's max tokens are honoured like a real server would.
    """

    reply: ReplySource = "Hello from the fake model."
    reasoning: str = ""
    # "native": the format's own field (reasoning_content / thinking block / thought part);
    # "think_tags": inline `<think>…</think>` in the text, as local R1-style models do.
    reasoning_style: Literal["native", "think_tags"] = "native"
    first_token_delay_s: float = 0.0
    tokens_per_s: float | None = None
    # Go silent for `stall_s` once this many tokens (reasoning and text) have streamed, then
    # carry on: a server that hangs mid-reply with the connection still open.
    stall_after_tokens: int | None = None
    stall_s: float = 0.0
    faults: list[Fault] = field(default_factory=list)
    fault: Fault | None = None
    # Strike `fault` on only this share of requests, drawn from a generator seeded with
    # `fault_seed` (1.0: every request, as before).
    fault_rate: float = 1.0
    fault_seed: int = 0
    # Write the body in pieces of this many bytes, straddling event boundaries; each piece is
    # its own HTTP chunk, so the client reads them separately. A pause slows them further.
    chunk_bytes: int | None = None
    chunk_pause_s: float = 0.0
    line_ending: Literal["\n", "\r\n"] | None = None  # None: the format's usual
    comments: bool = False  # interleave ": keep-alive" comment lines
    multiline_data: bool = False  # pretty-print JSON over several `data:` lines
    send_usage: bool = True
    send_finish: bool = True  # finish_reason / stop_reason / finishReason
    send_end: bool = True  # OpenAI `[DONE]`, Anthropic `message_stop`
    finish_reason: str | None = None  # the raw wire value, e.g. "content_filter", "SAFETY"
    usage: tuple[int, int] | None = None  # (input, output) to report instead of counting
    # Block the prompt for this reason (e.g. "SAFETY"): Gemini streams only `promptFeedback`;
    # the other formats answer 400 with a content-filter error.
    prompt_blocked: str | None = None


_OPINIONS = (
    "On {topic}, I'd start from what changes for the people affected tomorrow morning. "
    "The principle matters less than the first concrete step, and I'd want that step to be "
    "reversible.",
    "I see {topic} differently: the risks are real but overstated, and the cost of doing "
    "nothing is rarely counted. I'd rather try something small, measure it and adjust.",
    "Let me push back a little. {topic} has a long history, and most confident predictions "
    "about it have aged badly. Humility here is not a weakness; it is the evidence talking.",
    "Short answer on {topic}: it depends on who bears the cost. If it falls on those with "
    "the least say, I'd be cautious; if it is shared, I'd be bolder than the others here.",
)
TOPIC_MAX_CHARS = 80


def plausible_opinion(request: RecordedRequest) -> str:
    """A short opinion on the last user message, varied by model name (for demos)."""
    topic = " ".join(request.last_user_text().split()) or "this question"
    if len(topic) > TOPIC_MAX_CHARS:
        topic = topic[: TOPIC_MAX_CHARS - 1] + "…"
    choice = zlib.crc32(request.model.encode()) + len(request.turns())
    return _OPINIONS[choice % len(_OPINIONS)].format(topic=topic)


def demo_script() -> ModelScript:
    """What every model does when the fake runs standalone: a paced, plausible opinion."""
    return ModelScript(reply=plausible_opinion, first_token_delay_s=0.3, tokens_per_s=40.0)


@dataclass
class ModerationScript:
    """What the fake's `/v1/moderations` endpoint answers.

    A text containing one of `flags`' words (ignoring case) is flagged with that word's
    category; `fault` answers every request with an error instead, `body` with this JSON body
    (a server that is no moderations endpoint); `delay_s` slows each answer.
    """

    flags: dict[str, str] = field(default_factory=dict)
    fault: Fault | None = None
    body: dict[str, Any] | None = None
    delay_s: float = 0.0


def guard_verdicts(flags: Mapping[str, str]) -> Callable[[RecordedRequest], str]:
    """A guard model's replies (Llama Guard's format): "unsafe" and the code given for the first
    of `flags`' words the text holds, else "safe". Script it as a model's `reply`."""

    def verdict(request: RecordedRequest) -> str:
        text = request.last_user_text().casefold()
        codes = [code for word, code in flags.items() if word.casefold() in text]
        return f"unsafe\n{','.join(codes)}" if codes else "safe"

    return verdict
