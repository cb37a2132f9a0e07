"""Google Gemini, streamed: `POST {base_url}/v1beta/models/{model}:streamGenerateContent`."""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from bot.providers.base import (
    FINISH_LENGTH,
    FINISH_REFUSED,
    FINISH_STOP,
    HttpCall,
    HttpProvider,
    StreamUpdate,
    alternating_turns,
    as_dict,
    as_int,
    as_str,
    load_json_object,
)
from bot.providers.failures import HttpFailure, StreamFault
from bot.providers.sse import SSEEvent
from bot.providers.types import CompletionRequest

_FINISH_REASONS = {
    "STOP": FINISH_STOP,
    "MAX_TOKENS": FINISH_LENGTH,
    "SAFETY": FINISH_REFUSED,
    "PROHIBITED_CONTENT": FINISH_REFUSED,
    "BLOCKLIST": FINISH_REFUSED,
    "SPII": FINISH_REFUSED,
    "RECITATION": FINISH_REFUSED,
}
_ROLES = {"user": "user", "assistant": "model"}


class GeminiProvider(HttpProvider):
    """Gemini models over the Generative Language API's server-sent-events stream."""

    # Gemini rejects more than five; the rest are enforced client-side by the base class.
    max_stop_sequences: ClassVar[int | None] = 5

    def build_call(self, request: CompletionRequest) -> HttpCall:
        """The `streamGenerateContent?alt=sse` call; turns alternate and start with the user."""
        model = quote(request.model.removeprefix("models/"), safe="-._~")
        config: dict[str, Any] = {"maxOutputTokens": request.max_tokens}
        if request.temperature is not None:
            config["temperature"] = request.temperature
        if stops := self.stop_sequences(request):
            config["stopSequences"] = stops
        body: dict[str, Any] = {
            "contents": [
                {"role": _ROLES[role], "parts": [{"text": text}]}
                for role, text in alternating_turns(request.messages)
            ],
            "generationConfig": config,
        }
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        # The key goes in a header, never the query string, so it cannot leak into URLs in logs.
        headers = {"accept": "text/event-stream"}
        if (key := self.api_key_value()) is not None:
            headers["x-goog-api-key"] = key
        url = f"{self.base_url}/v1beta/models/{model}:streamGenerateContent?alt=sse"
        return HttpCall(url=url, headers=headers, body=body)

    def parse_event(self, event: SSEEvent) -> StreamUpdate:
        """One `GenerateContentResponse`; Gemini's stream has no end marker beyond this."""
        chunk = load_json_object(event.data)
        if "error" in chunk:
            code = as_int(as_dict(chunk["error"]).get("code"))
            raise HttpFailure(code if code is not None and code >= 400 else 500, event.data)
        if block := as_str(as_dict(chunk.get("promptFeedback")).get("blockReason")):
            raise StreamFault(f"the prompt was blocked: {block}", is_refusal=True)
        usage = as_dict(chunk.get("usageMetadata"))
        candidates = chunk.get("candidates")
        candidate = as_dict(candidates[0]) if isinstance(candidates, list) and candidates else {}
        text: list[str] = []
        reasoning: list[str] = []
        parts = as_dict(candidate.get("content")).get("parts")
        for part in parts if isinstance(parts, list) else []:
            part_dict = as_dict(part)
            (reasoning if part_dict.get("thought") is True else text).append(
                as_str(part_dict.get("text"))
            )
        finish = as_str(candidate.get("finishReason"))
        return StreamUpdate(
            text="".join(text),
            reasoning="".join(reasoning),
            input_tokens=as_int(usage.get("promptTokenCount")),
            output_tokens=_output_tokens(usage),
            finish_reason=_FINISH_REASONS.get(finish, finish.lower()) or None,
        )


def _output_tokens(usage: dict[str, Any]) -> int | None:
    """Reply tokens including thinking, which Gemini counts (and bills) separately."""
    candidates = as_int(usage.get("candidatesTokenCount"))
    if candidates is None:
        return None
    return candidates + (as_int(usage.get("thoughtsTokenCount")) or 0)
