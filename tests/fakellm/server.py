"""`FakeLLM`: one local aiohttp server speaking the OpenAI, Anthropic and Gemini wire formats.

Routes: `POST /v1/chat/completions` (OpenAI), `POST /v1/messages` (Anthropic),
`POST /v1beta/models/{model}:streamGenerateContent?alt=sse` / `:generateContent` (Gemini), and
`POST /v1/moderations` (OpenAI's moderations endpoint, scripted with `script_moderation`).
Each model name is scripted with a `ModelScript`; every request is recorded. The server runs
on the caller's event loop (`async with FakeLLM() as fake`) or on its own thread
(`with FakeLLM() as fake`, or `start_in_thread()`), for tests that run the CLI as a subprocess.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import random
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Mapping
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from tests.fakellm.scripts import (
    Fault,
    FaultKind,
    ModelScript,
    ModerationScript,
    RecordedRequest,
    WireFormat,
)
from tests.fakellm.wire import (
    AnthropicWire,
    Finish,
    Frame,
    GeminiWire,
    OpenAIWire,
    ReplyPlan,
    Wire,
    tokenize,
)

log = logging.getLogger(__name__)

THREAD_START_TIMEOUT_S = 10.0
# Streaming handlers are cancelled when their client leaves; this bounds shutdown otherwise.
SHUTDOWN_TIMEOUT_S = 1.0
_DEFAULT_MESSAGES = {
    400: "Invalid request.",
    401: "Invalid authentication.",
    403: "Permission denied.",
    404: "The model `{model}` does not exist or you do not have access to it.",
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request.",
    502: "Bad gateway.",
    503: "The engine is currently overloaded, please try again later.",
    529: "Overloaded",
}
_MALFORMED = 'data: {"choices": [{"delta": {"content": "oops"}'


@dataclasses.dataclass
class _ModelState:
    script: ModelScript
    replies_used: int = 0
    faults_used: int = 0
    rng: random.Random = dataclasses.field(default_factory=random.Random)

    def __post_init__(self) -> None:
        self.rng.seed(self.script.fault_seed)


class _Writer:
    """Writes a streamed body, optionally in fixed-size pieces that straddle event boundaries."""

    def __init__(self, response: web.StreamResponse, script: ModelScript) -> None:
        self._response = response
        self._piece_bytes = script.chunk_bytes
        self._pause_s = script.chunk_pause_s
        self._buffer = bytearray()

    async def write(self, data: bytes) -> None:
        if not self._piece_bytes:
            await self._response.write(data)
            return
        self._buffer += data
        while len(self._buffer) >= self._piece_bytes:
            piece = bytes(self._buffer[: self._piece_bytes])
            del self._buffer[: self._piece_bytes]
            await self._response.write(piece)
            await asyncio.sleep(self._pause_s)

    async def flush(self) -> None:
        if self._buffer:
            await self._response.write(bytes(self._buffer))
            self._buffer.clear()


class FakeLLM:
    """A scriptable local model server for tests and offline demos.

    Script a model with `script("name", reply=..., ...)`; read what it was sent from
    `requests` / `requests_for("name")`; point a provider at `base_url(kind)`. Models without
    a script use `default` or, when that is None, answer 404 like an unknown model.
    `keys` makes a wire format demand that API key. With `ssl_context` it serves HTTPS.
    """

    def __init__(
        self,
        *,
        default: ModelScript | None = None,
        keys: Mapping[WireFormat, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._default = default
        self._ssl_context = ssl_context
        self._keys: dict[WireFormat, str] = dict(keys or {})
        self._host = host
        self._port = port
        self._wires: dict[WireFormat, Wire] = {
            wire.name: wire for wire in (OpenAIWire(), AnthropicWire(), GeminiWire())
        }
        # Guards everything below: tests may script and read from another thread.
        self._lock = threading.Lock()
        self._models: dict[str, _ModelState] = {}
        self._moderation = ModerationScript()
        self._requests: list[RecordedRequest] = []
        self._in_flight: Counter[str] = Counter()
        self._max_in_flight: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None

    # --- scripting and inspection ---------------------------------------------------------

    def script(self, model: str, script: ModelScript | None = None, **changes: Any) -> ModelScript:
        """Set what `model` does: a `ModelScript`, and/or its fields as keywords.

        `fake.script("gpt-x", reply="Hi", tokens_per_s=50)`. Replaces any earlier script and
        restarts its reply list and faults.
        """
        base = script or ModelScript()
        chosen = dataclasses.replace(base, **changes) if changes else base
        with self._lock:
            self._models[model] = _ModelState(chosen)
        return chosen

    def script_moderation(
        self, script: ModerationScript | None = None, **changes: Any
    ) -> ModerationScript:
        """Set what `/v1/moderations` answers: `fake.script_moderation(flags={"word": "hate"})`."""
        base = script or ModerationScript()
        chosen = dataclasses.replace(base, **changes) if changes else base
        with self._lock:
            self._moderation = chosen
        return chosen

    def require_key(self, wire: WireFormat, key: str | None) -> None:
        """Make `wire` requests carry this key (None: accept any or none)."""
        with self._lock:
            if key is None:
                self._keys.pop(wire, None)
            else:
                self._keys[wire] = key

    @property
    def url(self) -> str:
        """The server's root URL, e.g. `http://127.0.0.1:54321`."""
        if not self._port:
            raise RuntimeError("FakeLLM is not started")
        scheme = "http" if self._ssl_context is None else "https"
        return f"{scheme}://{self._host}:{self._port}"

    def base_url(self, wire: WireFormat) -> str:
        """What `ProviderConfig.base_url` should be for a provider of this kind."""
        return f"{self.url}/v1" if wire == "openai" else self.url

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def requests_for(self, model: str) -> list[RecordedRequest]:
        """The requests for one model, oldest first."""
        return [r for r in self.requests if r.model == model]

    def in_flight(self, model: str | None = None) -> int:
        """Requests being answered now, for one model or all."""
        with self._lock:
            return self._in_flight[model] if model else sum(self._in_flight.values())

    def max_in_flight(self, model: str) -> int:
        """The most requests for `model` ever answered at once."""
        with self._lock:
            return self._max_in_flight[model]

    async def wait_idle(self, timeout_s: float = 2.0) -> bool:
        """Wait until no request is being answered; False if that took over `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        while self.in_flight():
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    def reset(self) -> None:
        """Forget scripts, requests and counters (keys stay)."""
        with self._lock:
            self._models.clear()
            self._moderation = ModerationScript()
            self._requests.clear()
            self._in_flight.clear()
            self._max_in_flight.clear()

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> str:
        """Serve on the running event loop; return the root URL."""
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._openai)
        app.router.add_post("/v1/moderations", self._moderations)
        app.router.add_post("/v1/messages", self._anthropic)
        app.router.add_post("/v1beta/models/{target}", self._gemini)
        runner = web.AppRunner(
            app,
            handler_cancellation=True,
            access_log=None,
            shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        self._port = sock.getsockname()[1]
        await web.SockSite(runner, sock, ssl_context=self._ssl_context).start()
        self._runner = runner
        log.debug("fake LLM listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        """Stop serving and drop open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def start_in_thread(self) -> str:
        """Serve from a background thread with its own event loop; return the root URL."""
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # handed to the starting thread, which raises it
                failure.append(exc)
                started.set()
                loop.close()
                return
            started.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self.stop())
                loop.close()

        self._thread = threading.Thread(target=serve, name="fakellm", daemon=True)
        self._thread.start()
        if not started.wait(THREAD_START_TIMEOUT_S):
            raise RuntimeError("FakeLLM did not start in time")
        if failure:
            raise failure[0]
        return self.url

    def stop_thread(self) -> None:
        """Stop a server started with `start_in_thread` and wait for its thread."""
        if self._thread is None or self._thread_loop is None:
            return
        self._thread_loop.call_soon_threadsafe(self._thread_loop.stop)
        self._thread.join(THREAD_START_TIMEOUT_S)
        self._thread = None
        self._thread_loop = None

    def __enter__(self) -> Self:
        self.start_in_thread()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop_thread()

    # --- serving ---------------------------------------------------------------------------

    async def _openai(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(self._wires["openai"], request)

    async def _moderations(self, request: web.Request) -> web.StreamResponse:
        """OpenAI's moderations: `{"model", "input"}` in, `results[0]` with `flagged`,
        `categories` and `category_scores` out."""
        wire = self._wires["openai"]
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        body_dict = body if isinstance(body, dict) else {}
        record = RecordedRequest(
            wire="openai",
            model=str(body_dict.get("model", "")),
            path=request.path_qs,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
            script = self._moderation
            expected = self._keys.get("openai")
        try:
            if script.delay_s:
                await asyncio.sleep(script.delay_s)
            if expected is not None and wire.presented_key(request) != expected:
                status, error = wire.key_error(wire.presented_key(request))
                return self._json(record, status, error)
            if script.fault is not None:
                message = script.fault.message or _DEFAULT_MESSAGES.get(script.fault.status, "")
                return self._error(wire, record, script.fault.status, message)
            if script.body is not None:
                return self._json(record, 200, script.body)
            text = body_dict.get("input")
            if not isinstance(text, str):
                return self._error(wire, record, 400, "input must be a string.")
            folded = text.casefold()
            hits = {c for word, c in script.flags.items() if word.casefold() in folded}
            categories = {c: c in hits for c in sorted({*script.flags.values(), "harassment"})}
            result = {
                "flagged": bool(hits),
                "categories": categories,
                "category_scores": {c: 0.97 if hit else 0.01 for c, hit in categories.items()},
            }
            return self._json(
                record, 200, {"id": "modr-fake", "model": record.model, "results": [result]}
            )
        finally:
            record.finished_at = time.monotonic()

    async def _anthropic(self, request: web.Request) -> web.StreamResponse:
        return await self._handle(self._wires["anthropic"], request)

    async def _gemini(self, request: web.Request) -> web.StreamResponse:
        wire = self._wires["gemini"]
        if request.match_info["target"].partition(":")[2] not in GeminiWire.ACTIONS:
            raise web.HTTPNotFound
        return await self._handle(wire, request)

    async def _handle(self, wire: Wire, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        body_dict = body if isinstance(body, dict) else {}
        model = wire.model(request, body_dict)
        record = RecordedRequest(
            wire=wire.name,
            model=model,
            path=request.path_qs,
            headers={name.lower(): value for name, value in request.headers.items()},
            body=body,
            received_at=time.monotonic(),
        )
        with self._lock:
            self._requests.append(record)
            self._in_flight[model] += 1
            self._max_in_flight[model] = max(self._max_in_flight[model], self._in_flight[model])
        try:
            return await self._respond(wire, request, record, body_dict)
        except (asyncio.CancelledError, ConnectionResetError):
            # The client went away mid-reply (aiohttp cancels the handler, or a write fails).
            record.disconnected = True
            raise
        finally:
            record.finished_at = time.monotonic()
            with self._lock:
                self._in_flight[model] -= 1

    async def _respond(
        self, wire: Wire, request: web.Request, record: RecordedRequest, body: dict[str, Any]
    ) -> web.StreamResponse:
        if not isinstance(record.body, dict):
            return self._error(wire, record, 400, "The request body is not a JSON object.")
        presented = wire.presented_key(request)
        with self._lock:
            expected = self._keys.get(wire.name)
        if expected is not None and presented != expected:
            status, error = wire.key_error(presented)
            return self._json(record, status, error)
        if problem := wire.problem(request, body):
            return self._error(wire, record, 400, problem)
        picked = self._pick(record.model)
        if picked is None:
            return self._error(wire, record, 404, "")
        script, reply, fault = picked
        if fault is not None and fault.kind is FaultKind.HTTP_ERROR:
            message = fault.message or _DEFAULT_MESSAGES.get(fault.status, "Error.")
            if fault.echo_key:
                message += f" (the key sent was {presented})"
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return self._error(wire, record, fault.status, message, headers)
        if script.prompt_blocked:
            return await self._blocked(wire, request, record, script, body)
        text = reply(record) if callable(reply) else reply
        plan = self._plan(wire, script, body, record.model, text)
        if not wire.is_stream(request, body):
            return self._json(record, 200, wire.json_reply(plan, script))
        return await self._stream(wire, request, record, script, plan, body, fault)

    async def _blocked(
        self,
        wire: Wire,
        request: web.Request,
        record: RecordedRequest,
        script: ModelScript,
        body: dict[str, Any],
    ) -> web.StreamResponse:
        reason = script.prompt_blocked or "SAFETY"
        event = wire.blocked_event(script, reason, len(json.dumps(body)) // 4 + 1)
        if event is None or not wire.is_stream(request, body):
            message = f"The prompt was blocked by the content_filter ({reason})."
            return self._error(wire, record, 400, message)
        response = web.StreamResponse(status=200, headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        record.status = 200
        await response.write(event)
        await response.write_eof()
        return response

    def _pick(self, model: str) -> tuple[ModelScript, Any, Fault | None] | None:
        """The script, this request's reply source and its fault, consuming list entries."""
        with self._lock:
            state = self._models.get(model)
            if state is None:
                if self._default is None:
                    return None
                state = self._models[model] = _ModelState(self._default)
            script = state.script
            fault = None
            if state.faults_used < len(script.faults):
                fault = script.faults[state.faults_used]
                state.faults_used += 1
            elif script.fault is not None and (
                script.fault_rate >= 1.0 or state.rng.random() < script.fault_rate
            ):
                fault = script.fault
            reply: Any = script.reply
            if not isinstance(reply, str) and not callable(reply):
                replies = list(reply)
                reply = replies[min(state.replies_used, len(replies) - 1)] if replies else ""
                state.replies_used += 1
            return script, reply, fault

    def _plan(
        self, wire: Wire, script: ModelScript, body: dict[str, Any], model: str, text: str
    ) -> ReplyPlan:
        finish: Finish = "stop"
        stop_sequence = None
        hits = [(text.find(stop), stop) for stop in wire.stops(body) if stop and stop in text]
        if hits:
            index, stop_sequence = min(hits)
            text = text[:index]
            finish = "stop_sequence"
        reasoning = script.reasoning
        if reasoning and script.reasoning_style == "think_tags":
            text = f"<think>{reasoning}</think>\n\n{text}"
            reasoning = ""
        text_tokens = tokenize(text)
        reasoning_tokens = tokenize(reasoning)
        limit = wire.max_tokens(body)
        if limit is not None and len(text_tokens) > limit:
            text_tokens = text_tokens[:limit]
            finish = "length"
            stop_sequence = None
        counted = (len(json.dumps(body)) // 4 + 1, len(text_tokens) + len(reasoning_tokens))
        input_tokens, output_tokens = script.usage or counted
        return ReplyPlan(
            model=model,
            reasoning_tokens=reasoning_tokens,
            text_tokens=text_tokens,
            finish=finish,
            stop_sequence=stop_sequence,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

    def _json(
        self,
        record: RecordedRequest,
        status: int,
        payload: dict[str, Any],
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        record.status = status
        return web.json_response(payload, status=status, headers=headers)

    def _error(
        self,
        wire: Wire,
        record: RecordedRequest,
        status: int,
        message: str,
        headers: Mapping[str, str] | None = None,
    ) -> web.Response:
        text = message or _DEFAULT_MESSAGES.get(status, "Error.").format(model=record.model)
        return self._json(record, status, wire.error_body(status, text), headers)

    async def _stream(
        self,
        wire: Wire,
        request: web.Request,
        record: RecordedRequest,
        script: ModelScript,
        plan: ReplyPlan,
        body: dict[str, Any],
        fault: Fault | None,
    ) -> web.StreamResponse:
        response = web.StreamResponse(
            status=200, headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        record.status = 200
        writer = _Writer(response, script)
        eol = wire.eol(script)
        tokens_sent = 0
        is_first = True
        is_stalled = False
        for frame in wire.frames(plan, script, body):
            if frame.is_token or frame.is_tail:
                if fault is not None and tokens_sent >= fault.after_tokens:
                    if await self._strike(wire, request, script, writer, fault, frame):
                        return response
                    fault = None
                if tokens_sent == script.stall_after_tokens and not is_stalled:
                    is_stalled = True
                    await writer.flush()
                    await asyncio.sleep(script.stall_s)
                await self._pace(writer, script, frame, is_first=is_first)
                is_first = False
                tokens_sent += frame.is_token
            if script.comments:
                await writer.write(f": keep-alive{eol}{eol}".encode())
            await writer.write(frame.data)
        await writer.flush()
        await response.write_eof()
        return response

    async def _pace(
        self, writer: _Writer, script: ModelScript, frame: Frame, *, is_first: bool
    ) -> None:
        if is_first:
            delay = script.first_token_delay_s
        elif frame.is_token and script.tokens_per_s:
            delay = 1 / script.tokens_per_s
        else:
            delay = 0.0
        if delay > 0:
            await writer.flush()
            await asyncio.sleep(delay)

    async def _strike(
        self,
        wire: Wire,
        request: web.Request,
        script: ModelScript,
        writer: _Writer,
        fault: Fault,
        frame: Frame,
    ) -> bool:
        """Inject an in-stream fault; True when the reply ends with it."""
        eol = wire.eol(script)
        if fault.kind is FaultKind.MALFORMED_JSON:
            await writer.write(f"{_MALFORMED}{eol}{eol}".encode())
            return False
        if fault.kind is FaultKind.ERROR_EVENT:
            await writer.write(wire.error_event(script, fault.status, fault.message))
            await writer.flush()
            return True
        await writer.write(frame.data[: len(frame.data) // 2])
        await writer.flush()
        # Drop the TCP connection without finishing the chunked body: a real cut.
        transport = request.transport
        if transport is not None:
            transport.abort()
        return True
