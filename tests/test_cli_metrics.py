"""`council-bot run` with metrics: served on the port the operator chose, refused in one line
when it can't be; the real command in a subprocess against the fake Discord."""

from __future__ import annotations

import asyncio
import socket

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.ports import free_port
from tests.test_cli_errors import WRONG_TOKEN, _council_bot, _env, _interrupt, _start

METRICS = {
    "council_councils_running",
    "council_rounds_completed",
    "council_model_calls",
    "council_model_first_token_seconds",
    "council_model_call_seconds",
    "council_model_tokens",
    "council_model_spend_usd",
    "council_discord_requests",
    "council_discord_rate_limited",
    "council_discord_request_failures",
    "council_vote_ack_seconds",
    "council_event_loop_lag_seconds",
    "council_event_loop_lag_last_seconds",
}


async def _healthy(client: httpx.AsyncClient, process: asyncio.subprocess.Process) -> dict:
    """The /healthz report once it says 200 (30 s at most)."""
    for _ in range(300):
        if process.returncode is not None:
            raise AssertionError("council-bot ended early")
        try:
            response = await client.get("/healthz")
        except httpx.TransportError:
            response = None
        if response is not None and response.status_code == 200:
            return response.json()
        await asyncio.sleep(0.1)
    raise AssertionError("/healthz never said 200")


async def test_run_serves_metrics_and_health_on_the_port_its_option_names(
    tmp_path, fake_discord, discord_driver
):
    discord_driver.create_guild("Ours")
    port = free_port()
    env = _env(
        tmp_path,
        DISCORD_TOKEN=fake_discord.token,
        DISCORD_API_BASE=fake_discord.api_base,
        DISCORD_GATEWAY_URL=fake_discord.gateway_url,
        LOG_LEVEL="WARNING",
        # The option wins over the environment.
        METRICS_PORT=str(free_port()),
    )
    process = await _start(tmp_path, env, "run", "--metrics-port", str(port))
    lines: list[str] = []
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            report = await _healthy(client, process)
            scraped = (await client.get("/metrics")).text
    finally:
        code = await _interrupt(process, lines)

    assert report["gateway"] == "connected"
    assert report["store"] == "ok"
    assert report["shards"]["0"]["connected"] is True
    families = {f.name: f for f in text_string_to_metric_families(scraped)}
    assert set(families) >= METRICS
    [running] = families["council_councils_running"].samples
    assert running.value == 0
    assert families["council_discord_requests"].samples  # logging in took requests
    assert code == 130
    assert not any("Traceback" in line for line in lines), lines


async def test_a_metrics_port_in_use_stops_run_in_one_line(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN)

        result = await _council_bot(tmp_path, env, "run", "--metrics-port", str(port))

    assert result.returncode == 2
    assert result.one_line() == (
        f"council-bot: Can't serve metrics on 127.0.0.1:{port}: the port is in use; choose "
        "another (METRICS_PORT or --metrics-port)."
    )


async def test_a_metrics_port_option_that_is_no_port_is_one_line(tmp_path):
    env = _env(tmp_path, DISCORD_TOKEN=WRONG_TOKEN)

    result = await _council_bot(tmp_path, env, "run", "--metrics-port", "http")

    assert result.returncode == 2
    assert result.one_line() == (
        "council-bot run: argument --metrics-port: must be a port from 1 to 65535, not 'http' "
        "(see `council-bot run --help`)"
    )
