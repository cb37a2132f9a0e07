"""The OpenAI-compatible adapter sends the documented request and reads its quirks."""

from __future__ import annotations

import pytest

from bot.errors import BadResponseError, RefusedError
from bot.providers.base import complete
from bot.providers.types import ChatMessage
from tests.fakellm import FakeLLM, Fault
from tests.providers.conftest import MakeProvider
from tests.providers.helpers import ask, collect

KEY = "sk-proj-abcdefghijklmnop"


async def test_request_has_system_first_bearer_key_stream_and_usage_option(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.require_key("openai", KEY)
    fake_llm.script("gpt", reply="Yes.")
    history = (ChatMessage("user", "Topic: cars."), ChatMessage("assistant", "I said no."))
    await complete(make_provider("openai", api_key=KEY), ask("gpt", "And now?", history=history))
    [sent] = fake_llm.requests_for("gpt")
    assert sent.path == "/v1/chat/completions"
    assert sent.header("authorization") == f"Bearer {KEY}"
    assert sent.body["messages"] == [
        {"role": "system", "content": "You are a thoughtful council member. Be brief."},
        {"role": "user", "content": "Topic: cars."},
        {"role": "assistant", "content": "I said no."},
        {"role": "user", "content": "And now?"},
    ]
    assert sent.body["stream"] is True
    assert sent.body["stream_options"] == {"include_usage": True}
    assert sent.body["max_tokens"] == 200
    assert sent.body["temperature"] == 0.5


async def test_no_authorization_header_is_sent_without_a_key(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("llama", reply="Local hello.")
    await complete(make_provider("openai"), ask("llama", temperature=None))
    [sent] = fake_llm.requests_for("llama")
    assert sent.header("authorization") is None
    assert "temperature" not in sent.body


async def test_only_four_stop_strings_are_sent_and_all_are_enforced(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gpt", reply="Alpha beta. FIFTH gamma delta.")
    stops = ("<one>", "<two>", "<three>", "<four>", "FIFTH")
    deltas: list[str] = []
    completion = await collect(make_provider("openai"), ask("gpt", stop=stops), deltas)
    [sent] = fake_llm.requests_for("gpt")
    assert sent.body["stop"] == ["<one>", "<two>", "<three>", "<four>"]
    assert completion.text == "Alpha beta. "
    assert "".join(deltas) == "Alpha beta. "
    assert completion.finish_reason == "stop"


async def test_missing_done_is_accepted_when_a_finish_reason_arrived(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gpt", reply="Complete anyway.", send_end=False)
    completion = await complete(make_provider("openai"), ask("gpt"))
    assert completion.text == "Complete anyway."


async def test_missing_done_and_finish_reason_is_a_bad_response(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gpt", reply="Where did it go", send_end=False, send_finish=False)
    with pytest.raises(BadResponseError):
        await complete(make_provider("openai"), ask("gpt"))


async def test_reasoning_content_field_is_reasoning_not_text(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("deepseek-reasoner", reply="Keep the trams.", reasoning="Trams are cheap.")
    completion = await complete(make_provider("openai"), ask("deepseek-reasoner"))
    assert (completion.text, completion.reasoning) == ("Keep the trams.", "Trams are cheap.")
    assert completion.first_token_s is not None


async def test_content_filter_finish_with_no_text_is_refused(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gpt", reply="", finish_reason="content_filter")
    with pytest.raises(RefusedError, match="gpt refused"):
        await complete(make_provider("openai"), ask("gpt"))


async def test_400_content_filter_is_refused_and_not_retried(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gpt", fault=Fault.http(400, message="Flagged by our content_filter."))
    with pytest.raises(RefusedError, match="content filter"):
        await complete(make_provider("openai"), ask("gpt"))
    assert len(fake_llm.requests_for("gpt")) == 1
