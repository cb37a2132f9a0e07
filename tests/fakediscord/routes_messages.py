"""REST routes for channels, messages and threads, as the bot user calls them."""

from __future__ import annotations

from typing import Any

from tests.fakediscord import actions, rules
from tests.fakediscord.rules import DiscordError, Kind
from tests.fakediscord.server import Call, Reply, RouteSpec
from tests.fakediscord.state import Channel, ChannelType, Perm

THREAD_ALREADY_EXISTS = 160004


def _wrong_type(detail: str) -> DiscordError:
    return DiscordError(
        400,
        50024,
        "Cannot execute action on this channel type",
        kind=Kind.WRONG_CHANNEL_TYPE,
        detail=detail,
    )


def _bot_id(call: Call) -> int:
    return call.fake.bot_user.id


def _channel(call: Call) -> Channel:
    channel = actions.channel_or_404(call.fake, call.snowflake("channel_id"))
    actions.require(call.fake, channel, _bot_id(call), Perm.VIEW_CHANNEL)
    return channel


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


async def get_channel(call: Call) -> dict[str, Any]:
    """GET /channels/{channel_id}."""
    return _channel(call).to_json()


async def edit_channel(call: Call) -> dict[str, Any]:
    """PATCH /channels/{channel_id}: rename, or archive/lock a thread."""
    channel = _channel(call)
    body = _body(call)
    if "name" in body and channel.is_thread:
        rules.check_thread_name(body["name"])
    if channel.is_thread:
        only_archiving = set(body) <= {"archived", "auto_archive_duration"}
        if not (only_archiving and channel.owner_id == _bot_id(call)):
            actions.require(call.fake, channel, _bot_id(call), Perm.MANAGE_THREADS)
        channel.archived = bool(body.get("archived", channel.archived))
        channel.locked = bool(body.get("locked", channel.locked))
        channel.auto_archive_duration = int(
            body.get("auto_archive_duration", channel.auto_archive_duration)
        )
    else:
        actions.require(call.fake, channel, _bot_id(call), Perm.MANAGE_CHANNELS)
        channel.topic = body.get("topic", channel.topic)
    channel.name = str(body.get("name", channel.name))
    call.fake.dispatch(
        "THREAD_UPDATE" if channel.is_thread else "CHANNEL_UPDATE", channel.to_json()
    )
    return channel.to_json()


async def delete_channel(call: Call) -> dict[str, Any]:
    """DELETE /channels/{channel_id}."""
    channel = _channel(call)
    needed = Perm.MANAGE_THREADS if channel.is_thread else Perm.MANAGE_CHANNELS
    actions.require(call.fake, channel, _bot_id(call), needed)
    data = channel.to_json()
    actions.delete_channel(call.fake, channel)
    return data


async def list_messages(call: Call) -> list[dict[str, Any]]:
    """GET /channels/{channel_id}/messages, newest first (before/after/limit)."""
    channel = _channel(call)
    actions.require(call.fake, channel, _bot_id(call), Perm.READ_MESSAGE_HISTORY)
    query = call.request.query
    limit = min(100, int(query.get("limit", 50)))
    messages = [m for m in call.fake.world.channel_messages(channel.id) if not m.is_ephemeral]
    if "before" in query:
        messages = [m for m in messages if m.id < int(query["before"])]
    if "after" in query:
        messages = [m for m in messages if m.id > int(query["after"])][:limit]
    return [m.to_json() for m in reversed(messages[-limit:])]


async def create_message(call: Call) -> dict[str, Any]:
    """POST /channels/{channel_id}/messages as the bot."""
    channel = _channel(call)
    if channel.type in (ChannelType.FORUM, ChannelType.CATEGORY):
        raise DiscordError(
            400,
            50008,
            "Cannot send messages in a non-text channel",
            kind=Kind.WRONG_CHANNEL_TYPE,
            detail=f"#{channel.name}",
        )
    needed = Perm.SEND_MESSAGES_IN_THREADS if channel.is_thread else Perm.SEND_MESSAGES
    if call.files:
        needed |= Perm.ATTACH_FILES
    if channel.is_thread and channel.locked:
        needed |= Perm.MANAGE_THREADS
    actions.require(call.fake, channel, _bot_id(call), needed)
    body = _body(call)
    rules.check_message(body, has_files=bool(call.files), is_edit=False)
    message = actions.new_message(call.fake, channel, call.fake.bot_user, body, call.files)
    return actions.store_message(call.fake, message).to_json()


async def get_message(call: Call) -> dict[str, Any]:
    """GET /channels/{channel_id}/messages/{message_id}."""
    channel = _channel(call)
    actions.require(call.fake, channel, _bot_id(call), Perm.READ_MESSAGE_HISTORY)
    return actions.message_or_404(call.fake, channel, call.snowflake("message_id")).to_json()


async def edit_message(call: Call) -> dict[str, Any]:
    """PATCH /channels/{channel_id}/messages/{message_id}: only the bot's own messages."""
    channel = _channel(call)
    message = actions.message_or_404(call.fake, channel, call.snowflake("message_id"))
    if message.author.id != _bot_id(call) or message.webhook_id is not None:
        raise DiscordError(
            403,
            50005,
            "Cannot edit a message authored by another user",
            kind=Kind.NOT_AUTHOR,
            detail=f"message {message.id}",
        )
    body = _body(call)
    rules.check_message(
        body,
        has_files=bool(call.files or message.attachments),
        is_edit=True,
        existing_has_content=False,
    )
    return actions.edit_message(call.fake, message, body, call.files).to_json()


