"""The three wire formats as the fake speaks them: request checks, errors, streamed events.

Each `Wire` knows where its format keeps the model name, the key, the stop strings and the
token limit, what its error bodies look like, and how it streams a reply as server-sent events
(and answers without streaming). The shapes follow the providers' published API references.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from aiohttp import web

from tests.fakellm.scripts import ModelScript, WireFormat

Finish = Literal["stop", "length", "stop_sequence"]
# Roughly four characters per token, like real tokenisers on English text.
_TOKEN = re.compile(r"\s*\S{1,4}|\s+$")


def tokenize(text: str) -> list[str]:
    """Split text into token-sized pieces that join back to exactly the text."""
    return _TOKEN.findall(text)


@dataclass(frozen=True)
class Frame:
    """Bytes to write. Token frames are paced; tail frames come after the last token."""

    data: bytes
    is_token: bool = False
    is_tail: bool = False


@dataclass(frozen=True)
class ReplyPlan:
    """The reply decided for one request, before it is put on the wire."""

    model: str
    reasoning_tokens: list[str]
    text_tokens: list[str]
    finish: Finish
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int

    @property
    def text(self) -> str:
        return "".join(self.text_tokens)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_tokens)


def sse(payload: str | dict[str, Any], *, event: str | None, eol: str, multiline: bool) -> bytes:
    """One server-sent event; `multiline` spreads pretty-printed JSON over `data:` lines."""
    text = (
        payload
        if isinstance(payload, str)
        else json.dumps(payload, ensure_ascii=False, indent=2 if multiline else None)
    )
    lines = [f"event: {event}"] if event else []
    lines += [f"data: {line}" for line in text.split("\n")]
    return (eol.join(lines) + eol + eol).encode()


class Wire(ABC):
    """One provider's wire format."""

    name: ClassVar[WireFormat]
    default_eol: ClassVar[str] = "\n"
    finish_values: ClassVar[dict[Finish, str]]

    def eol(self, script: ModelScript) -> str:
        return script.line_ending or self.default_eol

    def event(self, script: ModelScript, payload: str | dict[str, Any], name: str | None) -> bytes:
        return sse(payload, event=name, eol=self.eol(script), multiline=script.multiline_data)

    def finish_value(self, plan: ReplyPlan, script: ModelScript) -> str:
        return script.finish_reason or self.finish_values[plan.finish]

    @abstractmethod
    def model(self, request: web.Request, body: dict[str, Any]) -> str:
        """The model name the request is for."""

    @abstractmethod
    def presented_key(self, request: web.Request) -> str | None:
        """The key the client sent, if any."""

    @abstractmethod
    def key_error(self, presented: str | None) -> tuple[int, dict[str, Any]]:
        """The status and body this format answers a missing or wrong key with."""

    @abstractmethod
    def problem(self, request: web.Request, body: dict[str, Any]) -> str | None:
        """Why the real server would reject this request with 400, or None."""

    @abstractmethod
    def stops(self, body: dict[str, Any]) -> list[str]:
        """The stop strings the request asks for."""

    @abstractmethod
    def max_tokens(self, body: dict[str, Any]) -> int | None:
        """The reply token limit the request asks for."""

    @abstractmethod
    def is_stream(self, request: web.Request, body: dict[str, Any]) -> bool:
        """True when the client asked for a server-sent-events stream."""

    @abstractmethod
    def error_body(self, status: int, message: str) -> dict[str, Any]:
        """This format's error body for `status`."""

    @abstractmethod
    def frames(self, plan: ReplyPlan, script: ModelScript, body: dict[str, Any]) -> list[Frame]:
        """The whole streamed reply."""

    @abstractmethod
    def error_event(self, script: ModelScript, status: int, message: str) -> bytes:
        """This format's in-stream error."""

    @abstractmethod
    def json_reply(self, plan: ReplyPlan, script: ModelScript) -> dict[str, Any]:
        """The reply as one JSON body, for non-streaming requests."""

    def blocked_event(self, script: ModelScript, reason: str, input_tokens: int) -> bytes | None:
        """The streamed answer to a blocked prompt, for formats that stream one (else None)."""
        return None


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class OpenAIWire(Wire):
    """`POST /v1/chat/completions`, `Authorization: Bearer`, stream ends `data: [DONE]`."""

    name = "openai"
    finish_values: ClassVar[dict[Finish, str]] = {
        "stop": "stop",
        "length": "length",
        "stop_sequence": "stop",
    }
    MAX_STOPS = 4
    _TYPES: ClassVar[dict[int, tuple[str, str | None]]] = {
        400: ("invalid_request_error", None),
        401: ("invalid_request_error", "invalid_api_key"),
        403: ("invalid_request_error", "unsupported_country_region_territory"),
        404: ("invalid_request_error", "model_not_found"),
        429: ("requests", "rate_limit_exceeded"),
    }

    def model(self, request: web.Request, body: dict[str, Any]) -> str:
        return str(body.get("model", ""))

    def presented_key(self, request: web.Request) -> str | None:
        value = request.headers.get("Authorization")
        return value.removeprefix("Bearer ") if value else None

    def key_error(self, presented: str | None) -> tuple[int, dict[str, Any]]:
        if presented is None:
            message = (
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
            )
        else:
            message = f"Incorrect API key provided: {presented}. Check the key and try again."
        return 401, self.error_body(401, message)

    def problem(self, request: web.Request, body: dict[str, Any]) -> str | None:
        messages = body.get("messages")
        if not isinstance(body.get("model"), str):
            return "you must provide a model parameter"
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in (
                "system",
                "developer",
                "user",
                "assistant",
            ):
                return f"invalid message: {message!r}"
        if len(_string_list(body.get("stop"))) > self.MAX_STOPS:
            return f"'stop' may contain at most {self.MAX_STOPS} sequences"
        return None

    def stops(self, body: dict[str, Any]) -> list[str]:
        return _string_list(body.get("stop"))

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        return _int_or_none(body.get("max_completion_tokens") or body.get("max_tokens"))

    def is_stream(self, request: web.Request, body: dict[str, Any]) -> bool:
        return body.get("stream") is True

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind, code = self._TYPES.get(status, ("server_error", None))
        return {"error": {"message": message, "type": kind, "param": None, "code": code}}

    def frames(self, plan: ReplyPlan, script: ModelScript, body: dict[str, Any]) -> list[Frame]:
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": created,
                "model": plan.model,
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }

        frames = [Frame(self.event(script, chunk({"role": "assistant", "content": ""}), None))]
        frames += [
            Frame(self.event(script, chunk({"reasoning_content": token}), None), is_token=True)
            for token in plan.reasoning_tokens
        ]
        frames += [
            Frame(self.event(script, chunk({"content": token}), None), is_token=True)
            for token in plan.text_tokens
        ]
        if script.send_finish:
            last = chunk({}, self.finish_value(plan, script))
            frames.append(Frame(self.event(script, last, None), is_tail=True))
        options = body.get("stream_options")
        if script.send_usage and isinstance(options, dict) and options.get("include_usage"):
            usage = chunk({})
            usage["choices"] = []
            usage["usage"] = {
                "prompt_tokens": plan.input_tokens,
                "completion_tokens": plan.output_tokens,
                "total_tokens": plan.input_tokens + plan.output_tokens,
            }
            frames.append(Frame(self.event(script, usage, None), is_tail=True))
        if script.send_end:
            frames.append(Frame(self.event(script, "[DONE]", None), is_tail=True))
        return frames

    def error_event(self, script: ModelScript, status: int, message: str) -> bytes:
        body = self.error_body(status, message)
        body["error"]["code"] = status
        return self.event(script, body, None)

    def json_reply(self, plan: ReplyPlan, script: ModelScript) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": plan.text}
        if plan.reasoning:
            message["reasoning_content"] = plan.reasoning
        reply: dict[str, Any] = {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": plan.model,
            "choices": [
                {"index": 0, "message": message, "finish_reason": self.finish_value(plan, script)}
            ],
        }
        if script.send_usage:
            reply["usage"] = {
                "prompt_tokens": plan.input_tokens,
                "completion_tokens": plan.output_tokens,
                "total_tokens": plan.input_tokens + plan.output_tokens,
            }
        return reply


