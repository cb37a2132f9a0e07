"""Building the configured providers over the process's one HTTP client."""

from __future__ import annotations

import ssl
import urllib.request
from collections.abc import Mapping
from typing import Final

import httpx
from pydantic import SecretStr

from bot.config import CouncilConfig, ProviderConfig
from bot.providers.anthropic import AnthropicProvider
from bot.providers.base import HttpProvider
from bot.providers.gemini import GeminiProvider
from bot.providers.openai import OpenAIProvider
from bot.providers.transport import AsyncioTransport
from bot.providers.types import Provider

USER_AGENT: Final = "council-bot/0.1"
# Per-call deadlines live in each provider; these are the client's backstops.
CLIENT_TIMEOUT_S: Final = 120.0
CLIENT_CONNECT_TIMEOUT_S: Final = 10.0
DEFAULT_MAX_CONNECTIONS: Final = 64
MAX_KEEPALIVE_CONNECTIONS: Final = 16
KEEPALIVE_EXPIRY_S: Final = 30.0
# The proxy variables httpx honours (`httpx._utils.get_environment_proxies`).
PROXIED_SCHEMES: Final = ("http", "https", "all")


def connections_for(config: CouncilConfig) -> int:
    """How many connections the providers may hold at once: their concurrency limits summed.

    Each provider's `max_concurrency` is the limit on its calls. A smaller pool would queue
    calls the provider has admitted, with their first-token deadline already running.
    """
    return max(1, sum(p.max_concurrency for p in config.providers.values()))


def new_http_client(
    max_connections: int = DEFAULT_MAX_CONNECTIONS, *, verify: ssl.SSLContext | None = None
) -> httpx.AsyncClient:
    """The process's one HTTP client, with explicit timeouts and connection limits.

    The composition root opens it with `async with`, sized by `connections_for`, and hands
    it to `build_providers`. `verify` decides which servers' certificates are trusted
    (default: httpx's, the certifi bundle or SSL_CERT_FILE), directly and through a proxy.
    """
    context = verify or httpx.create_ssl_context()
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
        keepalive_expiry=KEEPALIVE_EXPIRY_S,
    )
    # Behind a proxy httpx's own transports do the routing. httpx reads the same table and
    # routes only these schemes (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY); FTP_PROXY and the like
    # are no reason to leave this backend.
    proxies = urllib.request.getproxies()
    is_proxied = any(proxies.get(scheme) for scheme in PROXIED_SCHEMES)
    transport = None if is_proxied else AsyncioTransport(limits, verify=context)
    return httpx.AsyncClient(
        verify=context,
        timeout=httpx.Timeout(CLIENT_TIMEOUT_S, connect=CLIENT_CONNECT_TIMEOUT_S),
        limits=limits,
        transport=transport,
        headers={"user-agent": USER_AGENT},
        # A provider that redirects is misconfigured; following it could send the key on.
        follow_redirects=False,
    )


def build_provider(
    name: str, config: ProviderConfig, client: httpx.AsyncClient, api_key: SecretStr | None
) -> HttpProvider:
    """The adapter for one `[providers.NAME]` table."""
    match config.kind:
        case "openai":
            return OpenAIProvider(name, config, client, api_key)
        case "anthropic":
            return AnthropicProvider(name, config, client, api_key)
        case "gemini":
            return GeminiProvider(name, config, client, api_key)


def build_providers(
    config: CouncilConfig, environ: Mapping[str, str], client: httpx.AsyncClient
) -> dict[str, Provider]:
    """Every configured provider, keyed by its name in `council.toml`, sharing `client`."""
    return {
        name: build_provider(name, provider, client, config.api_key(name, environ))
        for name, provider in config.providers.items()
    }
