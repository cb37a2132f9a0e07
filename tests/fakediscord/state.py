"""The fake Discord's world: users, guilds, channels, messages, webhooks, commands, interactions.

Objects are plain mutable dataclasses owned by one `World`; `to_json` methods render them in the
shapes Discord's API and gateway use, which is what discord.py parses.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
import string
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, IntFlag
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
CDN = "https://cdn.discordapp.com"
# discord.py's webhook URL pattern accepts tokens of [A-Za-z0-9._-]; Discord's are 68 chars.
WEBHOOK_TOKEN_ALPHABET = string.ascii_letters + string.digits + "_-"
WEBHOOK_TOKEN_LEN = 68


class Perm(IntFlag):
    """Discord permission bits the fake checks or that tests commonly grant."""

    CREATE_INSTANT_INVITE = 1 << 0
    KICK_MEMBERS = 1 << 1
    BAN_MEMBERS = 1 << 2
    ADMINISTRATOR = 1 << 3
    MANAGE_CHANNELS = 1 << 4
    MANAGE_GUILD = 1 << 5
    ADD_REACTIONS = 1 << 6
    VIEW_CHANNEL = 1 << 10
    SEND_MESSAGES = 1 << 11
    MANAGE_MESSAGES = 1 << 13
    EMBED_LINKS = 1 << 14
    ATTACH_FILES = 1 << 15
    READ_MESSAGE_HISTORY = 1 << 16
    MENTION_EVERYONE = 1 << 17
    USE_EXTERNAL_EMOJIS = 1 << 18
    CHANGE_NICKNAME = 1 << 26
    MANAGE_ROLES = 1 << 28
    MANAGE_WEBHOOKS = 1 << 29
    USE_APPLICATION_COMMANDS = 1 << 31
    MANAGE_THREADS = 1 << 34
    CREATE_PUBLIC_THREADS = 1 << 35
    CREATE_PRIVATE_THREADS = 1 << 36
    SEND_MESSAGES_IN_THREADS = 1 << 38

    @classmethod
    def all(cls) -> Perm:
        """Every bit: what administrators and guild owners effectively have."""
        return cls((1 << 53) - 1)


# What @everyone gets in a new guild, roughly Discord's default.
DEFAULT_EVERYONE_PERMS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.ADD_REACTIONS
    | Perm.USE_APPLICATION_COMMANDS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.CREATE_PRIVATE_THREADS
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.CHANGE_NICKNAME
    | Perm.CREATE_INSTANT_INVITE
)


class ChannelType(IntEnum):
    """Channel types the fake serves."""

    TEXT = 0
    CATEGORY = 4
    PUBLIC_THREAD = 11
    PRIVATE_THREAD = 12
    FORUM = 15

    @property
    def is_thread(self) -> bool:
        """Whether channels of this type are threads."""
        return self in (ChannelType.PUBLIC_THREAD, ChannelType.PRIVATE_THREAD)


class MessageFlag(IntFlag):
    """Message flag bits the fake uses."""

    SUPPRESS_EMBEDS = 1 << 2
    EPHEMERAL = 1 << 6
    LOADING = 1 << 7
    SUPPRESS_NOTIFICATIONS = 1 << 12


class Snowflakes:
    """Generates increasing snowflakes from the wall clock, like Discord's (18-19 digits)."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._last = 0

    def next(self) -> int:
        """A new id, strictly greater than every id returned before."""
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        value = (ms << 22) | (next(self._counter) & 0xFFF)
        self._last = max(value, self._last + 1)
        return self._last

    def next_in_shard(self, shard_id: int, shard_count: int) -> int:
        """A new id of a guild whose events go to this shard: ``(id >> 22) % count == shard_id``.

        The shard is read from the id's timestamp, so the id is taken a few milliseconds ahead.
        """
        value = self.next()
        ms = value >> 22
        ms += (shard_id - ms) % shard_count
        self._last = max(self._last, ms << 22)
        return self._last


