"""Changes to the world shared by REST routes and the driver, each followed by its gateway event.

Validation belongs to the caller (routes check Discord's rules first); these functions only
apply a change that is already allowed and tell the bot about it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakediscord import rules
from tests.fakediscord.rules import DiscordError, Kind
from tests.fakediscord.state import (
    Attachment,
    Channel,
    ChannelType,
    Message,
    MessageFlag,
    Perm,
    User,
    Webhook,
    make_webhook_token,
    now_utc,
)

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

# Flags a sender may set; Discord ignores (or rejects) the rest.
SETTABLE_FLAGS = (
    MessageFlag.SUPPRESS_EMBEDS
    | MessageFlag.EPHEMERAL
    | MessageFlag.SUPPRESS_NOTIFICATIONS
    | rules.IS_COMPONENTS_V2
)


def channel_or_404(fake: FakeDiscord, channel_id: int) -> Channel:
    """A live channel or thread, else Discord's 10003."""
    channel = fake.world.channels.get(channel_id)
    if channel is None:
        raise rules.unknown("channel")
    return channel


def message_or_404(fake: FakeDiscord, channel: Channel, message_id: int) -> Message:
    """A live message in this channel, else Discord's 10008."""
    message = fake.world.messages.get(message_id)
    if message is None or message.channel_id != channel.id:
        raise rules.unknown("message")
    return message


def require(fake: FakeDiscord, channel: Channel, user_id: int, needed: Perm) -> None:
    """Discord's permission check: 50001 without View Channel, 50013 for anything else missing."""
    have = fake.world.permissions_in(channel, user_id)
    if not have & Perm.VIEW_CHANNEL:
        raise DiscordError(
            403,
            50001,
            "Missing Access",
            kind=Kind.MISSING_ACCESS,
            detail=f"cannot view channel {channel.name}",
        )
    missing = Perm(needed & ~have)
    if missing:
        raise rules.missing_permissions(f"{missing!r} in #{channel.name}")


