"""An asyncio network backend for httpx: model streams read without per-read setup.

httpx reads through httpcore's anyio backend, which for every read enters a cancel scope for
the read timeout, turns the socket's reading on and off again (two `epoll_ctl` calls) and
returns one received chunk however many are waiting. A streamed reply is a read per token,
so that work is paid thousands of times a second in a busy process. Here each connection
keeps reading on (pausing only while `HIGH_WATER_BYTES` lie unread), a read returns
everything received so far, and read timeouts are enforced by one timer per connection that
is re-armed only when it fires early.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterable
from typing import Any, Final

import httpcore
import httpx

# Unread bytes a connection holds before it stops reading from the socket, and resumes at.
HIGH_WATER_BYTES: Final = 256 * 1024
LOW_WATER_BYTES: Final = 64 * 1024
# RFC 8305's recommended delay before racing the next address of a host.
HAPPY_EYEBALLS_DELAY_S: Final = 0.25

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class _Connection(asyncio.Protocol):
    """One connection's received bytes, end and errors, as the event loop reports them."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._chunks: list[bytes] = []
        self._size = 0
        self.is_eof = False
        self.error: Exception | None = None
        self._is_paused = False
        self._is_writable = True
        self._reader: asyncio.Future[None] | None = None
        self._writer: asyncio.Future[None] | None = None
        # The pending wait's deadline, and the one timer that enforces it.
        self._deadline = 0.0
        self._timer: asyncio.TimerHandle | None = None

    # --- what the event loop tells -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.Transport):
            self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._size += len(data)
        if self._size > HIGH_WATER_BYTES and not self._is_paused and self.transport is not None:
            self._is_paused = True
            self.transport.pause_reading()
        _wake(self._reader)

    def eof_received(self) -> bool:
        self.is_eof = True
        _wake(self._reader)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.is_eof = True
        self.error = exc
        _wake(self._reader)
        _wake(self._writer)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def pause_writing(self) -> None:
        self._is_writable = False

    def resume_writing(self) -> None:
        self._is_writable = True
        _wake(self._writer)

    # --- what the stream asks ------------------------------------------------------------

    @property
    def has_data(self) -> bool:
        return self._size > 0

    def take(self, max_bytes: int) -> bytes:
        """Up to `max_bytes` of what has been received, oldest first."""
        chunks = self._chunks
        data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        if len(data) > max_bytes:
            chunks.append(data[max_bytes:])
            data = data[:max_bytes]
        self._size -= len(data)
        if self._is_paused and self._size < LOW_WATER_BYTES and self.transport is not None:
            self._is_paused = False
            self.transport.resume_reading()
        return data

    async def wait_readable(self, limit_s: float | None) -> None:
        """Wait for data or the end; raise `httpcore.ReadTimeout` after `limit_s` seconds."""
        self._reader = self._loop.create_future()
        try:
            await self._wait(self._reader, limit_s, httpcore.ReadTimeout)
        finally:
            self._reader = None

    async def wait_writable(self, limit_s: float | None) -> None:
        """Wait until the transport takes writes again; `httpcore.WriteTimeout` after `limit_s`."""
        if self._is_writable or self.error is not None:
            return
        self._writer = self._loop.create_future()
        try:
            await self._wait(self._writer, limit_s, httpcore.WriteTimeout)
        finally:
            self._writer = None

    async def _wait(
        self, waiter: asyncio.Future[None], limit_s: float | None, error: type[Exception]
    ) -> None:
        if limit_s is not None:
            deadline = self._loop.time() + limit_s
            self._deadline = deadline
            timer = self._timer
            # Deadlines only move later for reads of one request, so the armed timer stays
            # and looks again when it fires; an earlier deadline needs a new one.
            if timer is None or timer.when() > deadline:
                if timer is not None:
                    timer.cancel()
                self._timer = self._loop.call_at(deadline, self._on_timer, error)
        await waiter

    def _on_timer(self, error: type[Exception]) -> None:
        self._timer = None
        waiter = self._reader or self._writer
        if waiter is None or waiter.done():
            return
        if self._loop.time() >= self._deadline:
            waiter.set_exception(error("timed out"))
        else:
            self._timer = self._loop.call_at(self._deadline, self._on_timer, error)

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class AsyncioStream(httpcore.AsyncNetworkStream):
    """A connection as httpcore reads and writes it."""

    def __init__(self, connection: _Connection) -> None:
        self._connection = connection

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:  # noqa: ASYNC109
        """What has arrived (up to `max_bytes`), waiting for some if none has; b"" at the end."""
        connection = self._connection
        if not connection.has_data and not connection.is_eof:
            await connection.wait_readable(timeout)
        if connection.has_data:
            return connection.take(max_bytes)
        if connection.error is not None:
            raise httpcore.ReadError(str(connection.error)) from connection.error
        return b""

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:  # noqa: ASYNC109
        """Send `buffer`, waiting while the transport's buffer is full."""
        connection = self._connection
        transport = connection.transport
        if not buffer:
            return
        if transport is None or transport.is_closing():
            raise httpcore.WriteError("the connection is closed")
        transport.write(buffer)
        await connection.wait_writable(timeout)

    async def aclose(self) -> None:
        """Close the connection."""
        self._connection.close()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
    ) -> httpcore.AsyncNetworkStream:
        """Upgrade this connection to TLS."""
        connection = self._connection
        transport = connection.transport
        if transport is None:
            raise httpcore.ConnectError("the connection is closed")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                upgraded = await loop.start_tls(
                    transport, connection, ssl_context, server_hostname=server_hostname
                )
        except TimeoutError:
            connection.close()
            raise httpcore.ConnectTimeout("the TLS handshake timed out") from None
        except (OSError, ssl.SSLError) as exc:
            connection.close()
            raise httpcore.ConnectError(str(exc)) from exc
        if upgraded is None:
            connection.close()
            raise httpcore.ConnectError("the connection closed during the TLS handshake")
        connection.transport = upgraded
        return self

    def get_extra_info(self, info: str) -> Any:
        """What httpcore asks of a connection; readability is known without a system call."""
        transport = self._connection.transport
        if info == "is_readable":
            # Reading never stops, so an idle connection's end or stray bytes are seen here.
            return self._connection.has_data or self._connection.is_eof
        if transport is None:
            return None
        names = {"client_addr": "sockname", "server_addr": "peername"}
        if info in ("ssl_object", "socket", "client_addr", "server_addr"):
            return transport.get_extra_info(names.get(info, info))
        return None


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Opens `AsyncioStream` connections on the running event loop."""

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A TCP connection to `host:port` (asyncio sets TCP_NODELAY)."""
        loop = asyncio.get_running_loop()
        local = (local_address, 0) if local_address else None
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_connection(
                    lambda: _Connection(loop),
                    host,
                    port,
                    local_addr=local,
                    happy_eyeballs_delay=HAPPY_EYEBALLS_DELAY_S,
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"connecting to {host}:{port} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _configured(transport, connection, socket_options)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  (httpcore's interface)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """A connection to a Unix socket."""
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                transport, connection = await loop.create_unix_connection(
                    lambda: _Connection(loop), path
                )
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"connecting to {path} timed out") from None
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        return _configured(transport, connection, socket_options)

    async def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's retries use it)."""
        await asyncio.sleep(seconds)


def _configured(
    transport: asyncio.BaseTransport,
    connection: _Connection,
    socket_options: Iterable[SocketOption] | None,
) -> AsyncioStream:
    sock = transport.get_extra_info("socket")
    for option in socket_options or ():
        sock.setsockopt(*option)
    return AsyncioStream(connection)


class AsyncioTransport(httpx.AsyncHTTPTransport):
    """httpx's HTTP/1.1 transport over `AsyncioBackend`; proxies are not its business."""

    def __init__(self, limits: httpx.Limits, *, verify: ssl.SSLContext | None = None) -> None:
        context = verify or httpx.create_ssl_context()
        super().__init__(verify=context, limits=limits)
        # httpx builds its connection pool on httpcore's default backend and offers no way
        # to choose another, so the pool is built again here the same way, on this one.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AsyncioBackend(),
        )
