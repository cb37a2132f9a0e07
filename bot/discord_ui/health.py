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
                {
                    shard_id: ShardHealth(
                        is_connected=client.is_ready() and not shard.is_closed(),
                        latency_s=shard.latency,
                    )
                    for shard_id, shard in client.shards.items()
                }
            )
        # discord.py keeps the last websocket while it reconnects; it is open only while
        # connected, and the client is ready once that connection identified or resumed.
        ws = client.ws
        is_connected = ws is not None and ws.open and client.is_ready()
        return GatewayHealth({client.shard_id or 0: ShardHealth(is_connected, client.latency)})
