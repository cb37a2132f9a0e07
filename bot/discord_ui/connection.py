"""Reaching Discord at start: which failures mean "try again later", how long to wait, and
the one line for each failure an operator can fix.

discord.py retries a lost connection by itself, but not the first one: `Client.login` raises
when Discord can't be reached, and so does `CouncilBot.connect` when the first gateway
connection fails. `council-bot run` retries both with `reconnect_waits`, one line per attempt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Iterator

import aiohttp
import discord

from bot.errors import UserFacingError

# The first wait after a failed attempt, and the longest: a minute apart is soon enough to come
# back after an outage and rare enough to cost Discord nothing.
FIRST_WAIT_S = 1
MAX_WAIT_S = 60

# Failures that say nothing about the bot's setup: the network, or Discord, is down for now.
UNREACHABLE: tuple[type[BaseException], ...] = (
    OSError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    discord.DiscordServerError,
    discord.GatewayNotFound,
)


class DiscordUnreachableError(UserFacingError):
    """Discord could not be reached, or answered only with server errors."""


def reconnect_waits() -> Iterator[int]:
    """Seconds to wait before each next attempt: doubling from FIRST_WAIT_S up to MAX_WAIT_S."""
    wait = FIRST_WAIT_S
    while True:
        yield wait
        wait = min(wait * 2, MAX_WAIT_S)


def describe(exc: BaseException) -> str:
    """A short reason for a failure to reach Discord, without URLs' secrets or a traceback."""
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        # asyncio's connect errors carry a strerror naming the address again; a DNS failure's
        # errno is not an OS errno.
        if cause.errno and not isinstance(cause, socket.gaierror):
            reason = os.strerror(cause.errno)
        else:
            reason = cause.strerror or str(cause) or type(cause).__name__
        return f"can't connect to {exc.host}:{exc.port}: {reason}"
    if isinstance(exc, discord.DiscordServerError):
        return f"Discord answered {exc.status} {exc.response.reason}"
    if isinstance(exc, asyncio.TimeoutError):
        return "no answer in time"
    return str(exc) or type(exc).__name__


def unreachable_error(exc: BaseException) -> DiscordUnreachableError:
    """The one line for a command that tries once: Discord can't be reached, and what to do."""
    return DiscordUnreachableError(
        f"Can't reach Discord ({describe(exc)}): check the network (and DISCORD_API_BASE / "
        "DISCORD_GATEWAY_URL if set), then try again."
    )


# Close codes that refuse a session's sharding:
# https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
INVALID_SHARD = 4010
SHARDING_REQUIRED = 4011


def shards_refused(exc: discord.ConnectionClosed) -> UserFacingError | None:
    """The one line for a gateway that refused the bot's sharding; None for other closes."""
    if exc.code == INVALID_SHARD:
        return UserFacingError(
            f"Discord refused shard {exc.shard_id} (close code 4010, invalid shard): "
            "--shards must lie within --shard-count (SHARDS, SHARD_COUNT)."
        )
    if exc.code == SHARDING_REQUIRED:
        return UserFacingError(
            "Discord requires sharding (close code 4011): the bot is in too many servers for "
            "one shard. Run with --shards and --shard-count (see README, Running at scale)."
        )
    return None


def login_refused() -> UserFacingError:
    """The one line for a token Discord refuses (401 on login)."""
    return UserFacingError(
        "Discord refused DISCORD_TOKEN: it is wrong, or was reset in the developer portal. "
        "Copy the bot's token again (Bot > Reset Token) into .env."
    )


class ReconnectNotices(logging.Filter):
    """Turns discord.py's reconnect notice (ERROR with a traceback) into one warning line.

    Losing the connection now and then is expected and discord.py reconnects by itself; the
    traceback says nothing the reason doesn't. While `client` has never been connected the
    notice is dropped: discord.py does not reconnect then, and `council-bot run` tries again
    and says so itself. Install it only above DEBUG.
    """

    def __init__(self) -> None:
        super().__init__()
        self.client: discord.Client | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite discord.py's reconnect notices; drop them before a first connection."""
        if record.msg != "Attempting a reconnect in %.2fs" or not record.exc_info:
            return True
        if self.client is not None and self.client.ws is None:
            return False
        exc = record.exc_info[1]
        wait = record.args if isinstance(record.args, tuple) else ()
        record.msg = "Lost the connection to Discord (%s); reconnecting in %.1f s."
        record.args = (describe(exc) if exc else "no reason given", *wait)
        record.exc_info = None
        record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        # Now said in the bot's own words, it shows among the bot's own lines by default.
        record.name = __name__
        return True
