"""Pointing the unmodified discord.py client at a fake (or proxy) Discord."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import discord.gateway
import discord.http
import yarl


def point_discord_py_at(api_base: str, gateway_url: str) -> None:
    """Send discord.py's REST calls (webhooks too) to `api_base`, its gateway to `gateway_url`.

    `api_base` includes the version, e.g. ``http://127.0.0.1:8080/api/v10``: it replaces
    `discord.http.Route.BASE`, which the webhook adapter uses too. A non-sharded client connects
    straight to `DiscordWebSocket.DEFAULT_GATEWAY` without asking `GET /gateway/bot`.
    """
    discord.http.Route.BASE = api_base.rstrip("/")
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


@contextmanager
def pointed_at(api_base: str, gateway_url: str) -> Iterator[None]:
    """`point_discord_py_at` for a block, restoring Discord's own URLs afterwards."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    point_discord_py_at(api_base, gateway_url)
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway
