"""The operator's moderation model: an OpenAI-compatible moderations endpoint, or a guard model.

`OpenAIModeration` posts `{"model", "input"}` to `{base_url}/moderations` and reads
`results[0].flagged` and the categories set true (OpenAI's Moderation object; vLLM and other
OpenAI-compatible servers answer the same way). `GuardModeration` asks a guard model such as
Llama Guard through chat completions, which answers "safe", or "unsafe" and a line of category
codes ("S1,S10"), named by Llama Guard 3's taxonomy unless the operator's `categories` say
otherwise. Both reuse the providers' failure mapping, so a failed check reads like a failed
model call, and neither ever logs the key.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from pydantic import SecretStr

from bot.config import CouncilConfig, ModerationConfig, ProviderConfig
from bot.errors import ProviderError
from bot.providers.base import BACKOFF_BASE_S, BACKOFF_MAX_S, ERROR_BODY_MAX_BYTES, complete
from bot.providers.failures import (
    CallContext,
    DeadlineExceeded,
    HttpFailure,
    StreamFault,
    is_retryable,
    map_error,
    parse_retry_after,
)
from bot.providers.openai import OpenAIProvider
from bot.providers.types import ChatMessage, CompletionRequest, ModerationModel, ModerationResult

log = logging.getLogger(__name__)

# Llama Guard 3's hazard taxonomy (MLCommons), by the codes the model answers with.
LLAMA_GUARD_3_CATEGORIES: Final = {
    "S1": "violent crimes",
    "S2": "non-violent crimes",
    "S3": "sex-related crimes",
    "S4": "child sexual exploitation",
    "S5": "defamation",
    "S6": "specialized advice",
    "S7": "privacy",
    "S8": "intellectual property",
    "S9": "indiscriminate weapons",
    "S10": "hate",
    "S11": "suicide & self-harm",
    "S12": "sexual content",
    "S13": "elections",
    "S14": "code interpreter abuse",
}
# "unsafe" and one line of codes: a few tokens; the room is for models that add a newline.
GUARD_MAX_TOKENS: Final = 24


class OpenAIModeration:
    """An OpenAI-compatible `/v1/moderations` endpoint."""

    def __init__(
        self,
        provider_name: str,
        provider: ProviderConfig,
        config: ModerationConfig,
        client: httpx.AsyncClient,
        api_key: SecretStr | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.name = config.model
        self._url = f"{provider.base_url.rstrip('/')}/moderations"
        self._provider = provider
        self._timeout_s = config.timeout_s
        self._client = client
        self._api_key = api_key
        # Jitter only spreads retries out.
        self._rng = rng or random.Random()  # noqa: S311
        host = httpx.URL(provider.base_url).host
        self._ctx = CallContext(
            provider=provider_name,
            model=config.model,
            host=host or provider.base_url,
            key_env=provider.api_key_env,
            api_key=api_key,
        )

    async def classify(self, text: str) -> ModerationResult:
        """Ask the endpoint about `text`, retrying passing failures within the timeout.

        Raises:
            ProviderError: the endpoint failed, or answered what a moderations endpoint doesn't.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout_s
        attempt = 0
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    return await self._ask(text)
            except TimeoutError:
                raise map_error(
                    self._ctx, DeadlineExceeded(self._timeout_s, is_first_token=False)
                ) from None
            except ProviderError as error:
                delay = min(BACKOFF_MAX_S, BACKOFF_BASE_S * 2.0**attempt) * (
                    0.5 + self._rng.random()
                )
                delay = max(delay, error.retry_after_s or 0.0)
                if (
                    not is_retryable(error)
                    or attempt >= self._provider.max_retries
                    or loop.time() + delay >= deadline
                ):
                    raise
                attempt += 1
                log.warning("moderation model %s failed (%s); retrying", self.name, error.kind)
                await asyncio.sleep(delay)

    async def _ask(self, text: str) -> ModerationResult:
        headers = {"accept": "application/json"}
        if self._api_key is not None and (key := self._api_key.get_secret_value()):
            headers["authorization"] = f"Bearer {key}"
        try:
            response = await self._client.post(
                self._url,
                json={"model": self.name, "input": text},
                headers=headers,
                timeout=httpx.Timeout(self._timeout_s, connect=self._provider.connect_timeout_s),
            )
        except httpx.HTTPError as exc:
            raise map_error(self._ctx, exc) from exc
        if response.status_code >= 300:
            body = response.content[:ERROR_BODY_MAX_BYTES].decode("utf-8", errors="replace")
            retry_after = parse_retry_after(response.headers, datetime.now(UTC))
            raise map_error(self._ctx, HttpFailure(response.status_code, body, retry_after))
        return self._read(response.text)

    def _read(self, body: str) -> ModerationResult:
        """`results[0]`: its `flagged`, and the categories it sets, highest score first."""
        try:
            payload: Any = json.loads(body)
            result = payload["results"][0]
            flagged = result["flagged"]
            categories = result.get("categories") or {}
            scores = result.get("category_scores") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            fault = StreamFault(f"not a moderations result: {body[:80]!r}")
            raise map_error(self._ctx, fault) from None
        if not isinstance(flagged, bool) or not isinstance(categories, dict):
            raise map_error(self._ctx, StreamFault(f"not a moderations result: {body[:80]!r}"))
        named = [name for name, is_set in categories.items() if is_set is True]
        named.sort(key=lambda name: -_score(scores, name))
        return ModerationResult(flagged, tuple(named))


