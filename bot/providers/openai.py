"""OpenAI-compatible chat completions, streamed.

One adapter serves OpenAI, DeepSeek, OpenRouter, Groq, Together, Mistral, vLLM, llama.cpp,
LM Studio and Ollama's `/v1`: `base_url` includes the version prefix (`https://api.openai.com/v1`)
and the call is `POST {base_url}/chat/completions`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from bot.providers.base import (
    FINISH_LENGTH,
    FINISH_REFUSED,
    FINISH_STOP,
    HttpCall,
    HttpProvider,
    StreamUpdate,
    as_dict,
    as_int,
    as_str,
    load_json_object,
)
from bot.providers.failures import HttpFailure
from bot.providers.sse import SSEEvent
from bot.providers.types import CompletionRequest

_FINISH_REASONS = {
    "stop": FINISH_STOP,
    "length": FINISH_LENGTH,
    "content_filter": FINISH_REFUSED,
}
# Mid-stream error objects rarely carry an HTTP status; a server that fails after sending
# 200 is treated like one that answered 5xx.
_STREAM_ERROR_STATUS = 502


class OpenAIProvider(HttpProvider):
    """A server speaking the OpenAI chat completions wire format."""

    # OpenAI rejects more than four; the rest are enforced client-side by the base class.
    max_stop_sequences: ClassVar[int | None] = 4

    def build_call(self, request: CompletionRequest) -> HttpCall:
        """`POST {base_url}/chat/completions` with the system prompt as the first message."""
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": m.role, "content": m.content} for m in request.messages]
        body: dict[str, Any] = {
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if request.temperature is not None:
            body["temperature"] = request.temperature
        if stops := self.stop_sequences(request):
            body["stop"] = stops
        headers = {"accept": "text/event-stream"}
        # Local servers (llama.cpp, Ollama, vLLM) run without a key; send none then.
        if (key := self.api_key_value()) is not None:
            headers["authorization"] = f"Bearer {key}"
        return HttpCall(url=f"{self.base_url}/chat/completions", headers=headers, body=body)

    def parse_event(self, event: SSEEvent) -> StreamUpdate:
        """One `chat.completion.chunk`, the final usage chunk, or `[DONE]`."""
        if event.data.strip() == "[DONE]":
            return StreamUpdate(is_end=True)
        chunk = load_json_object(event.data)
        if "error" in chunk:
            code = as_int(as_dict(chunk["error"]).get("code"))
            status = code if code is not None and 400 <= code <= 599 else _STREAM_ERROR_STATUS
            raise HttpFailure(status, event.data)
        usage = as_dict(chunk.get("usage"))
        choices = chunk.get("choices")
        choice = as_dict(choices[0]) if isinstance(choices, list) and choices else {}
        delta = as_dict(choice.get("delta"))
        # DeepSeek sends `reasoning_content`; OpenRouter and vLLM send `reasoning`.
        reasoning = as_str(delta.get("reasoning_content")) or as_str(delta.get("reasoning"))
        finish = as_str(choice.get("finish_reason"))
        return StreamUpdate(
            text=as_str(delta.get("content")),
            reasoning=reasoning,
            input_tokens=as_int(usage.get("prompt_tokens")),
            output_tokens=as_int(usage.get("completion_tokens")),
            finish_reason=_FINISH_REASONS.get(finish, finish) or None,
        )
