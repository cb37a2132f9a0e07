"""Failures are mapped into the error family with actionable messages and no key."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from pydantic import SecretStr

from bot.errors import (
    BadResponseError,
    ModelNotFoundError,
    OverloadedError,
    ProviderAuthError,
    ProviderError,
    ProviderTimeoutError,
    ProviderUnreachableError,
    RateLimitedError,
    RefusedError,
)
from bot.providers.failures import (
    CallContext,
    DeadlineExceeded,
    HttpFailure,
    StreamFault,
    map_error,
    parse_retry_after,
    scrub_secret,
)

KEY = "sk-live-0123456789abcdef"
CTX = CallContext(
    provider="openai",
    model="gpt-test",
    host="api.example.org",
    key_env="OPENAI_API_KEY",
    api_key=SecretStr(KEY),
)


def body(message: str, **fields: object) -> str:
    return json.dumps({"error": {"message": message, **fields}})


@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (401, body("bad key"), ProviderAuthError),
        (403, body("forbidden"), ProviderAuthError),
        (400, body("API key not valid.", status="INVALID_ARGUMENT"), ProviderAuthError),
        (404, body("no such model"), ModelNotFoundError),
        (429, body("slow down"), RateLimitedError),
        (500, "<html>oops</html>", OverloadedError),
        (503, "", OverloadedError),
        (529, body("Overloaded", type="overloaded_error"), OverloadedError),
        (400, body("flagged", code="content_filter"), RefusedError),
        (400, body("blocked for safety reasons"), RefusedError),
        (400, body("max_tokens too large"), BadResponseError),
        (413, body("too big"), BadResponseError),
    ],
)
def test_status_and_body_map_to_the_error_family(
    status: int, payload: str, expected: type[ProviderError]
) -> None:
    error = map_error(CTX, HttpFailure(status, payload))
    assert type(error) is expected
    assert error.status == status
    assert "gpt-test" in error.message


def test_auth_error_names_the_env_var_and_scrubs_an_echoed_key() -> None:
    echoed = body(f"Incorrect API key provided: {KEY}. Also {KEY[:12]}***{KEY[-4:]}")
    error = map_error(CTX, HttpFailure(401, echoed))
    assert error.message.startswith("The API key for model gpt-test was rejected — check ")
    assert "OPENAI_API_KEY" in error.message
    assert KEY not in error.message
    assert KEY[:12] not in error.message
    assert "[redacted]" in error.message


def test_auth_error_without_a_key_says_the_env_var_is_not_set() -> None:
    ctx = CallContext("openai", "gpt-test", "h", "OPENAI_API_KEY", None)
    assert "OPENAI_API_KEY is not set" in map_error(ctx, HttpFailure(401, "")).message


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("127.0.0.1:11434", ""),  # Ollama's port, whatever it answers
        ("gpu-box:8000", 'model "llama3.2" not found, try pulling it first'),  # Ollama's words
    ],
)
def test_a_model_missing_from_ollama_says_which_model_to_pull(host: str, said: str) -> None:
    ctx = CallContext("local", "llama3.2", host, None, None)
    error = map_error(ctx, HttpFailure(404, body(said) if said else ""))
    assert type(error) is ModelNotFoundError
    assert "run `ollama pull llama3.2` where Ollama runs" in error.message


def test_a_model_missing_elsewhere_names_no_ollama_command() -> None:
    error = map_error(CTX, HttpFailure(404, body("The model `gpt-test` does not exist")))
    assert "ollama" not in error.message
    assert "check the model name and providers.openai.base_url" in error.message


def test_rate_limit_carries_retry_after_from_the_header_or_geminis_retry_info() -> None:
    assert map_error(CTX, HttpFailure(429, "", retry_after_s=7.0)).retry_after_s == 7.0
    gemini = body("quota", details=[{"@type": "RetryInfo", "retryDelay": "12s"}])
    error = map_error(CTX, HttpFailure(429, gemini))
    assert error.retry_after_s == 12.0
    assert "try again in 12 s" in error.message


def test_long_provider_text_is_shortened() -> None:
    error = map_error(CTX, HttpFailure(500, body("x" * 5000)))
    assert len(error.message) < 600


@pytest.mark.parametrize(
    ("failure", "expected", "phrase"),
    [
        (DeadlineExceeded(2, is_first_token=True), ProviderTimeoutError, "start answering"),
        (DeadlineExceeded(9, is_first_token=False), ProviderTimeoutError, "within 9 s"),
        (StreamFault("malformed JSON"), BadResponseError, "could not be read"),
        (StreamFault("blocked", is_refusal=True), RefusedError, "refused"),
        (httpx.ConnectError("refused"), ProviderUnreachableError, "api.example.org"),
        (httpx.ConnectTimeout("slow"), ProviderUnreachableError, "base_url"),
        (httpx.ReadTimeout("slow"), ProviderTimeoutError, "stopped responding"),
        (httpx.ReadError("reset"), ProviderUnreachableError, "connection"),
    ],
)
def test_exceptions_and_deadlines_map_to_the_error_family(
    failure: Exception, expected: type[ProviderError], phrase: str
) -> None:
    error = map_error(CTX, failure)  # type: ignore[arg-type]
    assert type(error) is expected
    assert phrase in error.message


def test_a_cut_body_is_a_bad_response() -> None:
    cut = httpx.RemoteProtocolError("incomplete chunked read")
    assert isinstance(map_error(CTX, cut, is_reading_body=True), BadResponseError)


def test_scrub_secret_leaves_text_alone_without_a_key() -> None:
    assert scrub_secret("nothing secret", None) == "nothing secret"


NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "Thu, 01 Jan 2026 12:00:30 GMT"}, 30.0),
        ({"retry-after": "Thu, 01 Jan 2026 11:00:00 GMT"}, 0.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    headers: dict[str, str], expected: float | None
) -> None:
    assert parse_retry_after(headers, NOW) == expected
