"""Every adapter streams text, usage and reasoning correctly from a real local server."""

from __future__ import annotations

import math

import pytest

from bot.errors import BadResponseError
from bot.providers.base import complete
from tests.fakellm import FakeLLM, Fault
from tests.providers.conftest import MakeProvider
from tests.providers.helpers import KINDS, ask, collect

pytestmark = pytest.mark.parametrize("kind", KINDS)

REPLY = "Ban them gradually: start with weekends, then measure what happens."


async def test_text_streams_as_deltas_in_order_then_one_completion(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY)
    deltas: list[str] = []
    completion = await collect(make_provider(kind), ask("m"), deltas)
    assert len(deltas) > 5
    assert "".join(deltas) == REPLY
    assert completion.text == REPLY
    assert completion.finish_reason == "stop"
    assert completion.reasoning == ""


async def test_usage_reported_by_the_server_is_used(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, usage=(123, 45))
    completion = await complete(make_provider(kind), ask("m"))
    assert (completion.input_tokens, completion.output_tokens) == (123, 45)
    assert completion.tokens_estimated is False


async def test_usage_is_estimated_when_the_server_sends_none(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, send_usage=False)
    request = ask("m")
    completion = await complete(make_provider(kind), request)
    prompt_chars = len(request.system) + sum(len(m.content) for m in request.messages)
    assert completion.tokens_estimated is True
    assert completion.input_tokens == math.ceil(prompt_chars / 4)
    assert completion.output_tokens == math.ceil(len(REPLY) / 4)


async def test_timings_are_measured_from_the_start_of_the_call(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="One two three four.", first_token_delay_s=0.2, tokens_per_s=40)
    completion = await complete(make_provider(kind), ask("m"))
    assert completion.first_token_s is not None
    assert 0.2 <= completion.first_token_s < completion.latency_s < 2


async def test_awkwardly_split_chunks_with_crlf_comments_and_multiline_data_read_exactly(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    reply = "Grüße aus Köln — 東京 says 🎉🎉, and naïve café ☕ holds."
    fake_llm.script(
        "m",
        reply=reply,
        chunk_bytes=5,
        line_ending="\r\n",
        comments=True,
        multiline_data=True,
    )
    deltas: list[str] = []
    completion = await collect(make_provider(kind), ask("m"), deltas)
    assert completion.text == reply
    assert "".join(deltas) == reply


async def test_reasoning_in_the_formats_own_field_is_kept_out_of_the_text(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, reasoning="First, who pays? Then, who gains?")
    deltas: list[str] = []
    completion = await collect(make_provider(kind), ask("m"), deltas)
    assert completion.text == REPLY
    assert "".join(deltas) == REPLY
    assert completion.reasoning == "First, who pays? Then, who gains?"


async def test_inline_think_tags_are_kept_out_of_the_text(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, reasoning="Hmm, trade-offs.", reasoning_style="think_tags")
    deltas: list[str] = []
    completion = await collect(make_provider(kind), ask("m"), deltas)
    assert "".join(deltas) == REPLY
    assert completion.text == REPLY
    assert completion.reasoning == "Hmm, trade-offs."


async def test_a_stop_string_the_server_honours_ends_the_reply_before_it(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="I agree.\nUser: and you?")
    completion = await complete(make_provider(kind), ask("m", stop=("\nUser:",)))
    assert completion.text == "I agree."
    assert completion.finish_reason == "stop"


async def test_the_token_limit_ending_is_reported_as_length(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY)
    completion = await complete(make_provider(kind), ask("m", max_tokens=3))
    assert completion.finish_reason == "length"
    assert REPLY.startswith(completion.text)
    assert len(completion.text) < len(REPLY)


async def test_an_empty_reply_completes_with_empty_text(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="")
    completion = await complete(make_provider(kind), ask("m"))
    assert completion.text == ""
    assert completion.finish_reason == "stop"


async def test_a_stream_cut_mid_reply_is_a_bad_response_and_not_retried(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, fault=Fault.cut(after_tokens=3))
    deltas: list[str] = []
    with pytest.raises(BadResponseError, match="cut off"):
        await collect(make_provider(kind), ask("m"), deltas)
    assert deltas
    assert len(fake_llm.requests_for("m")) == 1


async def test_a_stream_that_ends_without_a_finish_or_end_marker_is_a_bad_response(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, send_finish=False, send_end=False)
    with pytest.raises(BadResponseError, match="ended before the reply did"):
        await complete(make_provider(kind), ask("m"))


@pytest.mark.parametrize("after_tokens", [0, 2])
async def test_malformed_json_in_the_stream_is_a_bad_response_and_not_retried(
    kind: str, after_tokens: int, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply=REPLY, fault=Fault.malformed_json(after_tokens=after_tokens))
    with pytest.raises(BadResponseError, match="malformed JSON"):
        await complete(make_provider(kind), ask("m"))
    assert len(fake_llm.requests_for("m")) == 1
