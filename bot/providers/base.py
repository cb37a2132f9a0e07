"""Shared machinery for the HTTP model providers: deadlines, retries, limits and streaming.

Each adapter (`openai.py`, `anthropic.py`, `gemini.py`) subclasses `HttpProvider` and supplies
two things: how to build its HTTP request and how to read one server-sent event. Everything
else lives here once: the retry loop, the deadlines, the concurrency limit, keeping reasoning
out of the visible text, client-side stop strings and usage estimates. Failures are named in
`failures.py` (`map_error`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import random
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar, Final
from urllib.parse import urlsplit

import httpx
from pydantic import SecretStr

from bot.config import ProviderConfig
from bot.errors import BadResponseError, ProviderError
from bot.providers.failures import (
    CallContext,
    DeadlineExceeded,
    HttpFailure,
    StreamFault,
    is_retryable,
    map_error,
    parse_retry_after,
)
from bot.providers.sse import SSEEvent, SSEParser
from bot.providers.text import StopScanner, ThinkTagSplitter
from bot.providers.types import (
    ChatMessage,
    Completion,
    CompletionRequest,
    Delta,
    Provider,
    StreamItem,
)

log = logging.getLogger(__name__)

# A rough but conventional ratio for English text, used only when a server reports no usage.
CHARS_PER_TOKEN: Final = 4
BACKOFF_BASE_S: Final = 0.5
BACKOFF_MAX_S: Final = 8.0
# Error bodies are read only to explain the failure; a runaway body must not eat memory.
ERROR_BODY_MAX_BYTES: Final = 64 * 1024
# After the end marker only the body's last bytes remain; reading them lets the connection be
# reused, but a server that keeps it open gets a moment, not the call's budget.
END_DRAIN_S: Final = 0.25

FINISH_STOP: Final = "stop"
FINISH_LENGTH: Final = "length"
FINISH_REFUSED: Final = "refused"


# --- JSON helpers for adapters -------------------------------------------------------------


def load_json_object(data: str) -> dict[str, Any]:
    """Parse one event's data as a JSON object, or raise `StreamFault`."""
    try:
        payload = json.loads(data)
    except ValueError:
        raise StreamFault(f"malformed JSON in the stream: {data[:80]!r}") from None
    if not isinstance(payload, dict):
        raise StreamFault(f"expected a JSON object in the stream, got {data[:80]!r}")
    return payload


def as_dict(value: object) -> dict[str, Any]:
    """`value` if it is a JSON object, else an empty one (servers omit fields freely)."""
    return value if isinstance(value, dict) else {}


def as_int(value: object) -> int | None:
    """`value` if it is a token count, else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: object) -> str:
    """`value` if it is a string, else the empty string."""
    return value if isinstance(value, str) else ""


def alternating_turns(messages: Sequence[ChatMessage]) -> list[tuple[str, str]]:
    """Messages as (role, text) turns that alternate and start with the user.

    Consecutive messages of one role are joined with a blank line; a conversation that
    starts with the model gets a short user turn first, since Gemini rejects anything else.
    """
    turns: list[tuple[str, str]] = []
    for message in messages:
        if turns and turns[-1][0] == message.role:
            turns[-1] = (message.role, f"{turns[-1][1]}\n\n{message.content}")
        else:
            turns.append((message.role, message.content))
    if not turns or turns[0][0] != "user":
        turns.insert(0, ("user", "Continue the conversation."))
    return turns


# --- The shared provider -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One HTTP request an adapter wants sent: URL, headers and JSON body."""

    url: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StreamUpdate:
    """What one server-sent event contributed to the reply. Unset fields contributed nothing.

    `finish_reason` uses this package's vocabulary where it can: "stop", "length", "refused".
    `is_end` marks the wire format's explicit end of stream (`[DONE]`, `message_stop`).
    """

    text: str = ""
    reasoning: str = ""
    input_tokens: int | None = None
    output_tokens: int | None = None
    finish_reason: str | None = None
    is_end: bool = False


NO_UPDATE: Final = StreamUpdate()


