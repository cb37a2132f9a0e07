"""`council-bot check` against a model served over HTTPS whose certificate is not trusted."""

from __future__ import annotations

import ssl

import pytest

from bot.check import check_models, format_advice, format_results, ping_providers
from bot.config import CouncilConfig, parse_config
from bot.providers.registry import new_http_client
from tests.fakellm import FakeLLM


def _config(base_url: str) -> CouncilConfig:
    raw = {
        "providers": {"vault": {"kind": "openai", "base_url": base_url}},
        "models": {"gpt": {"provider": "vault", "model": "gpt-test"}},
        "personas": [{"name": "Orca", "model": "gpt"}],
    }
    return parse_config(raw, "council.toml", {})


@pytest.fixture
async def fake(server_tls: ssl.SSLContext):
    async with FakeLLM(ssl_context=server_tls) as server:
        server.script("gpt-test", reply="OK")
        yield server


async def test_check_explains_a_refused_certificate_as_such_not_as_a_server_down(
    fake: FakeLLM, trusting: ssl.SSLContext
) -> None:
    config = _config(fake.base_url("openai"))
    # The default trust (certifi) does not know the test CA, as it would not know a private one.
    async with new_http_client() as client:
        results = await check_models(config, ping_providers(config, {}, client), ["gpt"], {})
    [row] = results
    assert not row.is_ok
    table, advice = format_results(results), format_advice(results, config)
    assert "certificate" in table
    assert "certificate" in advice
    assert "SSL_CERT_FILE" in advice
    assert "providers.vault.base_url" in advice
    assert "is the server running" not in advice
    assert fake.requests_for("gpt-test") == []

    # Trusting the CA, as SSL_CERT_FILE would make the client do, the same check passes.
    async with new_http_client(verify=trusting) as client:
        [trusted] = await check_models(config, ping_providers(config, {}, client), ["gpt"], {})
    assert trusted.is_ok, trusted.error