def iso(dt: datetime) -> str:
    """Discord's timestamp format."""
    return dt.isoformat()


def now_utc() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def default_avatar_url(user_id: int) -> str:
    """The CDN URL Discord uses for a user without an avatar."""
    return f"{CDN}/embed/avatars/{(user_id >> 22) % 6}.png"


def avatar_hash(url: str) -> str:
    """A stable stand-in for the hash Discord gives an uploaded avatar."""
    return hashlib.md5(url.encode(), usedforsecurity=False).hexdigest()


@dataclass
class User:
    """A Discord user or bot account."""

    id: int
    username: str
    global_name: str | None = None
    avatar_url: str | None = None
    bot: bool = False
    # The language the member's client is set to; Discord sends it with each interaction.
    locale: str = "en-US"

    @property
    def display_name(self) -> str:
        """The name shown when the user has no guild nickname."""
        return self.global_name or self.username

    @property
    def shown_avatar_url(self) -> str:
        """The avatar image a member's client would show."""
        return self.avatar_url or default_avatar_url(self.id)

    def to_json(self) -> dict[str, Any]:
        """The user object."""
        return {
            "id": str(self.id),
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": avatar_hash(self.avatar_url) if self.avatar_url else None,
            "bot": self.bot,
            "public_flags": 0,
            "flags": 0,
        }


@dataclass
class Role:
    """A guild role; the @everyone role's id is the guild's id."""

    id: int
    guild_id: int
    name: str
    permissions: int
    position: int = 0
    mentionable: bool = False
    managed: bool = False
    color: int = 0

    def to_json(self) -> dict[str, Any]:
        """The role object."""
        return {
            "id": str(self.id),
            "name": self.name,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": False,
            "icon": None,
            "unicode_emoji": None,
            "position": self.position,
            "permissions": str(self.permissions),
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }


@dataclass
class Member:
    """A user's membership in a guild."""

    user: User
    guild_id: int
    roles: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: datetime = field(default_factory=now_utc)

    @property
    def display_name(self) -> str:
        """The name other members see."""
        return self.nick or self.user.display_name

    def to_json(self, *, with_user: bool = True) -> dict[str, Any]:
        """The guild member object."""
        data: dict[str, Any] = {
            "roles": [str(r) for r in self.roles],
            "nick": self.nick,
            "avatar": None,
            "banner": None,
            "joined_at": iso(self.joined_at),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.user.to_json()
        return data


@dataclass
class Overwrite:
    """A channel permission overwrite for a role (type 0) or a member (type 1)."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_json(self) -> dict[str, Any]:
        """The overwrite object."""
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class Channel:
    """A guild channel or thread."""

    id: int
    guild_id: int
    type: ChannelType
    name: str
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    # Thread fields.
    owner_id: int | None = None
    archived: bool = False
    locked: bool = False
    auto_archive_duration: int = 1440
    created_at: datetime = field(default_factory=now_utc)
    message_count: int = 0
    applied_tags: list[int] = field(default_factory=list)
    message_ids: list[int] = field(default_factory=list)
    last_message_id: int | None = None

    @property
    def is_thread(self) -> bool:
        """Whether this channel is a thread."""
        return self.type.is_thread

    def to_json(self) -> dict[str, Any]:
        """The channel object, as in GUILD_CREATE and REST responses."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": int(self.type),
            "guild_id": str(self.guild_id),
            "name": self.name,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": str(self.last_message_id) if self.last_message_id else None,
            "rate_limit_per_user": 0,
            "flags": 0,
            "nsfw": False,
        }
        if self.is_thread:
            data.update(
                owner_id=str(self.owner_id) if self.owner_id else None,
                message_count=self.message_count,
                total_message_sent=self.message_count,
                member_count=1,
                applied_tags=[str(t) for t in self.applied_tags],
                thread_metadata={
                    "archived": self.archived,
                    "locked": self.locked,
                    "auto_archive_duration": self.auto_archive_duration,
                    "archive_timestamp": iso(self.created_at),
                    "create_timestamp": iso(self.created_at),
                    "invitable": True,
                },
            )
            return data
        data.update(
            position=self.position,
            permission_overwrites=[o.to_json() for o in self.overwrites],
            topic=self.topic,
            default_auto_archive_duration=1440,
            default_thread_rate_limit_per_user=0,
        )
        if self.type == ChannelType.FORUM:
            data.update(
                available_tags=[],
                default_reaction_emoji=None,
                default_sort_order=None,
                default_forum_layout=0,
            )
        return data