async def delete_message(call: Call) -> None:
    """DELETE /channels/{channel_id}/messages/{message_id}: own, or with Manage Messages."""
    channel = _channel(call)
    message = actions.message_or_404(call.fake, channel, call.snowflake("message_id"))
    if message.author.id != _bot_id(call):
        actions.require(call.fake, channel, _bot_id(call), Perm.MANAGE_MESSAGES)
    actions.delete_message(call.fake, message)


async def thread_from_message(call: Call) -> Reply:
    """POST /channels/{channel_id}/messages/{message_id}/threads."""
    channel = _channel(call)
    if channel.is_thread or channel.type == ChannelType.FORUM:
        raise _wrong_type(f"#{channel.name} cannot hold message threads")
    message = actions.message_or_404(call.fake, channel, call.snowflake("message_id"))
    actions.require(call.fake, channel, _bot_id(call), Perm.CREATE_PUBLIC_THREADS)
    body = _body(call)
    rules.check_thread_name(body.get("name"))
    if message.id in call.fake.world.channels:
        raise DiscordError(
            400,
            THREAD_ALREADY_EXISTS,
            "A thread has already been created for this message",
            kind=Kind.WRONG_CHANNEL_TYPE,
            detail=f"message {message.id}",
        )
    thread = actions.create_thread(
        call.fake,
        channel,
        body["name"],
        owner=call.fake.bot_user,
        from_message=message,
        auto_archive_duration=int(body.get("auto_archive_duration", 1440)),
    )
    return Reply(thread.to_json(), 201)


async def create_thread(call: Call) -> Reply:
    """POST /channels/{channel_id}/threads: a standalone thread, or a forum post and its message."""
    channel = _channel(call)
    if channel.is_thread or channel.type not in (ChannelType.TEXT, ChannelType.FORUM):
        raise _wrong_type(f"#{channel.name} cannot hold threads")
    body = _body(call)
    rules.check_thread_name(body.get("name"))
    is_forum = channel.type == ChannelType.FORUM
    # Discord defaults standalone threads in text channels to private.
    thread_type = ChannelType.PUBLIC_THREAD if is_forum else ChannelType(int(body.get("type", 12)))
    needed = (
        Perm.CREATE_PUBLIC_THREADS
        if thread_type == ChannelType.PUBLIC_THREAD
        else (Perm.CREATE_PRIVATE_THREADS)
    )
    if is_forum:
        needed |= Perm.SEND_MESSAGES
    actions.require(call.fake, channel, _bot_id(call), needed)
    starter: dict[str, Any] | None = None
    if is_forum:
        raw = body.get("message")
        starter = raw if isinstance(raw, dict) else {}
        rules.check_message(starter, has_files=bool(call.files), is_edit=False)
    thread = actions.create_thread(
        call.fake,
        channel,
        body["name"],
        owner=call.fake.bot_user,
        thread_type=thread_type,
        auto_archive_duration=int(body.get("auto_archive_duration", 1440)),
    )
    thread.applied_tags = [int(t) for t in body.get("applied_tags") or []]
    data = thread.to_json()
    if starter is not None:
        message = actions.new_message(call.fake, thread, call.fake.bot_user, starter, call.files)
        # A forum post's starter message shares the thread's id.
        message.id = thread.id
        data["message"] = actions.store_message(call.fake, message).to_json()
    return Reply(data, 201)


async def join_thread(call: Call) -> None:
    """PUT /channels/{channel_id}/thread-members/@me."""
    channel = _channel(call)
    if not channel.is_thread:
        raise _wrong_type(f"#{channel.name} is not a thread")


async def trigger_typing(call: Call) -> None:
    """POST /channels/{channel_id}/typing."""
    _channel(call)


CH = "/channels/{channel_id}"
MSG = CH + "/messages/{message_id}"

ROUTES = [
    RouteSpec("GET", CH, get_channel, major="channel_id"),
    RouteSpec("PATCH", CH, edit_channel, major="channel_id"),
    RouteSpec("DELETE", CH, delete_channel, major="channel_id"),
    RouteSpec("GET", CH + "/messages", list_messages, major="channel_id"),
    RouteSpec(
        "POST", CH + "/messages", create_message, bucket="channel_messages", major="channel_id"
    ),
    RouteSpec("GET", MSG, get_message, major="channel_id"),
    RouteSpec("PATCH", MSG, edit_message, bucket="message_edit", major="channel_id"),
    RouteSpec("DELETE", MSG, delete_message, major="channel_id"),
    RouteSpec("POST", MSG + "/threads", thread_from_message, bucket="threads", major="channel_id"),
    RouteSpec("POST", CH + "/threads", create_thread, bucket="threads", major="channel_id"),
    RouteSpec("PUT", CH + "/thread-members/@me", join_thread, major="channel_id"),
    RouteSpec("POST", CH + "/typing", trigger_typing, major="channel_id"),
]
