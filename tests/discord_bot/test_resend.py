"""A request whose kept-alive connection broke while it was sent goes out once more."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest

from bot.discord_ui.posting import resend_on_reset


async def test_a_request_that_broke_while_being_written_is_sent_again_with_its_files():
    attachment = discord.File(io.BytesIO(b"transcript"), filename="council-1.md")
    bodies: list[bytes] = []

    async def send() -> int:
        bodies.append(attachment.fp.read())
        if len(bodies) == 1:
            raise aiohttp.ClientOSError(None, "Can not write request body for http://x/")
        return 42

    assert await resend_on_reset(send, [attachment]) == 42
    assert bodies == [b"transcript", b"transcript"]


@pytest.mark.parametrize(
    "failure",
    [
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientOSError(104, "Connection reset by peer"),
    ],
    ids=["disconnected", "reset-after-sending"],
)
async def test_a_request_that_may_have_reached_discord_is_not_sent_twice(failure):
    calls = 0

    async def send() -> int:
        nonlocal calls
        calls += 1
        raise failure

    with pytest.raises(type(failure)):
        await resend_on_reset(send)
    assert calls == 1
