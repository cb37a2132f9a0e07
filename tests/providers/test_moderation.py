"""The moderation model against the fake server: OpenAI's moderations wire format, a guard model
through chat completions, and failures mapped like any model call's, the key never shown."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from bot.config import ModerationConfig, ProviderConfig
from bot.errors import (
    BadResponseError,
    OverloadedError,
    ProviderAuthError,
    ProviderTimeoutError,
)
from bot.providers.moderation import GuardModeration, OpenAIModeration, parse_guard
from bot.providers.types import ModerationResult
from tests.fakellm import Fault, guard_verdicts
from tests.providers.helpers import KEY_ENV

KEY = "sk-fake-secret-7391"


def _provider(fake_llm, **settings) -> ProviderConfig:
    return ProviderConfig(
        kind="openai",
        base_url=fake_llm.base_url("openai"),
        api_key_env=KEY_ENV,
        **{"max_retries": 0, **settings},
    )


def _endpoint(fake_llm, http_client, *, timeout_s: float = 5.0, **settings) -> OpenAIModeration:
    config = ModerationConfig(
        kind="openai", provider="mod", model="omni-moderation-latest", timeout_s=timeout_s
    )
    return OpenAIModeration(
        "mod", _provider(fake_llm, **settings), config, http_client, SecretStr(KEY)
    )


def _guard(fake_llm, http_client, **categories: str) -> GuardModeration:
    config = ModerationConfig(
        kind="guard", provider="mod", model="llama-guard3", categories=categories
    )
    return GuardModeration("mod", _provider(fake_llm), config, http_client, None)


async def test_the_endpoint_is_asked_with_model_and_input_and_its_categories_are_read(
    fake_llm, http_client
):
    fake_llm.require_key("openai", KEY)
    fake_llm.script_moderation(flags={"knife": "violence", "idiot": "harassment"})
    moderation = _endpoint(fake_llm, http_client)

    flagged = await moderation.classify("Call him an idiot and bring a knife.")
    clean = await moderation.classify("Bring a picnic.")

    assert flagged.is_flagged
    assert set(flagged.categories) == {"violence", "harassment"}
    assert clean == ModerationResult(is_flagged=False)
    [first, _] = [r for r in fake_llm.requests if r.path == "/v1/moderations"]
    assert first.body == {
        "model": "omni-moderation-latest",
        "input": "Call him an idiot and bring a knife.",
    }
    assert first.header("authorization") == f"Bearer {KEY}"


async def test_an_endpoint_that_fails_is_retried_then_named_without_the_key(fake_llm, http_client):
    fake_llm.script_moderation(fault=Fault.http(503))
    moderation = _endpoint(fake_llm, http_client, max_retries=1)
    with pytest.raises(OverloadedError) as failed:
        await moderation.classify("Hello")
    assert len([r for r in fake_llm.requests if r.path == "/v1/moderations"]) == 2
    assert KEY not in str(failed.value)

    fake_llm.require_key("openai", "another-key")
    fake_llm.script_moderation()
    with pytest.raises(ProviderAuthError) as refused:
        await moderation.classify("Hello")
    assert KEY not in str(refused.value)


async def test_an_endpoint_slower_than_its_timeout_fails_in_time(fake_llm, http_client):
    fake_llm.script_moderation(delay_s=2.0)
    moderation = _endpoint(fake_llm, http_client, timeout_s=0.2)
    with pytest.raises(ProviderTimeoutError):
        await moderation.classify("Hello")


async def test_a_server_that_is_no_moderations_endpoint_is_a_bad_response(fake_llm, http_client):
    fake_llm.script_moderation(body={"object": "chat.completion", "choices": []})
    with pytest.raises(BadResponseError) as failed:
        await _endpoint(fake_llm, http_client).classify("Hello")
    assert "not a moderations result" in str(failed.value)


async def test_a_guard_model_answers_unsafe_with_codes_named_by_llama_guards_taxonomy(
    fake_llm, http_client
):
    fake_llm.script("llama-guard3", reply=guard_verdicts({"poison": "S1,S10"}))
    guard = _guard(fake_llm, http_client, S1="violence (the server's own name)")

    assert await guard.classify("Poison the well.") == ModerationResult(
        True, ("violence (the server's own name)", "hate")
    )
    assert await guard.classify("A well.") == ModerationResult(is_flagged=False)
    [request, _] = fake_llm.requests_for("llama-guard3")
    assert request.turns() == [("user", "Poison the well.")]


async def test_a_guard_that_answers_neither_safe_nor_unsafe_is_a_bad_response(
    fake_llm, http_client
):
    fake_llm.script("llama-guard3", reply="I cannot help with that.")
    with pytest.raises(BadResponseError):
        await _guard(fake_llm, http_client).classify("Hello")


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ("safe", ModerationResult(False)),
        ("  SAFE\n", ModerationResult(False)),
        ("unsafe\nS10", ModerationResult(True, ("hate",))),
        ("unsafe\nS1, S14", ModerationResult(True, ("violent crimes", "code interpreter abuse"))),
        ("unsafe\nS99", ModerationResult(True, ("S99",))),
        ("unsafe", ModerationResult(True, ())),
        ("maybe", None),
        ("", None),
    ],
)
def test_guard_answers_are_read_as_llama_guard_writes_them(answer, expected):
    from bot.providers.moderation import LLAMA_GUARD_3_CATEGORIES

    assert parse_guard(answer, LLAMA_GUARD_3_CATEGORIES) == expected