@dataclass
class Webhook:
    """A channel webhook; `application_id` is set when the bot's application created it."""

    id: int
    token: str
    guild_id: int
    channel_id: int
    name: str
    creator_id: int
    application_id: int | None = None
    avatar_url: str | None = None

    def to_json(self, creator: User | None, *, with_token: bool = True) -> dict[str, Any]:
        """The webhook object."""
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": 1,
            "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "name": self.name,
            "avatar": avatar_hash(self.avatar_url) if self.avatar_url else None,
            "application_id": str(self.application_id) if self.application_id else None,
        }
        if creator is not None:
            data["user"] = creator.to_json()
        if with_token:
            data["token"] = self.token
        return data


@dataclass(frozen=True)
class Pings:
    """Who a message would really notify, after `allowed_mentions` and permissions."""

    users: frozenset[int] = frozenset()
    roles: frozenset[int] = frozenset()
    everyone: bool = False
    here: bool = False

    @property
    def any(self) -> bool:
        """Whether the message notifies anyone by mention."""
        return bool(self.users or self.roles or self.everyone or self.here)


@dataclass
class Attachment:
    """A file uploaded with a message; the bytes are kept so tests can read them."""

    id: int
    filename: str
    content_type: str
    data: bytes
    description: str | None = None

    def to_json(self, channel_id: int) -> dict[str, Any]:
        """The attachment object."""
        url = f"{CDN}/attachments/{channel_id}/{self.id}/{self.filename}"
        return {
            "id": str(self.id),
            "filename": self.filename,
            "description": self.description,
            "content_type": self.content_type,
            "size": len(self.data),
            "url": url,
            "proxy_url": url,
        }


@dataclass
class Message:
    """A message in a channel or thread."""

    id: int
    channel_id: int
    guild_id: int
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    created_at: datetime = field(default_factory=now_utc)
    edited_at: datetime | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    # Webhook executions may override the shown name and avatar per message.
    username: str | None = None
    avatar_url: str | None = None
    interaction_id: int | None = None
    interaction_user: User | None = None
    interaction_type: int | None = None
    allowed_mentions: dict[str, Any] | None = None
    pings: Pings = field(default_factory=Pings)
    mentioned_users: list[User] = field(default_factory=list)
    message_reference: dict[str, Any] | None = None

    @property
    def is_ephemeral(self) -> bool:
        """Whether only the interaction's user can see this message."""
        return bool(self.flags & MessageFlag.EPHEMERAL)

    @property
    def is_loading(self) -> bool:
        """Whether this is a deferred interaction's "thinking" placeholder."""
        return bool(self.flags & MessageFlag.LOADING)

    def to_json(self, member: Member | None = None) -> dict[str, Any]:
        """The message object; `member` adds the author's guild member for gateway events."""
        author = self.author.to_json()
        if self.webhook_id is not None:
            author["bot"] = True
            author["discriminator"] = "0000"
            if self.username is not None:
                author["username"] = self.username
                author["global_name"] = None
            if self.avatar_url is not None:
                author["avatar"] = avatar_hash(self.avatar_url)
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "channel_id": str(self.channel_id),
            "guild_id": str(self.guild_id),
            "author": author,
            "content": self.content,
            "timestamp": iso(self.created_at),
            "edited_timestamp": iso(self.edited_at) if self.edited_at else None,
            "tts": False,
            "mention_everyone": self.pings.everyone or self.pings.here,
            "mentions": [u.to_json() for u in self.mentioned_users],
            "mention_roles": [str(r) for r in sorted(self.pings.roles)],
            "mention_channels": [],
            "attachments": [a.to_json(self.channel_id) for a in self.attachments],
            "embeds": self.embeds,
            "components": self.components,
            "pinned": False,
            "flags": self.flags,
        }
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        if self.interaction_id is not None:
            data["interaction_metadata"] = {
                "id": str(self.interaction_id),
                "type": self.interaction_type,
                "user": self.interaction_user.to_json() if self.interaction_user else None,
                "authorizing_integration_owners": {},
            }
        if member is not None and self.webhook_id is None:
            data["member"] = member.to_json(with_user=False)
        return data