def _score(scores: object, name: str) -> float:
    value = scores.get(name) if isinstance(scores, dict) else None
    return float(value) if isinstance(value, int | float) else 0.0


class GuardModeration:
    """A guard model (e.g. Llama Guard) asked through chat completions."""

    def __init__(
        self,
        provider_name: str,
        provider: ProviderConfig,
        config: ModerationConfig,
        client: httpx.AsyncClient,
        api_key: SecretStr | None = None,
    ) -> None:
        self.name = config.model
        # The check's own deadline bounds the whole call, the first token included.
        bounded = provider.model_copy(
            update={
                "timeout_s": config.timeout_s,
                "first_token_timeout_s": min(provider.first_token_timeout_s, config.timeout_s),
            }
        )
        self._chat = OpenAIProvider(provider_name, bounded, client, api_key)
        self._categories = {**LLAMA_GUARD_3_CATEGORIES, **config.categories}
        self._ctx = CallContext(
            provider=provider_name,
            model=config.model,
            host=httpx.URL(provider.base_url).host or provider.base_url,
            key_env=provider.api_key_env,
            api_key=api_key,
        )

    async def classify(self, text: str) -> ModerationResult:
        """Ask the guard about `text`.

        Raises:
            ProviderError: the call failed, or the answer was neither "safe" nor "unsafe".
        """
        # The text goes as the user's turn: every guard template classifies that turn.
        request = CompletionRequest(
            model=self.name,
            system="",
            messages=(ChatMessage("user", text),),
            max_tokens=GUARD_MAX_TOKENS,
            temperature=0.0,
        )
        completion = await complete(self._chat, request)
        found = parse_guard(completion.text, self._categories)
        if found is None:
            fault = StreamFault(f"a guard answers safe or unsafe, not {completion.text[:80]!r}")
            raise map_error(self._ctx, fault)
        return found


def parse_guard(answer: str, categories: Mapping[str, str]) -> ModerationResult | None:
    """A guard model's answer: "safe", or "unsafe" then codes ("S1,S10"); None if neither.

    Codes are named by `categories` (case-insensitively); an unknown code stays as it is.
    """
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    if not lines:
        return None
    verdict = lines[0].casefold()
    if verdict == "safe":
        return ModerationResult(is_flagged=False)
    if verdict != "unsafe":
        return None
    by_code = {code.casefold(): name for code, name in categories.items()}
    codes = [c for line in lines[1:] for c in line.replace(",", " ").split()]
    return ModerationResult(True, tuple(by_code.get(c.casefold(), c) for c in codes))


def build_moderation_model(
    config: CouncilConfig, environ: Mapping[str, str], client: httpx.AsyncClient
) -> ModerationModel | None:
    """The configured moderation model on the process's HTTP client, or None without one."""
    moderation = config.moderation
    if moderation is None:
        return None
    provider = config.providers[moderation.provider]
    api_key = config.api_key(moderation.provider, environ)
    if moderation.kind == "openai":
        return OpenAIModeration(moderation.provider, provider, moderation, client, api_key)
    return GuardModeration(moderation.provider, provider, moderation, client, api_key)
