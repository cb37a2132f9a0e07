"""Fixtures for the provider tests: one HTTP client, a factory of providers on the fake, and a
throwaway certificate authority (trustme) for servers reached over HTTPS."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import trustme
from pydantic import SecretStr

from bot.config import ProviderConfig
from bot.providers.anthropic import AnthropicProvider
from bot.providers.base import HttpProvider
from bot.providers.gemini import GeminiProvider
from bot.providers.openai import OpenAIProvider
from bot.providers.registry import new_http_client
from tests.fakellm import FakeLLM
from tests.providers.helpers import KEY_ENV

MakeProvider = Callable[..., HttpProvider]

# Small, so failures show quickly; each test overrides what it is about.
TEST_SETTINGS: dict[str, Any] = {
    "timeout_s": 5.0,
    "first_token_timeout_s": 3.0,
    "connect_timeout_s": 1.0,
    "max_retries": 2,
}


@pytest.fixture(scope="package")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="package")
def server_tls(ca: trustme.CA) -> ssl.SSLContext:
    """A server context whose certificate names localhost and its loopback addresses."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost", "127.0.0.1", "::1").configure_cert(context)
    # Offered as real providers offer it; the client asks for HTTP/1.1 only.
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


@pytest.fixture(scope="package")
def trusting(ca: trustme.CA) -> ssl.SSLContext:
    """The client's default trust, plus the test CA."""
    context = httpx.create_ssl_context()
    ca.configure_trust(context)
    return context


@pytest.fixture
async def http_client() -> AsyncIterator[httpx.AsyncClient]:
    """The production client, as the composition root opens it."""
    async with new_http_client() as client:
        yield client


@pytest.fixture
def make_provider(fake_llm: FakeLLM, http_client: httpx.AsyncClient) -> MakeProvider:
    """Build a provider of a kind, pointed at the fake unless `base_url` says otherwise."""

    def make(
        kind: str,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        backoff_base_s: float = 0.01,
        **settings: Any,
    ) -> HttpProvider:
        config = ProviderConfig(
            kind=kind,
            base_url=base_url or fake_llm.base_url(kind),
            api_key_env=KEY_ENV,
            **{**TEST_SETTINGS, **settings},
        )
        cls = {"openai": OpenAIProvider, "anthropic": AnthropicProvider, "gemini": GeminiProvider}
        key = SecretStr(api_key) if api_key is not None else None
        return cls[kind](f"fake-{kind}", config, http_client, key, backoff_base_s=backoff_base_s)

    return make