LOCALIZED_FIELDS = ("name", "description")


def kept_by_discord(item: dict[str, Any]) -> dict[str, Any]:
    """A command, option or choice as Discord stores it: localized texts that repeat the default
    are dropped (docs: application-commands, Localization: "Any localized values that are
    identical to the default will be ignored")."""
    kept = dict(item)
    for name in LOCALIZED_FIELDS:
        localized = item.get(f"{name}_localizations")
        if isinstance(localized, dict):
            kept[f"{name}_localizations"] = {
                locale: text
                for locale, text in localized.items()
                if text is not None and text != item.get(name)
            }
    for key in ("options", "choices"):
        if isinstance(item.get(key), list):
            kept[key] = [kept_by_discord(o) if isinstance(o, dict) else o for o in item[key]]
    return kept


def localized_for(item: dict[str, Any], locale: str) -> dict[str, Any]:
    """`item` as a list of commands returns it by default: each localization dictionary replaced
    by ``name_localized``/``description_localized`` for one locale, where it has one (docs:
    application-commands, Retrieving localized commands)."""
    shown = {k: v for k, v in item.items() if not k.endswith("_localizations")}
    for name in LOCALIZED_FIELDS:
        text = (item.get(f"{name}_localizations") or {}).get(locale)
        if text is not None:
            shown[f"{name}_localized"] = text
    for key in ("options", "choices"):
        if isinstance(item.get(key), list):
            shown[key] = [localized_for(o, locale) if isinstance(o, dict) else o for o in item[key]]
    return shown


def is_named(item: dict[str, Any], word: str, locale: str) -> bool:
    """Whether a member whose client is in `locale` would pick `item` by typing `word`: its
    canonical name, or its name in that locale."""
    return word in (item.get("name"), (item.get("name_localizations") or {}).get(locale))


@dataclass
class Command:
    """An application command the bot registered (globally or for one guild)."""

    id: int
    application_id: int
    guild_id: int | None
    data: dict[str, Any]
    # Members a server admin let use the command whatever its default_member_permissions.
    permitted_user_ids: set[int] = field(default_factory=set)

    @property
    def name(self) -> str:
        """The command's canonical name (what interactions carry, whatever the locale)."""
        return str(self.data["name"])

    @property
    def type(self) -> int:
        """1 chat input, 2 user, 3 message."""
        return int(self.data.get("type", 1))

    def to_json(self, *, locale: str | None = None) -> dict[str, Any]:
        """The application command object: with every localization dictionary, as a sync
        returns it, or (given the requester's `locale`) as a plain list of commands does."""
        data = dict(self.data) if locale is None else localized_for(self.data, locale)
        data.setdefault("type", 1)
        data.setdefault("description", "")
        data.setdefault("options", [])
        data.setdefault("default_member_permissions", None)
        data.setdefault("nsfw", False)
        data.update(
            id=str(self.id),
            application_id=str(self.application_id),
            version=str(self.id),
        )
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        else:
            data.setdefault("contexts", None)
            data.setdefault("integration_types", [0])
        return data