def estimate_tokens(text: str) -> int:
    """A rough token count for text whose usage the server did not report."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class _Clock:
    """The call's timing: its start, its total deadline, and the current attempt's start."""

    def __init__(self, config: ProviderConfig) -> None:
        self._loop = asyncio.get_running_loop()
        self._config = config
        self.started = self._loop.time()
        self.deadline = self.started + config.timeout_s
        self.attempt_started = self.started
        self.first_token_at: float | None = None

    def now(self) -> float:
        return self._loop.time()

    def begin_attempt(self) -> None:
        self.attempt_started = self.now()

    def mark_token(self) -> None:
        if self.first_token_at is None:
            self.first_token_at = self.now()

    def read_deadline(self) -> float:
        """When the current wait must end: the first token's deadline until it has arrived."""
        if self.first_token_at is None:
            return min(self.deadline, self.attempt_started + self._config.first_token_timeout_s)
        return self.deadline

    def deadline_exceeded(self) -> DeadlineExceeded:
        first_token_deadline = self.attempt_started + self._config.first_token_timeout_s
        if self.first_token_at is None and first_token_deadline < self.deadline:
            return DeadlineExceeded(self._config.first_token_timeout_s, is_first_token=True)
        return DeadlineExceeded(self._config.timeout_s, is_first_token=False)


class _Watchdog:
    """The call's read deadline, enforced by one timer instead of a timeout per read.

    A stream is read in thousands of small pieces; arming and cancelling a timer around each
    is most of what waiting for them costs. The timer is set once, for the deadline the clock
    names; when it fires and the deadline has moved later (the first token came), it is set
    again. A deadline that passes during a read cancels that read, which `read` turns into
    `TimeoutError`; one that passes between reads is raised by the next read.
    """

    def __init__(self, clock: _Clock) -> None:
        self._clock = clock
        self._loop = asyncio.get_running_loop()
        self._task: asyncio.Task[Any] | None = None
        self._is_reading = False
        self._is_expired = False
        self._has_cancelled = False
        self._timer: asyncio.TimerHandle | None = self._loop.call_at(
            clock.read_deadline(), self._check
        )

    def _check(self) -> None:
        self._timer = None
        deadline = self._clock.read_deadline()
        if self._loop.time() < deadline:
            self._timer = self._loop.call_at(deadline, self._check)
            return
        self._is_expired = True
        if self._is_reading and self._task is not None:
            self._has_cancelled = True
            self._task.cancel()

    async def read(self, chunks: AsyncIterator[bytes]) -> bytes | None:
        """The next piece of the body, or None at its end; `TimeoutError` past the deadline."""
        task = self._task = asyncio.current_task()
        if self._is_expired or task is None:
            raise TimeoutError
        cancelling = task.cancelling()
        self._is_reading = True
        try:
            return await anext(chunks, None)
        except asyncio.CancelledError:
            # Only this watchdog's own cancellation is a timeout; any other is passed on.
            if self._has_cancelled and task.uncancel() <= cancelling:
                raise TimeoutError from None
            raise
        finally:
            self._is_reading = False

    def close(self) -> None:
        """Stop the timer: the stream is over."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class _Turn:
    """One attempt's reply as it accumulates: visible text, reasoning, usage and ending."""

    def __init__(self, stops: Sequence[str]) -> None:
        self._think = ThinkTagSplitter()
        self._stop = StopScanner(stops)
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self.input_tokens: int | None = None
        self.output_tokens: int | None = None
        self.finish_reason: str | None = None
        self.has_end = False

    @property
    def is_done(self) -> bool:
        """True once nothing more should be read: an end marker, or a stop string was hit."""
        return self.has_end or self._stop.is_stopped

    @property
    def text(self) -> str:
        return "".join(self._text)

    @property
    def reasoning(self) -> str:
        return "".join(self._reasoning)

    def apply(self, update: StreamUpdate) -> str:
        """Take one event's update; return the visible text it released."""
        if update.input_tokens is not None:
            self.input_tokens = update.input_tokens
        if update.output_tokens is not None:
            self.output_tokens = update.output_tokens
        if update.finish_reason:
            self.finish_reason = update.finish_reason
        self.has_end = self.has_end or update.is_end
        if update.reasoning:
            self._reasoning.append(update.reasoning)
        if not update.text:
            return ""
        visible, reasoning = self._think.feed(update.text)
        if reasoning:
            self._reasoning.append(reasoning)
        return self._emit(visible)

    def flush(self) -> str:
        """The stream is over: release held-back text."""
        visible, reasoning = self._think.flush()
        self._reasoning.append(reasoning)
        released = self._stop.feed(visible) + self._stop.flush()
        self._text.append(released)
        return released

    def _emit(self, visible: str) -> str:
        released = self._stop.feed(visible)
        if released:
            self._text.append(released)
        return released

    @property
    def is_stopped_client_side(self) -> bool:
        return self._stop.is_stopped


