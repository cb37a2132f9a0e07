"""Posting persona messages into a session's thread: as the persona, or as the bot.

With Manage Webhooks each reply goes through the channel's webhook under the persona's name
and avatar. Without it the bot posts the reply itself, as an embed whose author is the
persona, and tells the host once which permission would make it better.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import aiohttp
import discord

from bot.discord_ui.failures import (
    Action,
    DeliveryFailed,
    Failure,
    MessageGone,
    Request,
    ThreadBlocked,
    ThreadGone,
    classify,
    failed,
)
from bot.discord_ui.ratelimits import Spare
from bot.discord_ui.webhooks import WebhookChannel, WebhookPool
from bot.i18n import Text, t
from bot.render.messages import sanitise_username

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["Identity", "MessageGone", "PersonaPoster", "ThreadBlocked", "ThreadGone"]

NO_MENTIONS = discord.AllowedMentions.none()
# How aiohttp says a request failed while its body was written (so Discord never had it).
UNSENT_BODY = "Can not write request body"
# Pauses before sending a post or a final edit with the bot's token again after a passing
# fault: discord.py itself retries only 500/502/504/524 there (discord/http.py).
RETRY_DELAYS_S = (1.0, 3.0)
# discord.py's webhook adapter already tries every 5xx five times over about 25 s
# (discord/webhook/async_.py): trying those again would only hold the thread up longer.
_RETRIED_BY_DISCORD_PY: frozenset[Request] = frozenset({"webhook_post", "webhook_edit"})
# Posts Discord refused in a row, each after its retries, before the thread counts as blocked:
# the council would otherwise go on spending with nobody able to watch it.
REFUSALS_IN_A_ROW_MAX = 3


@dataclass(frozen=True)
class Identity:
    """How a persona appears: name, avatar and colour."""

    name: str
    avatar_url: str | None
    color: int


class PersonaPoster:
    """Sends and edits persona messages in one thread.

    Every failure is classified once (`bot.discord_ui.failures`): passing faults are retried,
    a missing webhook is recreated, no webhook at all moves posting to the bot, and what can't
    be delivered raises `DeliveryFailed` (`MessageGone`, `ThreadBlocked`, `ThreadGone`).
    """

    def __init__(
        self,
        *,
        pool: WebhookPool,
        thread: discord.Thread,
        on_fallback: Callable[[Text], Awaitable[None]],
        house: Identity,
    ) -> None:
        self._pool = pool
        self.thread = thread
        self.house = house
        self._on_fallback = on_fallback
        self._uses_webhook = True
        self._names: dict[str, str] = {}
        self._refusals = 0

    @property
    def parent(self) -> WebhookChannel | None:
        """The channel holding the webhook (the thread's parent)."""
        parent = self.thread.parent
        return parent if isinstance(parent, WebhookChannel) else None

    def username(self, identity: Identity) -> str:
        """The persona's webhook username: valid for Discord and distinct within the session."""
        if identity.name not in self._names:
            taken = set(self._names.values())
            self._names[identity.name] = sanitise_username(identity.name, taken)
        return self._names[identity.name]

    async def send(
        self, identity: Identity, content: str, *, view: discord.ui.View | None = None
    ) -> int:
        """Post a message as the persona; return its id."""
        if self._uses_webhook:
            try:
                message = await self._webhook_call(
                    "webhook_post",
                    lambda hook: hook.send(
                        content,
                        username=self.username(identity),
                        avatar_url=identity.avatar_url or discord.utils.MISSING,
                        thread=self.thread,
                        wait=True,
                        allowed_mentions=NO_MENTIONS,
                        view=view or discord.utils.MISSING,
                        # A reply full of links would otherwise unfurl into a wall of previews.
                        suppress_embeds=True,
                    ),
                )
                return message.id
            except _NoWebhook:
                pass
        sent = await self._deliver(
            "bot_post",
            lambda: self.thread.send(
                embed=self._embed(identity, content),
                view=view or discord.utils.MISSING,
                allowed_mentions=NO_MENTIONS,
            ),
        )
        return sent.id

    async def announce(
        self,
        content: str | None = None,
        *,
        embed: discord.Embed | None = None,
        files: Sequence[discord.File] = (),
        view: discord.ui.View | None = None,
    ) -> int:
        """Post as the bot (round headers, notices, the summary); return the message id.

        If the bot lost Send Messages here, the webhook still can post, under the bot's name,
        but without `view`: a webhook the bot made may carry only link buttons.
        """
        try:
            sent = await self._deliver(
                "bot_post",
                lambda: self.thread.send(
                    content,
                    embed=embed or discord.utils.MISSING,
                    files=list(files) or discord.utils.MISSING,
                    view=view or discord.utils.MISSING,
                    allowed_mentions=NO_MENTIONS,
                ),
                files,
            )
            return sent.id
        except ThreadBlocked as exc:
            if not self._uses_webhook or isinstance(exc, _RefusedInARow):
                raise
            log.warning("can't post in thread %d (%s); using the webhook", self.thread.id, exc)
        for file in files:
            file.reset()
        try:
            message = await self._webhook_call(
                "webhook_post",
                lambda hook: hook.send(
                    content or discord.utils.MISSING,
                    username=self.username(self.house),
                    avatar_url=self.house.avatar_url or discord.utils.MISSING,
                    thread=self.thread,
                    wait=True,
                    embed=embed or discord.utils.MISSING,
                    files=list(files) or discord.utils.MISSING,
                    allowed_mentions=NO_MENTIONS,
                ),
                files,
            )
        except _NoWebhook as exc:
            raise ThreadBlocked(
                Failure(Action.BLOCKED, "the bot can no longer post in this thread")
            ) from exc
        return message.id

    async def edit(
        self,
        message_id: int,
        identity: Identity,
        content: str | None,
        *,
        view: discord.ui.View | None = None,
        is_progress: bool = False,
    ) -> None:
        """Replace a persona message's text and buttons (`content` None keeps the text).

        A progress edit (streaming) is not retried: the next one supersedes it.
        """
        text = discord.utils.MISSING if content is None else content
        if self._uses_webhook:
            try:
                await self._webhook_call(
                    "webhook_edit",
                    lambda hook: hook.edit_message(
                        message_id,
                        content=text,
                        thread=self.thread,
                        allowed_mentions=NO_MENTIONS,
                        view=view,
                    ),
                    is_progress=is_progress,
                )
                return
            except _NoWebhook as exc:
                # Only the webhook that posted a message can edit it.
                raise MessageGone(
                    Failure(Action.REPOST, "the webhook that posted it can't be used")
                ) from exc
        partial = self.thread.get_partial_message(message_id)
        embed = discord.utils.MISSING if content is None else self._embed(identity, content)
        await self._deliver(
            "bot_edit",
            lambda: partial.edit(embed=embed, view=view, allowed_mentions=NO_MENTIONS),
            is_progress=is_progress,
        )

    async def close_view(self, message_id: int, view: discord.ui.View) -> None:
        """Replace the buttons of a message the bot posted (`announce`), keeping its text."""
        partial = self.thread.get_partial_message(message_id)
        await self._deliver("bot_edit", lambda: partial.edit(view=view))

    def spare_requests(self) -> Spare | None:
        """What the webhook may still send before its window resets (None: not known yet)."""
        parent = self.parent
        if not self._uses_webhook or parent is None:
            return None
        return self._pool.spare(parent.id)

    async def _webhook_call(
        self,
        request: Request,
        call: Callable[[discord.Webhook], Awaitable[T]],
        files: Sequence[discord.File] = (),
        *,
        is_progress: bool = False,
    ) -> T:
        parent = self.parent
        if parent is None:
            raise _NoWebhook
        for attempt in (1, 2):
            try:
                hook = await self._deliver(
                    "webhook_create", lambda: self._pool.get(parent), is_progress=is_progress
                )
                return await self._deliver(
                    request, functools.partial(call, hook), files, is_progress=is_progress
                )
            except DeliveryFailed as exc:
                action = exc.failure.action
                if action is Action.RECREATE_WEBHOOK and attempt == 1:
                    log.warning("webhook in channel %d is gone; recreating it", parent.id)
                    self._pool.forget(parent.id)
                    continue
                if action is Action.NO_WEBHOOK and self._uses_webhook:
                    await self._fall_back(exc.failure.reason)
                    raise _NoWebhook from exc
                raise
        raise DeliveryFailed(Failure(Action.GIVE_UP, "the webhook could not be recreated"))

    async def _deliver(
        self,
        request: Request,
        call: Callable[[], Awaitable[T]],
        files: Sequence[discord.File] = (),
        *,
        is_progress: bool = False,
    ) -> T:
        """Make one request, retrying passing faults unless it is a progress edit."""
        delays = iter(() if is_progress or request in _RETRIED_BY_DISCORD_PY else RETRY_DELAYS_S)
        while True:
            try:
                result = await resend_on_reset(call, files)
            except Exception as exc:  # every failure is classified here
                failure = classify(exc, request)
                if failure.is_unexpected:
                    raise
                if failure.action is Action.RETRY and (delay := next(delays, None)) is not None:
                    log.warning("%s failed (%s); trying again", request, failure.reason)
                    await asyncio.sleep(max(delay, failure.retry_after_s))
                    for file in files:
                        file.reset()
                    continue
                if not is_progress:
                    self._count_refusal(failure)
                raise failed(failure) from exc
            self._refusals = 0
            return result

    def _count_refusal(self, failure: Failure) -> None:
        if failure.action not in (Action.RETRY, Action.GIVE_UP):
            return  # a way around it follows (recreate, repost, post as the bot) or it ends
        self._refusals += 1
        if self._refusals >= REFUSALS_IN_A_ROW_MAX:
            self._refusals = 0
            raise _RefusedInARow(
                Failure(
                    Action.BLOCKED,
                    f"Discord refused {REFUSALS_IN_A_ROW_MAX} messages in a row "
                    f"(last: {failure.reason})",
                )
            )

    async def _fall_back(self, reason: str) -> None:
        self._uses_webhook = False
        await self._on_fallback(t("council.posting-as-bot", reason=reason))

    @staticmethod
    def _embed(identity: Identity, content: str) -> discord.Embed:
        embed = discord.Embed(description=content, color=identity.color)
        embed.set_author(name=identity.name, icon_url=identity.avatar_url)
        return embed


async def resend_on_reset(
    call: Callable[[], Awaitable[T]], files: Sequence[discord.File] = ()
) -> T:
    """Make a request; if the connection broke while it was being sent, send it once more.

    A kept-alive connection the server has just closed fails while the request is written,
    before Discord has seen it (discord.py retries only a reset with errno 54/10054), so one
    more try on a fresh connection is safe. Any other failure, such as a reset after the
    request went out, may follow a request Discord acted on, and is not retried.
    """
    try:
        return await call()
    except aiohttp.ClientOSError as exc:
        if UNSENT_BODY not in str(exc):
            raise
        log.warning("connection broke while sending (%s); sending once more", exc)
        for file in files:
            file.reset()
        return await call()


class _NoWebhook(Exception):
    """The webhook can't be used (no permission); post as the bot instead."""


class _RefusedInARow(ThreadBlocked):
    """Discord took none of the last few posts: nobody can follow the council any more."""
