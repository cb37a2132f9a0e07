"""The gateway's health as `/healthz` reports it, read from the running discord.py client."""

from __future__ import annotations

import discord

from bot.metrics_server import GatewayHealth, ShardHealth


class GatewayWatch:
    """Reports on the client `council-bot run` is serving with now (it makes a fresh one for
    each attempt to connect); disconnected while there is none."""

    def __init__(self) -> None:
        self.client: discord.Client | None = None

    def __call__(self) -> GatewayHealth:
        """The gateway's health now: each shard's connection and heartbeat latency."""
        client = self.client
        if client is None or client.is_closed():
            return GatewayHealth()
        if isinstance(client, discord.AutoShardedClient):
            return GatewayHealth(
                {shard_id: _shard_health(client, shard_id) for shard_id in _shard_ids(client)}
            )
        # discord.py keeps the last websocket while it reconnects; it is open only while
        # connected, and the client is ready once that connection identified or resumed.
        ws = client.ws
        is_connected = ws is not None and ws.open and client.is_ready()
        return GatewayHealth({client.shard_id or 0: ShardHealth(is_connected, client.latency)})


def _shard_ids(client: discord.AutoShardedClient) -> list[int]:
    """The shards the client is to run, launched yet or not."""
    if client.shard_ids is not None:
        return list(client.shard_ids)
    return list(range(client.shard_count or 0)) or list(client.shards)


def _shard_health(client: discord.AutoShardedClient, shard_id: int) -> ShardHealth:
    """One shard on its own: the client is ready only once every shard is, which says
    nothing of those already connected. discord.py keeps a shard's websocket while it
    reconnects; it is open only while connected. A shard not launched yet has none."""
    shard = client.get_shard(shard_id)
    if shard is None:
        return ShardHealth(is_connected=False, latency_s=None)
    return ShardHealth(is_connected=not shard.is_closed(), latency_s=shard.latency)