class HttpProvider(ABC):
    """A model endpoint reached over HTTP with server-sent events.

    Holds what every adapter shares: one injected `httpx.AsyncClient`, a semaphore of
    `max_concurrency` held for the whole call, the deadlines (connect, first token, total),
    bounded retries with exponential backoff, jitter and `Retry-After` — only before the
    first token, since text already shown cannot be taken back — and error mapping.
    Subclasses implement `build_call` and `parse_event`.
    """

    # How many stop strings the server accepts; the rest are enforced client-side only.
    max_stop_sequences: ClassVar[int | None] = None

    def __init__(
        self,
        name: str,
        config: ProviderConfig,
        client: httpx.AsyncClient,
        api_key: SecretStr | None = None,
        *,
        backoff_base_s: float = BACKOFF_BASE_S,
        rng: random.Random | None = None,
    ) -> None:
        self.name = name
        self.config = config
        self._client = client
        self._api_key = api_key
        self._semaphore = asyncio.Semaphore(config.max_concurrency)
        self._backoff_base_s = backoff_base_s
        # Jitter only spreads retries out; it needs no cryptographic quality.
        self._rng = rng or random.Random()  # noqa: S311
        # httpx enforces the connect timeout; the read deadlines are our own asyncio
        # timeouts, so httpx's read/write/pool limits are only a backstop at the total.
        self._http_timeout = httpx.Timeout(config.timeout_s, connect=config.connect_timeout_s)
        self._host = urlsplit(config.base_url).netloc or config.base_url

    @property
    def base_url(self) -> str:
        """The configured base URL without a trailing slash."""
        return self.config.base_url.rstrip("/")

    def api_key_value(self) -> str | None:
        """The key to send, or None for servers that need none (local models)."""
        return self._api_key.get_secret_value() if self._api_key is not None else None

    def stop_sequences(self, request: CompletionRequest) -> list[str]:
        """The stop strings to send, trimmed to what this server accepts."""
        stops = [stop for stop in request.stop if stop]
        limit = self.max_stop_sequences
        return stops if limit is None else stops[:limit]

    @abstractmethod
    def build_call(self, request: CompletionRequest) -> HttpCall:
        """The streaming HTTP request for this call."""

    @abstractmethod
    def parse_event(self, event: SSEEvent) -> StreamUpdate:
        """Read one server-sent event; raise `HttpFailure` or `StreamFault` for bad ones."""

    async def stream(self, request: CompletionRequest) -> AsyncIterator[StreamItem]:
        """Run one call, yielding visible text `Delta`s and finally one `Completion`.

        The call's clock (its deadlines and `latency_s`) starts once a concurrency slot is
        free: time spent queueing behind this provider's other calls is not the model's.
        """
        ctx = CallContext(
            provider=self.name,
            model=request.model,
            host=self._host,
            key_env=self.config.api_key_env,
            api_key=self._api_key,
        )
        completion: Completion | None = None
        async with self._semaphore:
            clock = _Clock(self.config)
            attempt = 0
            while completion is None:
                try:
                    async with contextlib.aclosing(self._attempt(request, ctx, clock)) as items:
                        async for item in items:
                            if isinstance(item, Completion):
                                completion = item
                                break
                            yield item
                except ProviderError as error:
                    delay = self._retry_delay(error, attempt, clock)
                    if delay is None:
                        log.info("%s: model %s failed: %s", self.name, request.model, error.kind)
                        raise
                    attempt += 1
                    why = error.kind if error.status is None else f"{error.kind}, {error.status}"
                    log.warning(
                        "%s: model %s failed (%s); retry %d of %d in %.2f s",
                        self.name,
                        request.model,
                        why,
                        attempt,
                        self.config.max_retries,
                        delay,
                    )
                    await asyncio.sleep(delay)
        # Yielded outside the semaphore, so a consumer that stops at the completion
        # without closing the stream does not hold a slot.
        yield completion

    def _retry_delay(self, error: ProviderError, attempt: int, clock: _Clock) -> float | None:
        """Seconds to wait before retrying, or None when this failure must be raised."""
        if clock.first_token_at is not None or not is_retryable(error):
            return None
        if attempt >= self.config.max_retries:
            return None
        backoff = min(BACKOFF_MAX_S, self._backoff_base_s * 2.0**attempt)
        delay = backoff * (0.5 + self._rng.random())
        if error.retry_after_s is not None:
            delay = max(delay, error.retry_after_s)
        # Waiting past the call's budget only to time out helps nobody: give up now and let
        # the error (which carries retry_after_s) say when to try again.
        if clock.now() + delay >= clock.deadline:
            return None
        return delay

    async def _attempt(
        self, request: CompletionRequest, ctx: CallContext, clock: _Clock
    ) -> AsyncGenerator[StreamItem, None]:
        call = self.build_call(request)
        clock.begin_attempt()
        http_request = self._client.build_request(
            "POST", call.url, headers=call.headers, json=call.body, timeout=self._http_timeout
        )
        try:
            async with asyncio.timeout_at(clock.read_deadline()):
                response = await self._client.send(http_request, stream=True)
        except TimeoutError:
            raise map_error(ctx, clock.deadline_exceeded()) from None
        except httpx.HTTPError as exc:
            raise map_error(ctx, exc) from exc
        try:
            if response.status_code >= 300:
                raise await self._error_response(ctx, response, clock)
            reading = self._read_stream(request, ctx, clock, response)
            async with contextlib.aclosing(reading) as items:
                async for item in items:
                    yield item
        finally:
            await response.aclose()

    async def _error_response(
        self, ctx: CallContext, response: httpx.Response, clock: _Clock
    ) -> ProviderError:
        body = bytearray()
        chunks = response.aiter_bytes()
        # The body only explains the failure; if it is slow or broken, the status suffices.
        with contextlib.suppress(TimeoutError, httpx.HTTPError):
            async with asyncio.timeout_at(clock.read_deadline()):
                async for chunk in chunks:
                    body += chunk
                    if len(body) >= ERROR_BODY_MAX_BYTES:
                        break
        await _close(chunks)
        retry_after = parse_retry_after(response.headers, datetime.now(UTC))
        failure = HttpFailure(
            response.status_code, body.decode("utf-8", errors="replace"), retry_after
        )
        return map_error(ctx, failure)

    async def _read_stream(
        self,
        request: CompletionRequest,
        ctx: CallContext,
        clock: _Clock,
        response: httpx.Response,
    ) -> AsyncGenerator[StreamItem, None]:
        turn = _Turn(request.stop)
        parser = SSEParser()
        chunks = response.aiter_bytes()
        watchdog = _Watchdog(clock)
        has_events = False
        try:
            is_eof = False
            while not (turn.is_done or is_eof):
                chunk = await _next_chunk(chunks, ctx, clock, watchdog)
                is_eof = chunk is None
                # Every event the piece completed is read before the consumer hears of them,
                # as one delta.
                released: list[str] = []
                for event in parser.close() if chunk is None else parser.feed(chunk):
                    has_events = True
                    try:
                        update = self.parse_event(event)
                    except (HttpFailure, StreamFault) as fault:
                        raise map_error(ctx, fault) from fault
                    if update.text or update.reasoning:
                        clock.mark_token()
                    if text := turn.apply(update):
                        released.append(text)
                    if turn.is_done:
                        break
                if released:
                    yield Delta(released[0] if len(released) == 1 else "".join(released))
            if turn.has_end and not turn.is_stopped_client_side:
                watchdog.close()
                await _drain(chunks)
        finally:
            watchdog.close()
            await _close(chunks)
        content_type = response.headers.get("content-type", "")
        if not has_events and "text/event-stream" not in content_type:
            # Typically a base_url that reaches a web page or a proxy instead of the API.
            detail = (
                f"expected an event stream but got {content_type or 'no content type'}; "
                f"check providers.{self.name}.base_url"
            )
            raise map_error(ctx, StreamFault(detail))
        if rest := turn.flush():
            yield Delta(rest)
        yield self._completion(request, ctx, clock, turn)

    def _completion(
        self, request: CompletionRequest, ctx: CallContext, clock: _Clock, turn: _Turn
    ) -> Completion:
        finish_reason = turn.finish_reason
        if turn.is_stopped_client_side:
            finish_reason = FINISH_STOP
        elif finish_reason is None:
            if not turn.has_end:
                raise map_error(ctx, StreamFault("the stream ended before the reply did"))
            finish_reason = FINISH_STOP
        text, reasoning = turn.text, turn.reasoning
        if finish_reason == FINISH_REFUSED and not text.strip():
            raise map_error(ctx, StreamFault("safety filter", is_refusal=True))
        input_tokens, output_tokens = turn.input_tokens, turn.output_tokens
        is_estimated = input_tokens is None or output_tokens is None
        if input_tokens is None:
            prompt = request.system + "".join(m.content for m in request.messages)
            input_tokens = estimate_tokens(prompt)
        if output_tokens is None:
            output_tokens = estimate_tokens(text + reasoning)
        first_token_at = clock.first_token_at
        completion = Completion(
            text=text,
            finish_reason=finish_reason,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
            tokens_estimated=is_estimated,
            latency_s=clock.now() - clock.started,
            first_token_s=None if first_token_at is None else first_token_at - clock.started,
            reasoning=reasoning,
        )
        log.debug(
            "%s: model %s answered in %.2f s (%d in, %d out%s)",
            self.name,
            request.model,
            completion.latency_s,
            input_tokens,
            output_tokens,
            ", estimated" if is_estimated else "",
        )
        return completion


