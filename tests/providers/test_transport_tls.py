"""The model client over HTTPS: handshakes, certificates, streams, timeouts, ends and reuse.

Every provider is reached over TLS in production, so these tests run the client exactly as
`new_http_client` builds it against local HTTPS servers whose certificates come from a
throwaway CA (trustme); only the CA the client trusts is injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import trustme
from pydantic import SecretStr

from bot.config import ProviderConfig
from bot.errors import CutOffError, UntrustedServerError
from bot.providers.base import complete
from bot.providers.openai import OpenAIProvider
from bot.providers.registry import new_http_client
from bot.providers.sse import SSEParser
from bot.providers.transport import HIGH_WATER_BYTES, AsyncioTransport
from tests.fakellm import FakeLLM
from tests.providers.conftest import TEST_SETTINGS
from tests.providers.helpers import ask, collect

# Answers a request on `writer`; returns whether the connection stays open for another.
Respond = Callable[[asyncio.StreamWriter], Awaitable[bool]]


@pytest.fixture
async def http(trusting: ssl.SSLContext) -> AsyncIterator[httpx.AsyncClient]:
    async with new_http_client(verify=trusting) as client:
        assert isinstance(client._transport, AsyncioTransport)
        yield client


class TlsPeer:
    """A minimal HTTP/1.1 server over TLS that answers every request with `respond`.

    `connections` counts the connections it accepted, each one a completed TLS handshake.
    """

    def __init__(self, context: ssl.SSLContext, respond: Respond) -> None:
        self._context = context
        self._respond = respond
        self._server: asyncio.Server | None = None
        self.connections = 0
        self.requests = 0
        self.closed = asyncio.Event()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    def url(self, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.port}/"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                await reader.readexactly(length)
                self.requests += 1
                if not await self._respond(writer):
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass
        finally:
            # On TLS this sends close_notify before the TCP end.
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
            self.closed.set()


@pytest.fixture
async def peer(server_tls: ssl.SSLContext) -> AsyncIterator[Callable[..., Awaitable[TlsPeer]]]:
    peers: list[TlsPeer] = []

    async def start(respond: Respond, context: ssl.SSLContext = server_tls) -> TlsPeer:
        serving = TlsPeer(context, respond)
        await serving.start()
        peers.append(serving)
        return serving

    yield start
    for serving in peers:
        await serving.stop()


def head(length: int | None = None, *, extra: str = "") -> bytes:
    """A 200 response head: chunked unless `length` is given."""
    framing = "transfer-encoding: chunked" if length is None else f"content-length: {length}"
    return (
        f"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n{framing}\r\n{extra}\r\n"
    ).encode()


def chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def openai_provider(client: httpx.AsyncClient, base_url: str, **settings: Any) -> OpenAIProvider:
    config = ProviderConfig(kind="openai", base_url=base_url, **{**TEST_SETTINGS, **settings})
    return OpenAIProvider("tls", config, client, SecretStr("sk-test"), backoff_base_s=0.01)


# --- streams ---------------------------------------------------------------------------------


def sse_body() -> list[bytes]:
    """Several MB of events: thousands of small ones with large ones among them."""
    pieces = []
    for index in range(40):
        small = b"".join(b'data: {"n": %d}\n\n' % (index * 500 + n) for n in range(500))
        large = b"data: " + bytes([65 + index % 26]) * (100_000 + index) + b"\n\n"
        pieces += [small, large]
    return pieces


async def test_a_large_event_stream_over_tls_is_read_whole(http: httpx.AsyncClient, peer) -> None:
    pieces = sse_body()
    sent = b"".join(pieces)
    assert len(sent) > 16 * HIGH_WATER_BYTES  # several MB

    async def stream(writer: asyncio.StreamWriter) -> bool:
        writer.write(head())
        for piece in pieces:
            writer.write(chunk(piece))
            await writer.drain()
        writer.write(chunk(b""))
        await writer.drain()
        return True

    serving = await peer(stream)
    received = bytearray()
    async with http.stream("GET", serving.url()) as response:
        async for index, piece in aenumerate(response.aiter_bytes()):
            received += piece
            if index % 4 == 0:
                # A reader slower than the server: the TLS transport's reading pauses and resumes.
                await asyncio.sleep(0.002)
    assert bytes(received) == sent
    events = SSEParser().feed(bytes(received))
    assert len(events) == 40 * 501
    assert events[-1].data == chr(65 + 39 % 26) * (100_000 + 39)
    assert [e.data for e in events[:2]] == ['{"n": 0}', '{"n": 1}']
    assert serving.connections == 1


async def aenumerate(items: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, bytes]]:
    index = 0
    async for item in items:
        yield index, item
        index += 1


async def test_a_host_name_that_resolves_to_ipv6_first_falls_back_to_ipv4(
    http: httpx.AsyncClient, peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def hello(writer: asyncio.StreamWriter) -> bool:
        writer.write(head(5) + b"hello")
        return True

    serving = await peer(hello)
    loop = asyncio.get_running_loop()
    resolve = loop.getaddrinfo

    async def both_loopbacks(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        # As on hosts where localhost is ::1 and 127.0.0.1; the server listens on IPv4 only.
        if host != "localhost":
            return await resolve(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("::1", port, 0, 0)),
            (socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr(loop, "getaddrinfo", both_loopbacks)
    response = await http.get(serving.url("localhost"))
    assert response.text == "hello"
    assert response.extensions["http_version"] == b"HTTP/1.1"


# --- certificates ----------------------------------------------------------------------------


async def test_a_certificate_for_another_host_name_is_refused_clearly(
    ca: trustme.CA, trusting: ssl.SSLContext, peer
) -> None:
    other = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("api.other.example").configure_cert(other)
    serving = await peer(_never_asked, other)
    async with new_http_client(verify=trusting) as client:
        provider = openai_provider(client, f"{serving.url()}v1")
        with pytest.raises(UntrustedServerError) as caught:
            await complete(provider, ask("gpt"))
    message = caught.value.message
    assert "certificate" in message
    assert "127.0.0.1" in message
    assert not caught.value.retryable
    assert serving.requests == 0


async def test_a_certificate_from_an_untrusted_issuer_is_refused_clearly(
    server_tls: ssl.SSLContext, peer
) -> None:
    serving = await peer(_never_asked, server_tls)
    # The production client as it is: the test CA is not among those it trusts.
    async with new_http_client() as client:
        provider = openai_provider(client, f"{serving.url()}v1")
        with pytest.raises(UntrustedServerError) as caught:
            await complete(provider, ask("gpt"))
    assert "certificate" in caught.value.message
    assert not caught.value.retryable
    assert serving.requests == 0


async def _never_asked(writer: asyncio.StreamWriter) -> bool:
    raise AssertionError("a request arrived over a connection the client should have refused")


async def test_a_server_that_never_answers_the_tls_handshake_is_a_connect_timeout(
    http: httpx.AsyncClient,
) -> None:
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # holds the TCP connection open and says nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with pytest.raises(httpx.ConnectTimeout):
            await http.get(f"https://127.0.0.1:{port}/", timeout=httpx.Timeout(5.0, connect=0.3))
    finally:
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
    assert len(accepted) == 1


# --- timeouts and ends -----------------------------------------------------------------------


async def test_a_body_that_stalls_over_tls_times_out(http: httpx.AsyncClient, peer) -> None:
    release = asyncio.Event()

    async def stall(writer: asyncio.StreamWriter) -> bool:
        writer.write(head() + chunk(b"data: one\n\n"))
        await writer.drain()
        await release.wait()
        return False

    serving = await peer(stall)
    try:
        timeout = httpx.Timeout(5.0, read=0.3)
        async with http.stream("GET", serving.url(), timeout=timeout) as response:
            pieces = response.aiter_bytes()
            assert await anext(pieces) == b"data: one\n\n"
            with pytest.raises(httpx.ReadTimeout):
                await anext(pieces)
    finally:
        release.set()


@pytest.mark.parametrize("how", ["close_notify", "abort"])
@pytest.mark.parametrize("framing", ["chunked", "content-length"])
async def test_a_tls_connection_closed_mid_body_is_an_error_not_a_short_body(
    http: httpx.AsyncClient, peer, how: str, framing: str
) -> None:
    first = b"data: one\n\n"

    async def cut(writer: asyncio.StreamWriter) -> bool:
        if framing == "chunked":
            writer.write(head() + chunk(first))
        else:
            writer.write(head(1000) + first)
        await writer.drain()
        await asyncio.sleep(0.05)
        if how == "abort":
            writer.transport.abort()  # the TCP end without TLS's close_notify
        return False  # the peer closes with close_notify

    serving = await peer(cut)
    received = bytearray()
    async with http.stream("GET", serving.url()) as response:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            await read_into(received, response)
    assert bytes(received) == first


async def read_into(received: bytearray, response: httpx.Response) -> None:
    async for piece in response.aiter_bytes():
        received += piece


async def test_a_reply_cut_over_tls_is_a_cut_off_error_for_the_member(
    http: httpx.AsyncClient, peer
) -> None:
    async def cut(writer: asyncio.StreamWriter) -> bool:
        event = b'data: {"choices": [{"delta": {"content": "Half a"}}]}\n\n'
        writer.write(head() + chunk(event))
        await writer.drain()
        return False

    serving = await peer(cut)
    deltas: list[str] = []
    with pytest.raises(CutOffError):
        await collect(openai_provider(http, f"{serving.url()}v1"), ask("gpt"), deltas)
    assert deltas == ["Half a"]


# --- connections -----------------------------------------------------------------------------


async def test_requests_over_tls_share_one_connection_and_handshake(
    http: httpx.AsyncClient, peer
) -> None:
    body = b"data: hello\n\n" * 1000

    async def hello(writer: asyncio.StreamWriter) -> bool:
        writer.write(head() + chunk(body) + chunk(b""))
        await writer.drain()
        return True

    serving = await peer(hello)
    for _ in range(3):
        async with http.stream("GET", serving.url()) as response:
            assert b"".join([piece async for piece in response.aiter_bytes()]) == body
            tls = response.extensions["network_stream"].get_extra_info("ssl_object")
            assert tls.selected_alpn_protocol() == "http/1.1"
    assert serving.requests == 3
    assert serving.connections == 1


async def test_a_kept_alive_tls_connection_the_server_closes_is_not_reused(
    http: httpx.AsyncClient, peer
) -> None:
    async def once(writer: asyncio.StreamWriter) -> bool:
        writer.write(head(5) + b"hello")
        await writer.drain()
        return False  # an idle keep-alive connection the server then closes

    serving = await peer(once)
    assert (await http.get(serving.url())).text == "hello"
    await serving.closed.wait()
    # The close_notify and the end reach the client while its connection sits in the pool.
    await asyncio.sleep(0.1)
    assert (await http.get(serving.url())).text == "hello"
    assert serving.connections == 2


async def test_a_connection_close_reply_over_tls_opens_a_new_connection_next(
    http: httpx.AsyncClient, peer
) -> None:
    async def closing(writer: asyncio.StreamWriter) -> bool:
        writer.write(head(5, extra="connection: close\r\n") + b"hello")
        await writer.drain()
        return True  # the server would keep it; the client must not

    serving = await peer(closing)
    for _ in range(2):
        assert (await http.get(serving.url())).text == "hello"
    assert serving.connections == 2


# --- end to end ------------------------------------------------------------------------------


async def test_an_openai_provider_streams_a_reply_from_the_fake_over_tls(
    server_tls: ssl.SSLContext, http: httpx.AsyncClient
) -> None:
    reply = " ".join(f"word{n}" for n in range(3000))
    async with FakeLLM(ssl_context=server_tls) as fake:
        fake.require_key("openai", "sk-test")
        # Writes that straddle event boundaries, as a proxy's buffering would.
        fake.script("gpt", reply=reply, chunk_bytes=997, chunk_pause_s=0.0)
        provider = openai_provider(http, fake.base_url("openai"))
        assert provider.base_url.startswith("https://127.0.0.1:")
        deltas: list[str] = []
        completion = await collect(provider, ask("gpt", max_tokens=10_000), deltas)
        again = await complete(provider, ask("gpt", max_tokens=10_000))
    assert completion.text == reply
    assert "".join(deltas) == reply
    assert completion.finish_reason == "stop"
    assert again.text == reply
    assert [r.header("authorization") for r in fake.requests_for("gpt")] == ["Bearer sk-test"] * 2


# --- proxies ---------------------------------------------------------------------------------


class ConnectProxy:
    """An HTTP proxy that tunnels `CONNECT host:port` and counts the tunnels."""

    def __init__(self) -> None:
        self.tunnels: list[str] = []
        self._server: asyncio.Server | None = None

    async def start(self) -> str:
        self._server = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        target = request.split()[1].decode()
        self.tunnels.append(target)
        host, port = target.rsplit(":", 1)
        up_reader, up_writer = await asyncio.open_connection(host, int(port))
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


@pytest.fixture
async def proxy(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ConnectProxy]:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    tunnel = ConnectProxy()
    yield tunnel
    await tunnel.stop()


async def _hello(writer: asyncio.StreamWriter) -> bool:
    writer.write(head(5) + b"hello")
    return True


@pytest.mark.parametrize("variable", ["HTTPS_PROXY", "ALL_PROXY"])
async def test_behind_a_proxy_httpx_routes_and_the_injected_trust_still_applies(
    trusting: ssl.SSLContext, peer, proxy: ConnectProxy, monkeypatch, variable: str
) -> None:
    serving = await peer(_hello)
    monkeypatch.setenv(variable, await proxy.start())
    async with new_http_client(verify=trusting) as client:
        assert not isinstance(client._transport, AsyncioTransport)
        assert (await client.get(serving.url())).text == "hello"
    assert proxy.tunnels == [f"127.0.0.1:{serving.port}"]


async def test_hosts_in_no_proxy_are_reached_directly(
    trusting: ssl.SSLContext, peer, proxy: ConnectProxy, monkeypatch
) -> None:
    serving = await peer(_hello)
    monkeypatch.setenv("HTTPS_PROXY", await proxy.start())
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with new_http_client(verify=trusting) as client:
        assert (await client.get(serving.url())).text == "hello"
    assert proxy.tunnels == []


async def test_a_proxy_for_a_scheme_httpx_does_not_route_keeps_the_asyncio_backend(
    trusting: ssl.SSLContext, peer, proxy: ConnectProxy, monkeypatch
) -> None:
    serving = await peer(_hello)
    monkeypatch.setenv("FTP_PROXY", await proxy.start())
    async with new_http_client(verify=trusting) as client:
        assert isinstance(client._transport, AsyncioTransport)
        assert (await client.get(serving.url())).text == "hello"
    assert proxy.tunnels == []