def normalise_embeds(embeds: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Embeds as Discord stores them (type "rich" unless given)."""
    return [{"type": "rich", **e} for e in embeds]


def pings_for(
    fake: FakeDiscord,
    channel: Channel,
    content: str,
    allowed: dict[str, Any] | None,
    *,
    author_id: int | None,
    is_webhook: bool,
    replied_user_id: int | None = None,
) -> tuple[Any, list[User]]:
    """Who the message would ping, and the mentioned users to list in its `mentions`."""
    guild = fake.world.guilds[channel.guild_id]
    can_everyone = is_webhook or (
        author_id is not None
        and bool(fake.world.permissions_in(channel, author_id) & Perm.MENTION_EVERYONE)
    )
    pings = rules.compute_pings(
        content,
        allowed,
        member_ids=set(guild.members),
        mentionable_roles={r.id for r in guild.roles.values() if r.mentionable},
        role_ids=set(guild.roles) - {guild.id},
        can_mention_everyone=can_everyone,
        replied_user_id=replied_user_id,
    )
    return pings, [fake.world.users[u] for u in sorted(pings.users)]


def new_message(
    fake: FakeDiscord,
    channel: Channel,
    author: User,
    body: dict[str, Any],
    files: list[Attachment],
    *,
    webhook: Webhook | None = None,
    message_type: int = 0,
    extra_flags: int = 0,
) -> Message:
    """Build (not store) a message from a request body."""
    flags = (int(body.get("flags") or 0) & SETTABLE_FLAGS) | extra_flags
    described = {str(a.get("id")): a for a in body.get("attachments") or [] if isinstance(a, dict)}
    for index, attachment in enumerate(files):
        meta = described.get(str(index))
        if meta is not None:
            attachment.description = meta.get("description")
    reference = body.get("message_reference")
    replied_user_id = None
    if isinstance(reference, dict) and reference.get("message_id"):
        referenced = fake.world.messages.get(int(reference["message_id"]))
        if referenced is not None and referenced.webhook_id is None:
            replied_user_id = referenced.author.id
    content = str(body.get("content") or "")
    allowed = body.get("allowed_mentions")
    pings, mentioned = pings_for(
        fake,
        channel,
        content,
        allowed,
        author_id=author.id,
        is_webhook=webhook is not None,
        replied_user_id=replied_user_id,
    )
    return Message(
        id=fake.world.snowflakes.next(),
        channel_id=channel.id,
        guild_id=channel.guild_id,
        author=author,
        content=content,
        embeds=normalise_embeds(body.get("embeds") or []),
        components=list(body.get("components") or []),
        attachments=files,
        flags=flags,
        type=message_type,
        webhook_id=webhook.id if webhook else None,
        application_id=webhook.application_id if webhook else None,
        username=body.get("username") if webhook else None,
        avatar_url=body.get("avatar_url") if webhook else None,
        allowed_mentions=allowed,
        pings=pings,
        mentioned_users=mentioned,
        message_reference=reference if isinstance(reference, dict) else None,
    )


def store_message(fake: FakeDiscord, message: Message) -> Message:
    """Add a message to its channel and tell the bot (ephemeral messages are not dispatched)."""
    channel = fake.world.channels[message.channel_id]
    fake.world.messages[message.id] = message
    channel.message_ids.append(message.id)
    channel.last_message_id = message.id
    if channel.is_thread:
        channel.message_count += 1
        if channel.archived and not channel.locked:
            # Sending into an archived thread unarchives it.
            channel.archived = False
            fake.dispatch("THREAD_UPDATE", channel.to_json())
    if not message.is_ephemeral:
        member = fake.world.member(message.guild_id, message.author.id)
        fake.dispatch("MESSAGE_CREATE", message.to_json(member))
    fake.notify()
    return message


def edit_message(
    fake: FakeDiscord, message: Message, body: dict[str, Any], files: list[Attachment]
) -> Message:
    """Apply an edit body (absent keys keep their value) and dispatch MESSAGE_UPDATE."""
    channel = fake.world.channels[message.channel_id]
    if "content" in body:
        message.content = str(body["content"] or "")
    if "embeds" in body:
        message.embeds = normalise_embeds(body["embeds"] or [])
    if "components" in body:
        message.components = list(body["components"] or [])
    if "flags" in body and body["flags"] is not None:
        keep = message.flags & (MessageFlag.EPHEMERAL | MessageFlag.LOADING)
        message.flags = (int(body["flags"]) & SETTABLE_FLAGS) | keep
    if "attachments" in body and body["attachments"] is not None:
        kept = {str(a.get("id")) for a in body["attachments"] if isinstance(a, dict)}
        message.attachments = [a for a in message.attachments if str(a.id) in kept]
    message.attachments.extend(files)
    if "allowed_mentions" in body:
        message.allowed_mentions = body["allowed_mentions"]
    message.pings, message.mentioned_users = pings_for(
        fake,
        channel,
        message.content,
        message.allowed_mentions,
        author_id=message.author.id,
        is_webhook=message.webhook_id is not None,
    )
    message.edited_at = now_utc()
    if not message.is_ephemeral:
        fake.dispatch("MESSAGE_UPDATE", message.to_json())
    fake.notify()
    return message


def delete_message(fake: FakeDiscord, message: Message) -> None:
    """Remove a message and dispatch MESSAGE_DELETE."""
    fake.world.messages.pop(message.id, None)
    if not message.is_ephemeral:
        fake.dispatch(
            "MESSAGE_DELETE",
            {
                "id": str(message.id),
                "channel_id": str(message.channel_id),
                "guild_id": str(message.guild_id),
            },
        )
    fake.notify()


def create_thread(
    fake: FakeDiscord,
    parent: Channel,
    name: str,
    *,
    owner: User,
    thread_type: ChannelType = ChannelType.PUBLIC_THREAD,
    from_message: Message | None = None,
    auto_archive_duration: int = 1440,
) -> Channel:
    """A thread under `parent` (its id is the starter message's when made from a message)."""
    thread_id = from_message.id if from_message is not None else fake.world.snowflakes.next()
    thread = Channel(
        id=thread_id,
        guild_id=parent.guild_id,
        type=thread_type,
        name=name,
        parent_id=parent.id,
        owner_id=owner.id,
        auto_archive_duration=auto_archive_duration,
    )
    fake.world.channels[thread.id] = thread
    fake.world.guilds[parent.guild_id].channel_ids.append(thread.id)
    data = thread.to_json()
    data["newly_created"] = True
    fake.dispatch("THREAD_CREATE", data)
    return thread


def delete_channel(fake: FakeDiscord, channel: Channel) -> None:
    """Delete a channel or thread (with its messages) and dispatch the matching event."""
    fake.world.channels.pop(channel.id, None)
    for message_id in channel.message_ids:
        fake.world.messages.pop(message_id, None)
    if channel.is_thread:
        fake.dispatch(
            "THREAD_DELETE",
            {
                "id": str(channel.id),
                "guild_id": str(channel.guild_id),
                "parent_id": str(channel.parent_id),
                "type": int(channel.type),
            },
        )
    else:
        fake.dispatch("CHANNEL_DELETE", channel.to_json())
    fake.notify()


def create_webhook(
    fake: FakeDiscord,
    channel: Channel,
    name: str,
    *,
    creator: User,
    application_id: int | None,
    avatar_url: str | None = None,
) -> Webhook:
    """A channel webhook with a Discord-shaped id and token; dispatches WEBHOOKS_UPDATE."""
    webhook = Webhook(
        id=fake.world.snowflakes.next(),
        token=make_webhook_token(),
        guild_id=channel.guild_id,
        channel_id=channel.id,
        name=name,
        creator_id=creator.id,
        application_id=application_id,
        avatar_url=avatar_url,
    )
    fake.world.webhooks[webhook.id] = webhook
    webhooks_updated(fake, channel)
    return webhook


def webhooks_updated(fake: FakeDiscord, channel: Channel) -> None:
    """Tell the bot a channel's webhooks changed."""
    fake.dispatch(
        "WEBHOOKS_UPDATE", {"guild_id": str(channel.guild_id), "channel_id": str(channel.id)}
    )
