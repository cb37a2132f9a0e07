"""The Gemini adapter sends the documented streamGenerateContent request and reads it."""

from __future__ import annotations

import pytest

from bot.errors import ProviderAuthError, RefusedError
from bot.providers.base import complete
from bot.providers.types import ChatMessage
from tests.fakellm import FakeLLM
from tests.providers.conftest import MakeProvider
from tests.providers.helpers import KEY_ENV, ask, collect

KEY = "AIzaSyA-abcdefghijklmnopqrstuv"


async def test_request_has_key_header_system_instruction_and_generation_config(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.require_key("gemini", KEY)
    fake_llm.script("gemini-2.5-flash", reply="Yes.")
    stops = tuple(f"s{i}" for i in range(7))
    request = ask("gemini-2.5-flash", stop=stops, temperature=0.9)
    await complete(make_provider("gemini", api_key=KEY), request)
    [sent] = fake_llm.requests_for("gemini-2.5-flash")
    assert sent.path == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    assert sent.header("x-goog-api-key") == KEY
    assert "key=" not in sent.path
    assert sent.body["systemInstruction"] == {
        "parts": [{"text": "You are a thoughtful council member. Be brief."}]
    }
    assert sent.body["generationConfig"] == {
        "maxOutputTokens": 200,
        "temperature": 0.9,
        "stopSequences": ["s0", "s1", "s2", "s3", "s4"],
    }


async def test_roles_alternate_from_user_with_consecutive_turns_merged(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gemini", reply="Ok.")
    history = (
        ChatMessage("assistant", "I opened."),
        ChatMessage("user", "Claude: trams."),
        ChatMessage("user", "DeepSeek: buses."),
        ChatMessage("assistant", "Both."),
    )
    # The fake answers 400 like Gemini does if the roles do not alternate from the user.
    completion = await complete(
        make_provider("gemini"), ask("gemini", "Host: decide.", history=history)
    )
    assert completion.text == "Ok."
    turns = fake_llm.requests_for("gemini")[0].turns()
    assert [role for role, _ in turns] == ["user", "model", "user", "model", "user"]
    assert turns[2][1] == "Claude: trams.\n\nDeepSeek: buses."


async def test_thought_parts_are_reasoning_and_counted_in_output_tokens(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gemini", reply="Cycle lanes.", reasoning="Cheap and quick.", usage=(30, 12))
    deltas: list[str] = []
    completion = await collect(make_provider("gemini"), ask("gemini"), deltas)
    assert "".join(deltas) == "Cycle lanes."
    assert completion.reasoning == "Cheap and quick."
    assert (completion.input_tokens, completion.output_tokens) == (30, 12)


@pytest.mark.parametrize("reason", ["SAFETY", "PROHIBITED_CONTENT"])
async def test_a_safety_finish_with_no_text_is_refused(
    reason: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gemini", reply="", finish_reason=reason)
    with pytest.raises(RefusedError, match="gemini refused"):
        await complete(make_provider("gemini"), ask("gemini"))


async def test_a_safety_finish_after_some_text_keeps_the_text(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gemini", reply="Partly answered.", finish_reason="SAFETY")
    completion = await complete(make_provider("gemini"), ask("gemini"))
    assert completion.text == "Partly answered."
    assert completion.finish_reason == "refused"


async def test_a_blocked_prompt_is_refused_with_the_block_reason(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("gemini", prompt_blocked="PROHIBITED_CONTENT")
    with pytest.raises(RefusedError, match="prompt was blocked: PROHIBITED_CONTENT"):
        await complete(make_provider("gemini"), ask("gemini"))
    assert len(fake_llm.requests_for("gemini")) == 1


async def test_an_invalid_key_answered_with_400_is_an_auth_error(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.require_key("gemini", KEY)
    fake_llm.script("gemini")
    with pytest.raises(ProviderAuthError, match=KEY_ENV):
        await complete(make_provider("gemini", api_key="AIza-wrong-key-000000"), ask("gemini"))
    assert fake_llm.requests_for("gemini")[0].status == 400
