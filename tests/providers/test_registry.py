"""Providers are built from the operator's config over one shared client."""

from __future__ import annotations

import asyncio

import httpx

from bot.config import CouncilConfig, ProviderConfig
from bot.providers.anthropic import AnthropicProvider
from bot.providers.base import complete
from bot.providers.gemini import GeminiProvider
from bot.providers.openai import OpenAIProvider
from bot.providers.registry import build_providers, connections_for, new_http_client
from tests.fakellm import FakeLLM
from tests.providers.helpers import ask


def council_config(fake: FakeLLM) -> CouncilConfig:
    return CouncilConfig(
        providers={
            "deepseek": ProviderConfig(
                kind="openai", base_url=fake.base_url("openai"), api_key_env="DEEPSEEK_API_KEY"
            ),
            "anthropic": ProviderConfig(
                kind="anthropic", base_url=fake.url, api_key_env="ANTHROPIC_API_KEY"
            ),
            "google": ProviderConfig(
                kind="gemini", base_url=fake.url, api_key_env="GEMINI_API_KEY", max_concurrency=1
            ),
            "ollama": ProviderConfig(kind="openai", base_url=fake.base_url("openai")),
        },
        models={},
        personas=[],
    )


ENVIRON = {
    "DEEPSEEK_API_KEY": "sk-deepseek-key-0001",
    "ANTHROPIC_API_KEY": "sk-ant-key-0002",
    "GEMINI_API_KEY": "AIza-gemini-key-0003",
}


async def test_providers_are_keyed_by_config_name_with_the_adapter_for_their_kind(
    fake_llm: FakeLLM, http_client: httpx.AsyncClient
) -> None:
    providers = build_providers(council_config(fake_llm), ENVIRON, http_client)
    assert {name: type(p) for name, p in providers.items()} == {
        "deepseek": OpenAIProvider,
        "anthropic": AnthropicProvider,
        "google": GeminiProvider,
        "ollama": OpenAIProvider,
    }
    assert all(name == provider.name for name, provider in providers.items())


async def test_each_provider_sends_the_key_from_its_env_var(
    fake_llm: FakeLLM, http_client: httpx.AsyncClient
) -> None:
    fake_llm.require_key("openai", ENVIRON["DEEPSEEK_API_KEY"])
    fake_llm.require_key("anthropic", ENVIRON["ANTHROPIC_API_KEY"])
    fake_llm.require_key("gemini", ENVIRON["GEMINI_API_KEY"])
    for model in ("deepseek-chat", "claude", "gemini"):
        fake_llm.script(model, reply=f"I am {model}.")
    providers = build_providers(council_config(fake_llm), ENVIRON, http_client)
    for name, model in (
        ("deepseek", "deepseek-chat"),
        ("anthropic", "claude"),
        ("google", "gemini"),
    ):
        assert (await complete(providers[name], ask(model))).text == f"I am {model}."


async def test_a_provider_without_a_key_env_sends_no_key(
    fake_llm: FakeLLM, http_client: httpx.AsyncClient
) -> None:
    fake_llm.script("llama3", reply="Local.")
    providers = build_providers(council_config(fake_llm), ENVIRON, http_client)
    await complete(providers["ollama"], ask("llama3"))
    assert fake_llm.requests_for("llama3")[0].header("authorization") is None


async def test_the_shared_client_has_explicit_timeouts_and_does_not_follow_redirects() -> None:
    async with new_http_client() as client:
        assert client.timeout.connect == 10.0
        assert client.timeout.read == 120.0
        assert client.follow_redirects is False
        assert client.headers["user-agent"].startswith("council-bot")


async def test_the_client_sized_for_the_config_lets_every_admitted_call_connect(
    fake_llm: FakeLLM,
) -> None:
    # One provider admitting 100 calls at once, more than the client's default pool holds.
    config = CouncilConfig(
        providers={
            "wide": ProviderConfig(
                kind="openai", base_url=fake_llm.base_url("openai"), max_concurrency=100
            )
        },
        models={},
        personas=[],
    )
    fake_llm.script("wide-model", reply="Here.", first_token_delay_s=0.5)
    assert connections_for(config) == 100
    async with new_http_client(connections_for(config)) as client:
        providers = build_providers(config, ENVIRON, client)
        replies = await asyncio.gather(
            *(complete(providers["wide"], ask("wide-model")) for _ in range(100))
        )
    assert [r.text for r in replies] == ["Here."] * 100
    # All 100 reached the server together; a 64-connection pool would have queued 36.
    assert fake_llm.max_in_flight("wide-model") == 100