@dataclass
class Interaction:
    """An interaction the driver created, and what the bot has done with it so far."""

    id: int
    token: str
    type: int
    guild_id: int
    channel_id: int
    user_id: int
    data: dict[str, Any]
    created_at_s: float
    message_id: int | None = None
    response_type: int | None = None
    original_message_id: int | None = None
    followup_ids: list[int] = field(default_factory=list)
    modal: dict[str, Any] | None = None
    # The suggestions the bot answered an autocomplete interaction with.
    choices: list[dict[str, Any]] | None = None
    # After a deferred (type 5) response the first followup replaces the loading message.
    loading_pending: bool = False


@dataclass
class Guild:
    """A guild with its roles, members and channels."""

    id: int
    name: str
    owner_id: int
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channel_ids: list[int] = field(default_factory=list)
    # Server Settings > Community > Server Primary Language.
    preferred_locale: str = "en-US"

    @property
    def everyone(self) -> Role:
        """The @everyone role."""
        return self.roles[self.id]


def make_webhook_token() -> str:
    """A token shaped like Discord's (matches discord.py's webhook URL pattern)."""
    return "".join(secrets.choice(WEBHOOK_TOKEN_ALPHABET) for _ in range(WEBHOOK_TOKEN_LEN))


def make_interaction_token() -> str:
    """An interaction token; Discord's are long opaque strings of the same alphabet."""
    return "aW50ZXJhY3Rpb24" + "".join(secrets.choice(WEBHOOK_TOKEN_ALPHABET) for _ in range(150))


@dataclass
class World:
    """Everything the fake knows, indexed by id."""

    snowflakes: Snowflakes = field(default_factory=Snowflakes)
    users: dict[int, User] = field(default_factory=dict)
    guilds: dict[int, Guild] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    webhooks: dict[int, Webhook] = field(default_factory=dict)
    commands: dict[int, Command] = field(default_factory=dict)
    interactions: dict[int, Interaction] = field(default_factory=dict)

    def member(self, guild_id: int, user_id: int) -> Member | None:
        """A guild member, if the user is in the guild."""
        guild = self.guilds.get(guild_id)
        return None if guild is None else guild.members.get(user_id)

    def base_permissions(self, guild: Guild, user_id: int) -> int:
        """Guild-level permissions from @everyone and the member's roles."""
        if user_id == guild.owner_id:
            return int(Perm.all())
        member = guild.members.get(user_id)
        perms = guild.everyone.permissions
        if member is not None:
            for role_id in member.roles:
                role = guild.roles.get(role_id)
                if role is not None:
                    perms |= role.permissions
        if perms & Perm.ADMINISTRATOR:
            return int(Perm.all())
        return perms

    def permissions_in(self, channel: Channel, user_id: int) -> int:
        """Permissions after overwrites, as Discord documents it; threads use the parent's."""
        if channel.is_thread and channel.parent_id is not None:
            channel = self.channels[channel.parent_id]
        guild = self.guilds[channel.guild_id]
        perms = self.base_permissions(guild, user_id)
        if perms == int(Perm.all()):
            return perms
        member = guild.members.get(user_id)
        by_id = {o.id: o for o in channel.overwrites}
        everyone = by_id.get(guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role_id in member.roles if member else []:
            ow = by_id.get(role_id)
            if ow is not None and ow.type == 0:
                allow |= ow.allow
                deny |= ow.deny
        perms = (perms & ~deny) | allow
        own = by_id.get(user_id)
        if own is not None and own.type == 1:
            perms = (perms & ~own.deny) | own.allow
        return perms

    def channel_messages(self, channel_id: int) -> list[Message]:
        """A channel's live messages, oldest first."""
        channel = self.channels[channel_id]
        return [self.messages[m] for m in channel.message_ids if m in self.messages]
