"""The provider contract, free of HTTP: what goes into a model call and what comes out.

The engine depends on these types only; the adapters in this package implement `Provider`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Literal, Protocol

Role = Literal["user", "assistant"]


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One turn of the conversation as a provider sees it."""

    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class CompletionRequest:
    """Everything one model call needs besides the endpoint and key."""

    model: str
    system: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 700
    temperature: float | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Delta:
    """A piece of visible reply text, as it streamed in."""

    text: str


@dataclass(frozen=True, slots=True)
class Completion:
    """The end of a call: the whole visible text and its statistics.

    `tokens_estimated` is true when the server sent no usage and the counts were estimated
    from the text. `reasoning` holds any thinking text, kept out of `text`.
    """

    text: str
    finish_reason: str
    input_tokens: int
    output_tokens: int
    tokens_estimated: bool
    latency_s: float
    first_token_s: float | None
    reasoning: str = field(default="", repr=False)


StreamItem = Delta | Completion


class Provider(Protocol):
    """A model endpoint. `stream` yields `Delta`s as text arrives, then exactly one `Completion`.

    Failures raise `bot.errors.ProviderError` subclasses; cancelling the iteration cancels the
    request at once.
    """

    name: str

    def stream(self, request: CompletionRequest) -> AsyncIterator[StreamItem]:
        """Run one call, yielding text deltas and finally the completion."""
        ...


@dataclass(frozen=True, slots=True)
class ModerationResult:
    """What a moderation model said of one text: flagged or not, and in which categories."""

    is_flagged: bool
    categories: tuple[str, ...] = ()


class ModerationModel(Protocol):
    """A model that classifies text as acceptable or not (an OpenAI-style moderations endpoint,
    or a guard model behind chat completions).

    Failures raise `bot.errors.ProviderError` subclasses, like a `Provider`'s.
    """

    name: str
    """The model as verdicts name their source, e.g. "omni-moderation-latest"."""

    async def classify(self, text: str) -> ModerationResult:
        """Classify one text."""
        ...
