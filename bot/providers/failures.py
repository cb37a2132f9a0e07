"""Everything that can go wrong in a model call, and the one function that names it.

Adapters and the shared provider raise the small internal failures below (`HttpFailure`,
`StreamFault`, `DeadlineExceeded`) or let httpx's exceptions through; `map_error` is the only
place that turns any of them into the `bot.errors` family a server member sees.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import re
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import httpx
from pydantic import SecretStr

from bot import graphemes
from bot.errors import (
    BadResponseError,
    CutOffError,
    ModelNotFoundError,
    OverloadedError,
    ProviderAuthError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnreachableError,
    RateLimitedError,
    RefusedError,
    UntrustedServerError,
)

PROVIDER_TEXT_MAX_CHARS: Final = 300
REDACTED: Final = "[redacted]"
# Providers echo keys partly masked ("sk-abc...wxyz"); any word sharing this many characters
# with the key is treated as an echo of it.
KEY_FRAGMENT_CHARS: Final = 8

_REFUSAL_MARKERS: Final = (
    "content_filter",
    "content filter",
    "content_policy",
    "content policy",
    "safety",
    "moderation",
    "prohibited_content",
)
_BAD_KEY_MARKERS: Final = ("api_key_invalid", "api key not valid", "invalid api key")
_WORDS = re.compile(r"(\s+)")
OLLAMA_PORT: Final = 11434
# How far down an exception's causes a certificate failure is looked for.
CAUSE_DEPTH: Final = 8
# How Ollama ends its 404 for a model it has not downloaded: 'model "x" not found, try pulling
# it first'.
OLLAMA_MISSING_MODEL: Final = "try pulling it first"


class HttpFailure(Exception):
    """The server reported an error: an HTTP status, or an error object inside the stream."""

    def __init__(self, status: int, body: str, retry_after_s: float | None = None) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.body = body
        self.retry_after_s = retry_after_s


class StreamFault(Exception):
    """The stream carried something that is not an acceptable reply (unreadable, or refused)."""

    def __init__(self, detail: str, *, is_refusal: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.is_refusal = is_refusal


class DeadlineExceeded(Exception):
    """One of the call's own deadlines passed: the first token's or the whole call's."""

    def __init__(self, limit_s: float, *, is_first_token: bool) -> None:
        super().__init__(f"deadline of {limit_s:g} s passed")
        self.limit_s = limit_s
        self.is_first_token = is_first_token


Failure = HttpFailure | StreamFault | DeadlineExceeded | httpx.HTTPError


@dataclass(frozen=True, slots=True)
class CallContext:
    """What an error message needs to know about the call it describes."""

    provider: str
    model: str
    host: str
    key_env: str | None
    api_key: SecretStr | None


def scrub_secret(text: str, secret: SecretStr | None) -> str:
    """`text` with the key's value, and any word that echoes part of it, redacted."""
    if secret is None or not (value := secret.get_secret_value()):
        return text
    text = text.replace(value, REDACTED)
    if len(value) < KEY_FRAGMENT_CHARS:
        return text
    fragments = {
        value[i : i + KEY_FRAGMENT_CHARS] for i in range(len(value) - KEY_FRAGMENT_CHARS + 1)
    }
    words = _WORDS.split(text)
    return "".join(
        REDACTED if any(fragment in word for fragment in fragments) else word for word in words
    )


