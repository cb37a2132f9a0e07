"""Anthropic's Messages API, streamed: `POST {base_url}/v1/messages`."""

from __future__ import annotations

from typing import Any

from bot.providers.base import (
    FINISH_LENGTH,
    FINISH_REFUSED,
    FINISH_STOP,
    NO_UPDATE,
    HttpCall,
    HttpProvider,
    StreamUpdate,
    alternating_turns,
    as_dict,
    as_int,
    as_str,
    load_json_object,
)
from bot.providers.failures import HttpFailure
from bot.providers.sse import SSEEvent
from bot.providers.types import CompletionRequest

DEFAULT_API_VERSION = "2023-06-01"
# Anthropic accepts temperatures up to 1.0, where the config (shared with others) allows 2.0.
MAX_TEMPERATURE = 1.0

_FINISH_REASONS = {
    "end_turn": FINISH_STOP,
    "stop_sequence": FINISH_STOP,
    "max_tokens": FINISH_LENGTH,
    "refusal": FINISH_REFUSED,
}
# The `error` event carries a type but no status; these are the statuses the same errors
# have when returned before the stream starts.
_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


class AnthropicProvider(HttpProvider):
    """Claude models over the Anthropic Messages API."""

    def build_call(self, request: CompletionRequest) -> HttpCall:
        """`POST {base_url}/v1/messages` with `system` top-level and `stream: true`."""
        body: dict[str, Any] = {
            "model": request.model,
            "max_tokens": request.max_tokens,
            "messages": [
                {"role": role, "content": text}
                for role, text in alternating_turns(request.messages)
            ],
            "stream": True,
        }
        if request.system:
            body["system"] = request.system
        if request.temperature is not None:
            body["temperature"] = min(request.temperature, MAX_TEMPERATURE)
        if stops := self.stop_sequences(request):
            body["stop_sequences"] = stops
        headers = {
            "accept": "text/event-stream",
            "anthropic-version": self.config.api_version or DEFAULT_API_VERSION,
        }
        if (key := self.api_key_value()) is not None:
            headers["x-api-key"] = key
        return HttpCall(url=f"{self.base_url}/v1/messages", headers=headers, body=body)

    def parse_event(self, event: SSEEvent) -> StreamUpdate:
        """One Messages stream event; unknown event types are ignored, as Anthropic asks."""
        payload = load_json_object(event.data)
        kind = as_str(payload.get("type")) or event.event
        match kind:
            case "message_start":
                usage = as_dict(as_dict(payload.get("message")).get("usage"))
                return StreamUpdate(input_tokens=as_int(usage.get("input_tokens")))
            case "content_block_start":
                block = as_dict(payload.get("content_block"))
                return _block_text(as_str(block.get("type")), block)
            case "content_block_delta":
                delta = as_dict(payload.get("delta"))
                return _block_text(as_str(delta.get("type")).removesuffix("_delta"), delta)
            case "message_delta":
                delta = as_dict(payload.get("delta"))
                usage = as_dict(payload.get("usage"))
                reason = as_str(delta.get("stop_reason"))
                return StreamUpdate(
                    input_tokens=as_int(usage.get("input_tokens")),
                    output_tokens=as_int(usage.get("output_tokens")),
                    finish_reason=_FINISH_REASONS.get(reason, reason) or None,
                )
            case "message_stop":
                return StreamUpdate(is_end=True)
            case "error":
                error_type = as_str(as_dict(payload.get("error")).get("type"))
                raise HttpFailure(_ERROR_STATUS.get(error_type, 500), event.data)
            case _:
                return NO_UPDATE


def _block_text(block_type: str, block: dict[str, Any]) -> StreamUpdate:
    """Text of a `text` or `thinking` block (start or delta); signatures carry none."""
    if block_type == "text":
        return StreamUpdate(text=as_str(block.get("text")))
    if block_type == "thinking":
        return StreamUpdate(reasoning=as_str(block.get("thinking")))
    return NO_UPDATE
