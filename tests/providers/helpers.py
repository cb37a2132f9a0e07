"""Small helpers shared by the provider tests."""

from __future__ import annotations

from bot.providers.base import HttpProvider
from bot.providers.types import ChatMessage, Completion, CompletionRequest, Delta

KINDS = ("openai", "anthropic", "gemini")
KEY_ENV = "FAKE_LLM_API_KEY"


def ask(
    model: str,
    text: str = "Should cities ban cars from their centres?",
    *,
    system: str = "You are a thoughtful council member. Be brief.",
    stop: tuple[str, ...] = (),
    max_tokens: int = 200,
    temperature: float | None = 0.5,
    history: tuple[ChatMessage, ...] = (),
) -> CompletionRequest:
    """A request with one user question after any `history`."""
    return CompletionRequest(
        model=model,
        system=system,
        messages=(*history, ChatMessage("user", text)),
        max_tokens=max_tokens,
        temperature=temperature,
        stop=stop,
    )


async def collect(
    provider: HttpProvider, request: CompletionRequest, deltas: list[str] | None = None
) -> Completion:
    """Drain a stream, appending delta texts to `deltas`; return the completion."""
    seen = [] if deltas is None else deltas
    completion = None
    async for item in provider.stream(request):
        if isinstance(item, Delta):
            assert completion is None, "a delta came after the completion"
            seen.append(item.text)
        else:
            assert completion is None, "more than one completion"
            completion = item
    assert completion is not None, "the stream ended without a completion"
    return completion
