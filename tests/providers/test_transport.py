"""The model client's own network backend: timeouts, flow control, ends and proxies."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from aiohttp import web

from bot.providers.registry import new_http_client
from bot.providers.transport import HIGH_WATER_BYTES, AsyncioTransport

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Serve one handler on a local port; return its URL."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/", handler)
        runner = web.AppRunner(app, handler_cancellation=True)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = runner.addresses[0][1]
        return f"http://127.0.0.1:{port}/"

    yield start
    for runner in runners:
        await runner.cleanup()


def client(read_timeout_s: float = 5.0) -> httpx.AsyncClient:
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
    return httpx.AsyncClient(
        transport=AsyncioTransport(limits), timeout=httpx.Timeout(5.0, read=read_timeout_s)
    )


async def test_the_model_client_uses_the_asyncio_backend_unless_a_proxy_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "localhost")
    async with new_http_client() as direct:
        assert isinstance(direct._transport, AsyncioTransport)
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.invalid:3128")
    async with new_http_client() as proxied:
        assert not isinstance(proxied._transport, AsyncioTransport)


async def test_a_body_that_goes_quiet_longer_than_the_read_timeout_times_out(serve) -> None:
    async def stall(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        await response.write(b"data: one\n\n")
        await asyncio.sleep(5)
        return response

    url = await serve(stall)
    async with client(read_timeout_s=0.3) as http, http.stream("GET", url) as response:
        pieces = response.aiter_bytes()
        assert await anext(pieces) == b"data: one\n\n"
        with pytest.raises(httpx.ReadTimeout):
            await anext(pieces)


async def test_a_slow_trickle_within_the_read_timeout_is_read_to_its_end(serve) -> None:
    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for index in range(8):
            await response.write(f"data: {index}\n\n".encode())
            await asyncio.sleep(0.1)
        return response

    url = await serve(trickle)
    # Each gap is under the read timeout, the whole body is not: only gaps count.
    async with client(read_timeout_s=0.4) as http, http.stream("GET", url) as response:
        body = b"".join([piece async for piece in response.aiter_bytes()])
    assert body == b"".join(f"data: {index}\n\n".encode() for index in range(8))


async def test_a_body_larger_than_the_buffer_is_read_whole_by_a_slow_reader(serve) -> None:
    payload = bytes(range(256)) * (4 * HIGH_WATER_BYTES // 256)

    async def large(request: web.Request) -> web.StreamResponse:
        return web.Response(body=payload)

    url = await serve(large)
    received = bytearray()
    async with client() as http, http.stream("GET", url) as response:
        async for piece in response.aiter_bytes():
            received += piece
            await asyncio.sleep(0.01)  # the server gets ahead: reading pauses, then resumes
    assert bytes(received) == payload


async def test_a_connection_cut_mid_body_is_an_error_not_a_short_body(serve) -> None:
    async def cut(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await response.write(b"data: one\n\n")
        await asyncio.sleep(0.05)
        if request.transport is not None:
            request.transport.abort()
        return response

    url = await serve(cut)
    async with client() as http, http.stream("GET", url) as response:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            async for _ in response.aiter_bytes():
                pass


async def test_connections_are_reused_between_requests(serve) -> None:
    peers: set[object] = set()

    async def hello(request: web.Request) -> web.StreamResponse:
        peers.add(request.transport.get_extra_info("peername") if request.transport else None)
        return web.Response(text="hello")

    url = await serve(hello)
    async with client() as http:
        for _ in range(3):
            assert (await http.get(url)).text == "hello"
    assert len(peers) == 1