async def _next_chunk(
    chunks: AsyncIterator[bytes], ctx: CallContext, clock: _Clock, watchdog: _Watchdog
) -> bytes | None:
    """The next piece of the body, or None at its end; waits only until the read deadline."""
    try:
        return await watchdog.read(chunks)
    except TimeoutError:
        raise map_error(ctx, clock.deadline_exceeded()) from None
    except httpx.HTTPError as exc:
        raise map_error(ctx, exc, is_reading_body=True) from exc


async def _close(chunks: AsyncIterator[bytes]) -> None:
    """Close a body iterator now, not whenever the garbage collector gets to it."""
    if isinstance(chunks, AsyncGenerator):
        await chunks.aclose()


async def _drain(chunks: AsyncIterator[bytes]) -> None:
    """Read what follows the end marker, so the connection can go back to the pool."""
    with contextlib.suppress(TimeoutError, httpx.HTTPError):
        async with asyncio.timeout(END_DRAIN_S):
            async for _ in chunks:
                pass


async def complete(provider: Provider, request: CompletionRequest) -> Completion:
    """Run one call to the end and return its `Completion`, discarding the deltas."""
    items = provider.stream(request)
    try:
        async for item in items:
            if isinstance(item, Completion):
                return item
    finally:
        if isinstance(items, AsyncGenerator):
            await items.aclose()
    raise BadResponseError(f"Model {request.model} ended its reply without completing it.")
