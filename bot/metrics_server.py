"""`/metrics` and `/healthz` over HTTP, served from the bot's own event loop.

`serve_metrics` listens on the operator's `METRICS_HOST`:`METRICS_PORT` for as long as its
block runs, and samples the event loop's lag meanwhile. `/metrics` is the Prometheus text
format (OpenMetrics when the scraper asks for it); `/healthz` answers 200 while the gateway is
connected and the store answers, else 503, with what each check found and how long it took.
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.errors import UserFacingError
from bot.metrics import LoopLag, Metrics
from bot.store.store import Store

log = logging.getLogger(__name__)

# A store that takes longer than this to answer a trivial query is not healthy.
STORE_CHECK_TIMEOUT_S = 2.0


@dataclass(frozen=True, slots=True)
class ShardHealth:
    """One gateway connection: whether it is up, and its heartbeat latency (None before one)."""

    is_connected: bool
    latency_s: float | None


@dataclass(frozen=True, slots=True)
class GatewayHealth:
    """The gateway as the client sees it: connected when every shard it runs is."""

    shards: Mapping[int, ShardHealth] = field(default_factory=dict)

    @property
    def is_connected(self) -> bool:
        """Whether the client runs shards and every one of them is connected."""
        return bool(self.shards) and all(s.is_connected for s in self.shards.values())


class Health:
    """Answers `/healthz`: is the gateway connected, and does the store answer?"""

    def __init__(
        self,
        store: Store,
        gateway: Callable[[], GatewayHealth],
        *,
        store_timeout_s: float = STORE_CHECK_TIMEOUT_S,
    ) -> None:
        self.store = store
        self.gateway = gateway
        self.store_timeout_s = store_timeout_s

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Whether all is well, and the report: each check's finding and its time."""
        started = time.perf_counter()
        gateway = self.gateway()
        gateway_s = time.perf_counter() - started
        started = time.perf_counter()
        store = await self._check_store()
        store_s = time.perf_counter() - started
        report = {
            "gateway": "connected" if gateway.is_connected else "disconnected",
            "store": store,
            "shards": {
                str(shard_id): {"connected": s.is_connected, "latency_s": _finite(s.latency_s)}
                for shard_id, s in sorted(gateway.shards.items())
            },
            "check_s": {"gateway": round(gateway_s, 6), "store": round(store_s, 6)},
        }
        return gateway.is_connected and store == "ok", report

    async def _check_store(self) -> str:
        try:
            async with asyncio.timeout(self.store_timeout_s):
                # A lookup by primary key: the cheapest question every backend answers.
                await self.store.get_session(0)
        except TimeoutError:
            return f"error: no answer within {self.store_timeout_s:g} s"
        except Exception as exc:  # noqa: BLE001  (any failure is the finding)
            return f"error: {type(exc).__name__}: {exc}"
        return "ok"


def _finite(value: float | None) -> float | None:
    # JSON has no NaN: discord.py reports a latency of NaN before the first heartbeat.
    return None if value is None or not math.isfinite(value) else round(value, 6)


def metrics_app(metrics: Metrics, health: Health) -> web.Application:
    """The HTTP application: `GET /metrics` and `GET /healthz`."""

    async def healthz(request: web.Request) -> web.Response:
        is_healthy, report = await health.check()
        return web.json_response(report, status=200 if is_healthy else 503, dumps=json.dumps)

    app = web.Application()
    app.router.add_get("/metrics", make_aiohttp_handler(metrics.registry))
    app.router.add_get("/healthz", healthz)
    return app


@asynccontextmanager
async def serve_metrics(
    host: str, port: int, metrics: Metrics, health: Health
) -> AsyncIterator[tuple[str, int]]:
    """Serve `/metrics` and `/healthz` on `host`:`port` and sample the loop's lag, for the
    block's duration; yields the address listened on.

    Raises:
        UserFacingError: the address can't be listened on (the port is taken, say).
    """
    runner = web.AppRunner(metrics_app(metrics, health), access_log=None, handle_signals=False)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            raise _cant_listen(host, port, exc) from exc
        address: tuple[str, int] = runner.addresses[0][:2]
        log.info("serving /metrics and /healthz on http://%s:%d", *address)
        async with LoopLag(metrics):
            yield address
    finally:
        await runner.cleanup()


def _cant_listen(host: str, port: int, exc: OSError) -> UserFacingError:
    if exc.errno == errno.EADDRINUSE:
        reason = "the port is in use; choose another (METRICS_PORT or --metrics-port)"
    elif exc.errno == errno.EACCES:
        reason = "permission denied; choose a port above 1023"
    else:
        reason = exc.strerror or str(exc)
    return UserFacingError(f"Can't serve metrics on {host}:{port}: {reason}.")
