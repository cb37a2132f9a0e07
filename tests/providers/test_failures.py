"""Retries, deadlines, limits, cancellation and error mapping, against real local servers."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.errors import (
    BadResponseError,
    ModelNotFoundError,
    OverloadedError,
    ProviderAuthError,
    ProviderTimeoutError,
    ProviderUnreachableError,
    RateLimitedError,
)
from bot.providers.base import complete
from bot.providers.types import Completion, Delta
from tests.fakellm import FakeLLM, Fault
from tests.providers.conftest import MakeProvider
from tests.providers.helpers import KEY_ENV, KINDS, ask, collect

KEY = "sk-test-SECRET-0123456789abcdef"


@pytest.mark.parametrize("kind", KINDS)
async def test_429_with_retry_after_is_retried_after_waiting_then_succeeds(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Recovered.", faults=[Fault.http(429, retry_after=0.4)])
    started = time.monotonic()
    completion = await complete(make_provider(kind), ask("m"))
    assert completion.text == "Recovered."
    requests = fake_llm.requests_for("m")
    assert len(requests) == 2
    assert requests[1].received_at - requests[0].received_at >= 0.4
    assert time.monotonic() - started >= 0.4


async def test_retry_after_in_whole_seconds_is_honoured(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Recovered.", faults=[Fault.http(429, retry_after="1")])
    started = time.monotonic()
    await complete(make_provider("openai"), ask("m"))
    assert time.monotonic() - started >= 1.0
    assert len(fake_llm.requests_for("m")) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_429_on_every_try_raises_rate_limited_after_max_retries(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", fault=Fault.http(429, retry_after=0.05))
    with pytest.raises(RateLimitedError) as caught:
        await complete(make_provider(kind, max_retries=2), ask("m"))
    assert caught.value.retry_after_s == pytest.approx(0.05)
    assert caught.value.model == "m"
    assert len(fake_llm.requests_for("m")) == 3


async def test_retry_after_beyond_the_call_budget_gives_up_at_once(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", fault=Fault.http(429, retry_after=3600))
    started = time.monotonic()
    with pytest.raises(RateLimitedError, match="try again in 3600 s") as caught:
        await complete(make_provider("openai", timeout_s=2.0), ask("m"))
    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after_s == 3600
    assert len(fake_llm.requests_for("m")) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_500_is_retried_then_succeeds(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Fine now.", faults=[Fault.http(500)])
    completion = await complete(make_provider(kind), ask("m"))
    assert completion.text == "Fine now."
    assert len(fake_llm.requests_for("m")) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 529])
async def test_server_errors_on_every_try_raise_overloaded(
    status: int, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", fault=Fault.http(status))
    with pytest.raises(OverloadedError, match=f"HTTP {status}"):
        await complete(make_provider("anthropic", max_retries=1), ask("m"))
    assert len(fake_llm.requests_for("m")) == 2


@pytest.mark.parametrize("kind", KINDS)
async def test_rejected_key_names_the_env_var_and_never_shows_the_key(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_llm.script("m", fault=Fault.http(401, echo_key=True))
    with pytest.raises(ProviderAuthError) as caught:
        await complete(make_provider(kind, api_key=KEY), ask("m"))
    message = caught.value.message
    assert message.startswith("The API key for model m was rejected — check FAKE_LLM_API_KEY")
    assert "[redacted]" in message  # the fake echoed the key, and it was scrubbed
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value.args)
    assert all(KEY not in record.getMessage() for record in caplog.records)
    assert len(fake_llm.requests_for("m")) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_wrong_key_is_an_auth_error_in_every_format(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.require_key(kind, "the-right-key-0000")  # type: ignore[arg-type]
    fake_llm.script("m")
    with pytest.raises(ProviderAuthError, match=KEY_ENV) as caught:
        await complete(make_provider(kind, api_key=KEY), ask("m"))
    assert KEY not in str(caught.value)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_missing_key_says_the_env_var_is_not_set(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.require_key(kind, "the-right-key-0000")  # type: ignore[arg-type]
    fake_llm.script("m")
    with pytest.raises(ProviderAuthError, match=f"{KEY_ENV} is not set"):
        await complete(make_provider(kind), ask("m"))


@pytest.mark.parametrize("kind", KINDS)
async def test_an_unknown_model_is_model_not_found_and_not_retried(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    with pytest.raises(ModelNotFoundError, match="'no-such-model'"):
        await complete(make_provider(kind), ask("no-such-model"))
    assert len(fake_llm.requests_for("no-such-model")) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_a_slow_first_token_times_out_without_waiting_for_the_total(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Too late.", first_token_delay_s=2.0)
    provider = make_provider(kind, first_token_timeout_s=0.3, timeout_s=5.0)
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError, match=r"did not start answering within 0\.3 s"):
        await complete(provider, ask("m"))
    assert time.monotonic() - started < 1.0
    assert len(fake_llm.requests_for("m")) == 1


async def test_a_reply_slower_than_the_total_budget_times_out(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="word " * 200, tokens_per_s=20)
    deltas: list[str] = []
    started = time.monotonic()
    with pytest.raises(ProviderTimeoutError, match=r"did not finish answering within 0\.5 s"):
        await collect(make_provider("gemini", timeout_s=0.5), ask("m"), deltas)
    assert 0.5 <= time.monotonic() - started < 1.0
    assert deltas


@pytest.mark.parametrize("kind", KINDS)
async def test_a_failure_after_the_first_token_is_raised_not_retried(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Half an answer, then", fault=Fault.error_event(after_tokens=2))
    deltas: list[str] = []
    with pytest.raises(OverloadedError):
        await collect(make_provider(kind), ask("m"), deltas)
    assert "".join(deltas)
    assert len(fake_llm.requests_for("m")) == 1


@pytest.mark.parametrize("kind", KINDS)
async def test_an_error_event_before_the_first_token_is_retried(
    kind: str, fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Second time lucky.", faults=[Fault.error_event(after_tokens=0)])
    completion = await complete(make_provider(kind), ask("m"))
    assert completion.text == "Second time lucky."
    assert len(fake_llm.requests_for("m")) == 2


async def test_concurrency_limit_holds_calls_beyond_max_concurrency(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Short and sweet.", first_token_delay_s=0.15)
    provider = make_provider("openai", max_concurrency=2)
    completions = await asyncio.gather(*(complete(provider, ask("m")) for _ in range(5)))
    assert [c.text for c in completions] == ["Short and sweet."] * 5
    assert fake_llm.max_in_flight("m") == 2


async def test_cancelling_the_consumer_closes_the_request_promptly(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="word " * 500, tokens_per_s=20)
    provider = make_provider("anthropic", max_concurrency=1)
    first_delta = asyncio.Event()

    async def consume() -> None:
        async for item in provider.stream(ask("m")):
            if isinstance(item, Delta):
                first_delta.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(first_delta.wait(), timeout=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fake_llm.wait_idle(timeout_s=0.5)
    assert fake_llm.requests_for("m")[0].disconnected
    # The concurrency slot was released: with max_concurrency=1 another call still runs.
    fake_llm.script("m", reply="Next.")
    completion = await asyncio.wait_for(complete(provider, ask("m")), timeout=2)
    assert completion.text == "Next."


async def test_closing_the_stream_while_the_consumer_is_busy_closes_the_request(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="word " * 500, tokens_per_s=20)
    provider = make_provider("gemini")
    busy = asyncio.Event()

    async def consume() -> None:
        async with contextlib.aclosing(provider.stream(ask("m"))) as items:  # type: ignore[type-var]
            async for _ in items:
                busy.set()
                await asyncio.sleep(10)  # e.g. posting to Discord when the session is stopped

    task = asyncio.create_task(consume())
    await asyncio.wait_for(busy.wait(), timeout=2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await fake_llm.wait_idle(timeout_s=0.5)
    assert fake_llm.requests_for("m")[0].disconnected


async def test_a_consumer_that_stops_at_the_completion_does_not_hold_a_slot(
    fake_llm: FakeLLM, make_provider: MakeProvider
) -> None:
    fake_llm.script("m", reply="Done.")
    provider = make_provider("openai", max_concurrency=1)
    abandoned = provider.stream(ask("m"))
    async for item in abandoned:
        if isinstance(item, Completion):
            break
    completion = await asyncio.wait_for(complete(provider, ask("m")), timeout=2)
    assert completion.text == "Done."
    await abandoned.aclose()  # type: ignore[attr-defined]


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("kind", KINDS)
async def test_connection_refused_is_unreachable_after_retries(
    kind: str, make_provider: MakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.providers.base")
    base_url = f"http://127.0.0.1:{unused_port()}"
    provider = make_provider(kind, base_url=base_url, max_retries=1)
    with pytest.raises(ProviderUnreachableError, match="base_url") as caught:
        await complete(provider, ask("m"))
    assert "127.0.0.1" in caught.value.message
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == 1
    assert "(unreachable); retry 1 of 1" in retries[0]


@pytest.fixture
async def web_page_url() -> AsyncIterator[str]:
    """A server that answers every POST with an HTML page, like a wrong base_url would."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>Welcome!</html>", content_type="text/html")

    app = web.Application()
    app.router.add_post("/{tail:.*}", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    await runner.cleanup()


async def test_a_200_that_is_not_an_event_stream_says_to_check_the_base_url(
    web_page_url: str, make_provider: MakeProvider
) -> None:
    provider = make_provider("openai", base_url=web_page_url)
    with pytest.raises(BadResponseError, match=r"got text/html.*base_url"):
        await complete(provider, ask("m"))