class AnthropicWire(Wire):
    """`POST /v1/messages`, `x-api-key` and `anthropic-version`, named SSE events."""

    name = "anthropic"
    finish_values: ClassVar[dict[Finish, str]] = {
        "stop": "end_turn",
        "length": "max_tokens",
        "stop_sequence": "stop_sequence",
    }
    _TYPES: ClassVar[dict[int, str]] = {
        400: "invalid_request_error",
        401: "authentication_error",
        403: "permission_error",
        404: "not_found_error",
        413: "request_too_large",
        429: "rate_limit_error",
        529: "overloaded_error",
    }

    def model(self, request: web.Request, body: dict[str, Any]) -> str:
        return str(body.get("model", ""))

    def presented_key(self, request: web.Request) -> str | None:
        return request.headers.get("x-api-key")

    def key_error(self, presented: str | None) -> tuple[int, dict[str, Any]]:
        message = "x-api-key header is required" if presented is None else "invalid x-api-key"
        return 401, self.error_body(401, message)

    def problem(self, request: web.Request, body: dict[str, Any]) -> str | None:
        if not request.headers.get("anthropic-version"):
            return "anthropic-version: header is required"
        if not isinstance(body.get("model"), str):
            return "model: Field required"
        if _int_or_none(body.get("max_tokens")) is None:
            return "max_tokens: Field required"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "messages: at least one message is required"
        for index, message in enumerate(messages):
            role = message.get("role") if isinstance(message, dict) else None
            if role not in ("user", "assistant"):
                return f"messages.{index}.role: Input should be 'user' or 'assistant'"
        return None

    def stops(self, body: dict[str, Any]) -> list[str]:
        return _string_list(body.get("stop_sequences"))

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        return _int_or_none(body.get("max_tokens"))

    def is_stream(self, request: web.Request, body: dict[str, Any]) -> bool:
        return body.get("stream") is True

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        kind = self._TYPES.get(status, "api_error")
        return {"type": "error", "error": {"type": kind, "message": message}}

    def frames(self, plan: ReplyPlan, script: ModelScript, body: dict[str, Any]) -> list[Frame]:
        def event(payload: dict[str, Any], **flags: bool) -> Frame:
            return Frame(self.event(script, payload, str(payload["type"])), **flags)

        message: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
        }
        if script.send_usage:
            message["usage"] = {"input_tokens": plan.input_tokens, "output_tokens": 1}
        frames = [event({"type": "message_start", "message": message}), event({"type": "ping"})]
        index = 0
        if plan.reasoning_tokens:
            frames.append(
                event(
                    {
                        "type": "content_block_start",
                        "index": index,
                        "content_block": {"type": "thinking", "thinking": ""},
                    }
                )
            )
            frames += [
                event(
                    {
                        "type": "content_block_delta",
                        "index": index,
                        "delta": {"type": "thinking_delta", "thinking": token},
                    },
                    is_token=True,
                )
                for token in plan.reasoning_tokens
            ]
            signature = {"type": "signature_delta", "signature": "ZmFrZQ=="}
            frames.append(
                event({"type": "content_block_delta", "index": index, "delta": signature})
            )
            frames.append(event({"type": "content_block_stop", "index": index}))
            index += 1
        frames.append(
            event(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
        )
        frames += [
            event(
                {
                    "type": "content_block_delta",
                    "index": index,
                    "delta": {"type": "text_delta", "text": token},
                },
                is_token=True,
            )
            for token in plan.text_tokens
        ]
        frames.append(event({"type": "content_block_stop", "index": index}, is_tail=True))
        if script.send_finish:
            delta: dict[str, Any] = {
                "type": "message_delta",
                "delta": {
                    "stop_reason": self.finish_value(plan, script),
                    "stop_sequence": plan.stop_sequence,
                },
            }
            if script.send_usage:
                delta["usage"] = {"output_tokens": plan.output_tokens}
            frames.append(event(delta, is_tail=True))
        if script.send_end:
            frames.append(event({"type": "message_stop"}, is_tail=True))
        return frames

    def error_event(self, script: ModelScript, status: int, message: str) -> bytes:
        return self.event(script, self.error_body(status, message), "error")

    def json_reply(self, plan: ReplyPlan, script: ModelScript) -> dict[str, Any]:
        content: list[dict[str, Any]] = []
        if plan.reasoning:
            content.append({"type": "thinking", "thinking": plan.reasoning, "signature": "x"})
        content.append({"type": "text", "text": plan.text})
        reply: dict[str, Any] = {
            "id": "msg_fake",
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": content,
            "stop_reason": self.finish_value(plan, script),
            "stop_sequence": plan.stop_sequence,
        }
        if script.send_usage:
            reply["usage"] = {
                "input_tokens": plan.input_tokens,
                "output_tokens": plan.output_tokens,
            }
        return reply


class GeminiWire(Wire):
    """`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`, `x-goog-api-key`."""

    name = "gemini"
    # Gemini's SSE stream separates events with CRLF.
    default_eol = "\r\n"
    finish_values: ClassVar[dict[Finish, str]] = {
        "stop": "STOP",
        "length": "MAX_TOKENS",
        "stop_sequence": "STOP",
    }
    MAX_STOPS = 5
    STREAM_ACTION = "streamGenerateContent"
    ACTIONS = ("generateContent", STREAM_ACTION)
    _STATUSES: ClassVar[dict[int, str]] = {
        400: "INVALID_ARGUMENT",
        401: "UNAUTHENTICATED",
        403: "PERMISSION_DENIED",
        404: "NOT_FOUND",
        429: "RESOURCE_EXHAUSTED",
        500: "INTERNAL",
        503: "UNAVAILABLE",
        504: "DEADLINE_EXCEEDED",
    }

    def model(self, request: web.Request, body: dict[str, Any]) -> str:
        return request.match_info["target"].partition(":")[0]

    def action(self, request: web.Request) -> str:
        return request.match_info["target"].partition(":")[2]

    def presented_key(self, request: web.Request) -> str | None:
        return request.headers.get("x-goog-api-key") or request.query.get("key")

    def key_error(self, presented: str | None) -> tuple[int, dict[str, Any]]:
        if presented is None:
            return 403, self.error_body(
                403,
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        body = self.error_body(400, "API key not valid. Please pass a valid API key.")
        body["error"]["details"] = [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
        ]
        return 400, body

    def problem(self, request: web.Request, body: dict[str, Any]) -> str | None:
        if self.action(request) == self.STREAM_ACTION and request.query.get("alt") != "sse":
            return "the fake streams only with alt=sse"
        contents = body.get("contents")
        if not isinstance(contents, list) or not contents:
            return "* GenerateContentRequest.contents: contents is not specified"
        roles = [c.get("role") if isinstance(c, dict) else None for c in contents]
        if any(role not in ("user", "model") for role in roles):
            return f"Please use a valid role: user, model (got {roles})."
        if roles[0] != "user" or any(a == b for a, b in itertools.pairwise(roles)):
            return "Please ensure that multiturn requests alternate between user and model."
        config = body.get("generationConfig")
        stops = _string_list(config.get("stopSequences")) if isinstance(config, dict) else []
        if len(stops) > self.MAX_STOPS:
            return f"stopSequences may contain at most {self.MAX_STOPS} sequences"
        return None

    def stops(self, body: dict[str, Any]) -> list[str]:
        config = body.get("generationConfig")
        return _string_list(config.get("stopSequences")) if isinstance(config, dict) else []

    def max_tokens(self, body: dict[str, Any]) -> int | None:
        config = body.get("generationConfig")
        return _int_or_none(config.get("maxOutputTokens")) if isinstance(config, dict) else None

    def is_stream(self, request: web.Request, body: dict[str, Any]) -> bool:
        return self.action(request) == self.STREAM_ACTION

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        state = self._STATUSES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
        return {"error": {"code": status, "message": message, "status": state}}

    def _usage(self, plan: ReplyPlan, *, is_final: bool) -> dict[str, Any]:
        usage = {"promptTokenCount": plan.input_tokens, "totalTokenCount": plan.input_tokens}
        if is_final:
            # Gemini counts thinking apart from the reply; the total includes both.
            thoughts = min(len(plan.reasoning_tokens), plan.output_tokens)
            usage["candidatesTokenCount"] = plan.output_tokens - thoughts
            usage["totalTokenCount"] = plan.input_tokens + plan.output_tokens
            if thoughts:
                usage["thoughtsTokenCount"] = thoughts
        return usage

    def _chunk(
        self, plan: ReplyPlan, script: ModelScript, parts: list[dict[str, Any]], finish: str | None
    ) -> dict[str, Any]:
        candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
        if finish:
            candidate["finishReason"] = finish
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": plan.model}
        if script.send_usage:
            chunk["usageMetadata"] = self._usage(plan, is_final=finish is not None)
        return chunk

    def frames(self, plan: ReplyPlan, script: ModelScript, body: dict[str, Any]) -> list[Frame]:
        parts = [[{"text": token, "thought": True}] for token in plan.reasoning_tokens]
        parts += [[{"text": token}] for token in plan.text_tokens]
        frames = [
            Frame(self.event(script, self._chunk(plan, script, p, None), None), is_token=True)
            for p in parts
        ]
        if script.send_finish:
            last = self._chunk(plan, script, [{"text": ""}], self.finish_value(plan, script))
            frames.append(Frame(self.event(script, last, None), is_tail=True))
        return frames

    def error_event(self, script: ModelScript, status: int, message: str) -> bytes:
        return self.event(script, self.error_body(status, message), None)

    def blocked_event(self, script: ModelScript, reason: str, input_tokens: int) -> bytes | None:
        feedback = {
            "promptFeedback": {"blockReason": reason},
            "usageMetadata": {"promptTokenCount": input_tokens, "totalTokenCount": input_tokens},
        }
        return self.event(script, feedback, None)

    def json_reply(self, plan: ReplyPlan, script: ModelScript) -> dict[str, Any]:
        parts: list[dict[str, Any]] = []
        if plan.reasoning:
            parts.append({"text": plan.reasoning, "thought": True})
        parts.append({"text": plan.text})
        return self._chunk(plan, script, parts, self.finish_value(plan, script))
