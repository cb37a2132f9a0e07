"""What a failed Discord request means for a council: the one place that decides.

Every request the bot makes (webhook create, execute and edit; its own channel and thread
posts; thread creation; interaction replies) fails in one of a few ways, and each way has one
answer: try again after a pause, give this request up, post another way, or stop presenting
the session. `classify` gives that answer; `PersonaPoster` and the presenter act on it, and
nothing else catches Discord errors broadly.

Codes are Discord's JSON error codes:
https://discord.com/developers/docs/topics/opcodes-and-status-codes#json-json-error-codes
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

import aiohttp
import discord

from bot import graphemes

BRIEF_MAX = 120
"""How long Discord's own explanation may be in a note or a log line."""

UNKNOWN_CHANNEL = 10003
UNKNOWN_MESSAGE = 10008
UNKNOWN_WEBHOOK = 10015
MAX_WEBHOOKS = 30007
THREAD_ARCHIVED = 50083
THREAD_LOCKED = 160005

Request = Literal[
    "webhook_create",  # POST /channels/{id}/webhooks (or listing them)
    "webhook_post",  # executing the webhook into the thread
    "webhook_edit",  # editing a message the webhook posted
    "bot_post",  # the bot's own message in the thread or its parent
    "bot_edit",  # editing the bot's own message
    "thread_create",  # opening the council's thread
    "interaction",  # answering a slash command or a click
]


class Action(StrEnum):
    """What to do about a failed request."""

    RETRY = "retry"  # a passing fault (5xx, a 429 discord.py did not wait out, the network)
    GIVE_UP = "give_up"  # this request cannot succeed as sent (e.g. 50035): drop it
    REPOST = "repost"  # the message to edit is gone: post it anew
    RECREATE_WEBHOOK = "recreate_webhook"  # the webhook was deleted: make a new one
    NO_WEBHOOK = "no_webhook"  # no webhook can be had here: the bot posts as itself
    BLOCKED = "blocked"  # the bot cannot post in the thread now: interrupt, resumable
    GONE = "gone"  # the thread no longer exists: the session ends


@dataclass(frozen=True, slots=True)
class Failure:
    """One failed request, classified: what to do, and a line a host can act on."""

    action: Action
    reason: str
    retry_after_s: float = 0.0
    # True when the failure is not Discord's answer but an error in the bot (logged in full).
    is_unexpected: bool = False


class DeliveryFailed(Exception):
    """A request the bot gave up on; `failure` says why and what follows."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class MessageGone(DeliveryFailed):
    """The message can no longer be edited (deleted, or posted by a webhook since replaced)."""


class ThreadBlocked(DeliveryFailed):
    """The bot cannot post in the session's thread now; the session is interrupted."""


class ThreadGone(DeliveryFailed):
    """The session's thread no longer exists; the session ends."""


def failed(failure: Failure) -> DeliveryFailed:
    """The exception that carries a failure the caller could not handle."""
    kinds: dict[Action, type[DeliveryFailed]] = {
        Action.REPOST: MessageGone,
        Action.BLOCKED: ThreadBlocked,
        Action.GONE: ThreadGone,
    }
    return kinds.get(failure.action, DeliveryFailed)(failure)


def classify(exc: BaseException, request: Request) -> Failure:
    """The answer to one failed request."""
    if isinstance(exc, discord.HTTPException):
        return _http_failure(exc, request)
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        if request in ("webhook_post", "bot_post", "thread_create", "interaction"):
            # The request may have reached Discord before the connection broke, and a post is
            # not idempotent: sending it again could show it twice. (A body that was never
            # sent is sent again by `resend_on_reset` before this point.)
            return Failure(Action.GIVE_UP, f"the connection to Discord broke ({_brief(exc)})")
        return Failure(Action.RETRY, f"the connection to Discord broke ({_brief(exc)})")
    if isinstance(exc, asyncio.CancelledError):
        raise exc
    return Failure(Action.GIVE_UP, f"an unexpected error ({_brief(exc)})", is_unexpected=True)


# Answers fixed by Discord's code alone, whatever the request.
_BY_CODE: dict[int, tuple[Action, str]] = {
    UNKNOWN_CHANNEL: (Action.GONE, "the council's thread was deleted"),
    MAX_WEBHOOKS: (
        Action.NO_WEBHOOK,
        "this channel already has 15 webhooks, Discord's limit. Delete one you no longer use "
        "(channel settings → Integrations → Webhooks) and each persona will post under its "
        "own name and avatar again",
    ),
    THREAD_LOCKED: (Action.BLOCKED, "the thread is locked: unlock it, then `/council resume`"),
    THREAD_ARCHIVED: (Action.BLOCKED, "the thread is locked: unlock it, then `/council resume`"),
}
NO_MANAGE_WEBHOOKS = (
    "I can't manage webhooks in this channel. Give me **Manage Webhooks** here and each persona "
    "will post under its own name and avatar"
)
LOST_ACCESS = (
    "I'm not allowed to post in the council's thread any more: give me View Channel, Send "
    "Messages in Threads, Embed Links and Attach Files there, then `/council resume`"
)


def _http_failure(exc: discord.HTTPException, request: Request) -> Failure:
    code, status = exc.code, exc.status
    said = f"Discord answered {status}" + (f" (code {code})" if code else "")
    if status == 429 or status >= 500:
        # discord.py waits out a 429 itself; one without Cloudflare's `Via` header, or past
        # `max_ratelimit_timeout`, is raised. 5xx: discord.py already retried what it does.
        wait = exc.retry_after if isinstance(exc, discord.RateLimited) else 1.0
        trouble = "rate limited" if status == 429 else "Discord is having trouble"
        return Failure(Action.RETRY, f"{said}: {trouble}", wait if status == 429 else 0.0)
    if code in _BY_CODE:
        action, reason = _BY_CODE[code]
        return Failure(action, reason)
    if code == UNKNOWN_MESSAGE and request in ("webhook_edit", "bot_edit"):
        return Failure(Action.REPOST, f"{said}: the message is gone")
    if code == UNKNOWN_WEBHOOK and request.startswith("webhook"):
        return Failure(Action.RECREATE_WEBHOOK, f"{said}: the bot's webhook was deleted")
    if status == 403:
        is_webhook = request.startswith("webhook")
        return Failure(
            Action.NO_WEBHOOK if is_webhook else Action.BLOCKED,
            NO_MANAGE_WEBHOOKS if is_webhook else LOST_ACCESS,
        )
    if status == 404 and request != "interaction":
        return Failure(Action.GONE, f"{said}: the council's thread is gone")
    # 400s (50035 Invalid Form Body, 50006 empty message, 40005 too large, …), an expired
    # interaction (10062, 10015 on its webhook): the same request would be refused again.
    return Failure(Action.GIVE_UP, f"{said}: {_brief(exc)}")


def _brief(exc: BaseException) -> str:
    text = getattr(exc, "text", "") or str(exc) or type(exc).__name__
    line = " ".join(str(text).split())
    return graphemes.ellipsize(line, BRIEF_MAX)
