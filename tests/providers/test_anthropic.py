"""The Anthropic adapter sends the documented Messages request and reads its events."""

from __future__ import annotations

import pytest

from bot.errors import OverloadedError, RateLimitedError
from bot.providers.base import complete
from bot.providers.types import ChatMessage
from tests.fakellm import FakeLLM, Fault
from tests.providers.conftest import MakeProvider
from tests.providers.helpers import ask, collect

KEY = "sk-ant-api03-abcdefghijklmnop"


async def test_request_has_key_version_top_level_system_and_stop_sequences(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.require_key("anthropic", KEY)
    fake_llm.script("claude", reply="Agreed.")
    stops = ("a1", "a2", "a3", "a4", "a5", "a6")
    await complete(make_provider("anthropic", api_key=KEY), ask("claude", stop=stops))
    [sent] = fake_llm.requests_for("claude")
    assert sent.path == "/v1/messages"
    assert sent.header("x-api-key") == KEY
    assert sent.header("anthropic-version") == "2023-06-01"
    assert sent.header("authorization") is None
    assert sent.body["system"] == "You are a thoughtful council member. Be brief."
    assert sent.body["messages"] == [
        {"role": "user", "content": "Should cities ban cars from their centres?"}
    ]
    assert sent.body["stop_sequences"] == list(stops)
    assert sent.body["stream"] is True
    assert sent.body["max_tokens"] == 200


async def test_configured_api_version_is_sent(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("claude", reply="Ok.")
    await complete(make_provider("anthropic", api_version="2099-01-01"), ask("claude"))
    assert fake_llm.requests_for("claude")[0].header("anthropic-version") == "2099-01-01"


async def test_temperature_above_anthropics_maximum_is_clamped(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("claude", reply="Ok.")
    await complete(make_provider("anthropic"), ask("claude", temperature=1.7))
    assert fake_llm.requests_for("claude")[0].body["temperature"] == 1.0


async def test_consecutive_turns_of_one_role_are_merged_and_a_user_turn_leads(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("claude", reply="Ok.")
    history = (ChatMessage("assistant", "I open."), ChatMessage("user", "Gemini: I differ."))
    await complete(make_provider("anthropic"), ask("claude", "Host: go on.", history=history))
    roles = [role for role, _ in fake_llm.requests_for("claude")[0].turns()]
    assert roles == ["user", "assistant", "user"]
    assert fake_llm.requests_for("claude")[0].turns()[2][1] == "Gemini: I differ.\n\nHost: go on."


async def test_thinking_blocks_are_reasoning_and_usage_is_read_from_events(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("claude", reply="Tax parking.", reasoning="Consider revenue.", usage=(50, 9))
    deltas: list[str] = []
    completion = await collect(make_provider("anthropic"), ask("claude"), deltas)
    assert "".join(deltas) == "Tax parking."
    assert completion.reasoning == "Consider revenue."
    assert (completion.input_tokens, completion.output_tokens) == (50, 9)
    assert completion.tokens_estimated is False


async def test_overloaded_error_event_mid_stream_is_overloaded(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("claude", reply="I was saying", fault=Fault.error_event(after_tokens=1))
    with pytest.raises(OverloadedError, match="HTTP 529"):
        await complete(make_provider("anthropic"), ask("claude"))


async def test_rate_limit_error_event_is_rate_limited(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fault = Fault.error_event(status=429, message="Slow down", after_tokens=1)
    fake_llm.script("claude", reply="I was saying", fault=fault)
    with pytest.raises(RateLimitedError, match="Slow down"):
        await complete(make_provider("anthropic"), ask("claude"))