def parse_retry_after(headers: Mapping[str, str], now: datetime) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date) or `retry-after-ms`."""
    if millis := headers.get("retry-after-ms"):
        with contextlib.suppress(ValueError):
            return max(0.0, float(millis) / 1000)
    value = headers.get("retry-after")
    if not value:
        return None
    with contextlib.suppress(ValueError):
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _error_object(body: str) -> dict[str, Any]:
    """The `error` object all three wire formats wrap their failures in, if the body has one."""
    try:
        payload = json.loads(body)
    except ValueError:
        return {}
    if isinstance(payload, list) and payload:
        # Gemini answers some errors as a one-element array.
        payload = payload[0]
    if isinstance(payload, dict) and isinstance(error := payload.get("error"), dict):
        return error
    return {}


def _body_retry_after(error: Mapping[str, Any]) -> float | None:
    """Gemini's `RetryInfo` detail ("retryDelay": "12s"), which it sends instead of a header."""
    details = error.get("details")
    for detail in details if isinstance(details, list) else []:
        delay = detail.get("retryDelay") if isinstance(detail, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            with contextlib.suppress(ValueError):
                return max(0.0, float(delay[:-1]))
    return None


def _provider_text(body: str, error: Mapping[str, Any], secret: SecretStr | None) -> str:
    """The provider's own explanation, one line, shortened and with the key scrubbed."""
    message = error.get("message")
    text = message if isinstance(message, str) and message else body
    text = " ".join(scrub_secret(text, secret).split())
    if len(text) > PROVIDER_TEXT_MAX_CHARS:
        text = graphemes.ellipsize(text, PROVIDER_TEXT_MAX_CHARS)
    return text


def _key_advice(ctx: CallContext) -> str:
    if not ctx.key_env:
        return (
            f"provider {ctx.provider!r} has no api_key_env in council.toml; "
            "add one naming the variable that holds its key"
        )
    if ctx.api_key is None:
        return f"{ctx.key_env} is not set"
    return f"check {ctx.key_env}"


def map_error(
    ctx: CallContext, failure: Failure, *, is_reading_body: bool = False
) -> ProviderError:
    """Translate any failure of a model call into the `bot.errors` family.

    This is the one place that decides what a status, an error body, an exception or a passed
    deadline means. Messages name the model, say what a server member or operator can do, and
    never contain the key: provider text is scrubbed of it first.
    """
    model = ctx.model
    if isinstance(failure, HttpFailure):
        return _map_status(ctx, failure)
    if isinstance(failure, DeadlineExceeded):
        what = "start answering" if failure.is_first_token else "finish answering"
        return ProviderTimeoutError(
            f"Model {model} did not {what} within {failure.limit_s:g} s; try again later.",
            model=model,
        )
    if isinstance(failure, StreamFault):
        detail = scrub_secret(failure.detail, ctx.api_key)
        if failure.is_refusal:
            return RefusedError(f"Model {model} refused to answer ({detail}).", model=model)
        return BadResponseError(
            f"Model {model} sent a reply that could not be read ({detail}).", model=model
        )
    return _map_transport(ctx, failure, is_reading_body=is_reading_body)


def _map_transport(
    ctx: CallContext, failure: httpx.HTTPError, *, is_reading_body: bool
) -> ProviderError:
    model = ctx.model
    check_url = f"check that the server is up and that providers.{ctx.provider}.base_url is right"
    if isinstance(failure, httpx.ConnectTimeout):
        return ProviderUnreachableError(
            f"Could not connect to {ctx.host} for model {model} in time; {check_url}.",
            model=model,
        )
    if isinstance(failure, httpx.TimeoutException):
        return ProviderTimeoutError(
            f"Model {model} stopped responding ({ctx.host} timed out); try again later.",
            model=model,
        )
    if isinstance(failure, httpx.RemoteProtocolError) and is_reading_body:
        return CutOffError(
            f"The reply from model {model} was cut off before it ended; try again.", model=model
        )
    if isinstance(failure, httpx.DecodingError):
        return BadResponseError(
            f"Model {model} sent a reply that could not be decoded; try again.", model=model
        )
    if isinstance(failure, httpx.ConnectError):
        if (reason := _certificate_problem(failure)) is not None:
            return UntrustedServerError(
                f"Could not verify the TLS certificate of {ctx.host} for model {model} "
                f"({reason}); check providers.{ctx.provider}.base_url, or trust the server's "
                "certificate authority through SSL_CERT_FILE.",
                model=model,
            )
        return ProviderUnreachableError(
            f"Could not connect to {ctx.host} for model {model}; {check_url}.", model=model
        )
    return ProviderUnreachableError(
        f"The connection to {ctx.host} for model {model} failed "
        f"({type(failure).__name__}); try again.",
        model=model,
    )


def _certificate_problem(failure: BaseException) -> str | None:
    """Why the server's certificate was refused, when that is what failed the connection."""
    cause: BaseException | None = failure
    # httpx's error wraps httpcore's, which wraps the ssl module's.
    for _ in range(CAUSE_DEPTH):
        if cause is None:
            return None
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (cause.verify_message or cause.reason or "verification failed").rstrip(".")
        cause = cause.__cause__ or cause.__context__
    return None


def _map_status(ctx: CallContext, failure: HttpFailure) -> ProviderError:
    model, status = ctx.model, failure.status
    error = _error_object(failure.body)
    said = _provider_text(failure.body, error, ctx.api_key)
    quoted = f" ({ctx.provider} said: {said})" if said else ""
    markers = " ".join(
        str(error.get(field, "")) for field in ("type", "code", "status", "message", "details")
    ).casefold()
    if status in (401, 403) or (status == 400 and any(m in markers for m in _BAD_KEY_MARKERS)):
        return ProviderAuthError(
            f"The API key for model {model} was rejected — {_key_advice(ctx)}.{quoted}",
            model=model,
            status=status,
        )
    if status == 404:
        if _is_ollama(ctx, said):
            return ModelNotFoundError(
                f"{ctx.provider} has no model {model!r} — run `ollama pull {model}` where Ollama "
                f"runs, or check the model name in council.toml.{quoted}",
                model=model,
                status=status,
            )
        return ModelNotFoundError(
            f"{ctx.provider} does not know the model {model!r} — check the model name and "
            f"providers.{ctx.provider}.base_url in council.toml.{quoted}",
            model=model,
            status=status,
        )
    if status == 429:
        retry_after = failure.retry_after_s
        if retry_after is None:
            retry_after = _body_retry_after(error)
        when = f"in {math.ceil(retry_after)} s" if retry_after is not None else "in a minute"
        return RateLimitedError(
            f"Model {model} is rate-limited by {ctx.provider}; try again {when}.{quoted}",
            model=model,
            status=status,
            retry_after_s=retry_after,
        )
    if status >= 500:
        return OverloadedError(
            f"{ctx.provider} is overloaded or failing (HTTP {status}) for model {model}; "
            f"try again in a moment.{quoted}",
            model=model,
            status=status,
            retry_after_s=failure.retry_after_s,
        )
    if status in (400, 422) and any(marker in markers for marker in _REFUSAL_MARKERS):
        return RefusedError(
            f"Model {model} refused the request (content filter).{quoted}",
            model=model,
            status=status,
        )
    return BadResponseError(
        f"{ctx.provider} rejected the request for model {model} (HTTP {status}).{quoted}",
        model=model,
        status=status,
    )


def _is_ollama(ctx: CallContext, said: str) -> bool:
    """Whether the server looks like Ollama: its default port, or its "pull it first" advice."""
    return ctx.host.endswith(f":{OLLAMA_PORT}") or OLLAMA_MISSING_MODEL in said.casefold()


def is_retryable(error: ProviderError) -> bool:
    """Connection failures, 429 and 5xx may pass; a refusal or a bad key will not."""
    return error.retryable
