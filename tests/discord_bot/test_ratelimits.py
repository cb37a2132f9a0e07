"""Webhook rate windows are read from Discord's headers, on the client's own session."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.discord_ui.ratelimits import GlobalPacer, WebhookBudgets, discord_trace

LIMIT, WINDOW_S = 5, 2.0


@pytest.fixture
async def discord_like() -> AsyncIterator[str]:
    """A server answering webhook requests with a fixed window of 5 per 2 s, as Discord does.

    `GET /api/arrivals` lists when each request arrived, by kind ("bot" or "webhook").
    """
    used: dict[str, int] = {}
    arrivals: list[tuple[str, float]] = []

    @web.middleware
    async def stamp(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != "/api/arrivals":
            is_bot = request.headers.get("Authorization", "").startswith("Bot ")
            arrivals.append(("bot" if is_bot else "webhook", time.monotonic()))
        return await handler(request)

    async def execute(request: web.Request) -> web.Response:
        hook = request.match_info["hook"]
        used[hook] = used.get(hook, 0) + 1
        headers = {
            "X-RateLimit-Limit": str(LIMIT),
            "X-RateLimit-Remaining": str(max(0, LIMIT - used[hook])),
            "X-RateLimit-Reset-After": f"{WINDOW_S:.3f}",
        }
        return web.json_response({"id": "1"}, headers=headers)

    async def unrelated(request: web.Request) -> web.Response:
        return web.json_response({}, headers={"X-RateLimit-Remaining": "0"})

    async def arrived(request: web.Request) -> web.Response:
        return web.json_response(arrivals)

    app = web.Application(middlewares=[stamp])
    app.router.add_get("/api/arrivals", arrived)
    app.router.add_post("/api/webhooks/{hook}/{token}", execute)
    app.router.add_patch("/api/webhooks/{hook}/{token}/messages/{message}", execute)
    app.router.add_post("/api/channels/{channel}/messages", unrelated)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield f"http://127.0.0.1:{port}/api"
    await runner.cleanup()


async def test_each_webhook_window_is_counted_from_its_responses(discord_like):
    budgets = WebhookBudgets()
    trace = discord_trace(budgets, GlobalPacer())
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:
        assert budgets.spare(11) is None
        for _ in range(3):
            await (await session.post(f"{discord_like}/webhooks/11/tok-a")).read()
        await (await session.patch(f"{discord_like}/webhooks/11/tok-a/messages/9")).read()
        await (await session.post(f"{discord_like}/webhooks/22/tok-b")).read()
        await (await session.post(f"{discord_like}/channels/11/messages")).read()

    first, second = budgets.spare(11), budgets.spare(22)
    assert first is not None
    assert second is not None
    assert first.remaining == 1  # execute and edit share the webhook's bucket
    assert second.remaining == 4
    assert 0 < first.resets_in <= WINDOW_S


async def test_bot_requests_are_spaced_under_the_global_limit_and_webhooks_never_wait(
    discord_like,
):
    rate, burst = 50.0, 5
    trace = discord_trace(WebhookBudgets(), GlobalPacer(rate_per_s=rate, burst=burst))
    bot = {"Authorization": "Bot token"}
    async with aiohttp.ClientSession(trace_configs=[trace]) as session:

        async def call(url: str, headers: dict[str, str]) -> None:
            await (await session.post(url, headers=headers)).read()

        await asyncio.gather(
            *(call(f"{discord_like}/channels/1/messages", bot) for _ in range(30)),
            *(call(f"{discord_like}/webhooks/7/tok", {}) for _ in range(10)),
        )
        seen = await (await session.get(f"{discord_like}/arrivals")).json()

    bots = sorted(at for kind, at in seen if kind == "bot")
    hooks = [at for kind, at in seen if kind == "webhook"]
    assert len(bots) == 30
    # The bucket lets `burst` go at once, then one per 1/rate s: never faster.
    for i, at in enumerate(bots):
        assert at - bots[0] >= (i - burst) / rate - 0.005
    assert max(hooks) < bots[-1]


async def test_a_loop_busy_past_many_slots_lets_only_a_burst_go_at_once():
    rate, burst = 50.0, 2
    pacer = GlobalPacer(rate_per_s=rate, burst=burst)
    gone: list[float] = []

    async def request() -> None:
        await pacer.acquire()
        gone.append(time.monotonic())

    waiting = [asyncio.create_task(request()) for _ in range(10)]
    await asyncio.sleep(0)  # the first `burst` go, the rest wait for their slots
    time.sleep(0.3)  # the loop is busy well past every waiting request's slot
    await asyncio.gather(*waiting)
    # Counted from when they went, not from when they asked: never faster than the bucket.
    for i, at in enumerate(gone[burst:]):
        assert at - gone[burst] >= (i - burst + 1) / rate - 0.005
