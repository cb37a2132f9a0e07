"""What a member sees: messages rendered with author name and avatar, embeds and buttons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tests.fakediscord.rules import walk_components
from tests.fakediscord.state import Channel, Message, Perm, Pings, User

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord


class DriverError(AssertionError):
    """A test asked the driver for something a real user could not do or see."""


@dataclass(frozen=True)
class SeenButton:
    """A button as shown: its label, style and whether it can be clicked."""

    label: str | None
    custom_id: str | None
    style: int
    disabled: bool
    url: str | None = None
    emoji: str | None = None


@dataclass(frozen=True)
class SeenMessage:
    """One message as a member's client shows it."""

    id: int
    author_name: str
    author_avatar_url: str
    is_bot: bool
    is_webhook: bool
    content: str
    embeds: tuple[dict[str, Any], ...]
    buttons: tuple[SeenButton, ...]
    attachments: tuple[str, ...]
    is_ephemeral: bool
    is_loading: bool
    is_edited: bool
    pings: Pings
    message: Message

    def button(self, label_or_custom_id: str) -> SeenButton:
        """The button with this label or custom id."""
        for button in self.buttons:
            if label_or_custom_id in (button.label, button.custom_id):
                return button
        raise DriverError(f"no button {label_or_custom_id!r} on message {self.id}: {self.buttons}")

    def __str__(self) -> str:
        parts = [f"{self.author_name}: {self.content}"]
        parts += [
            f"  [embed] {e.get('title', '')} {e.get('description', '')}".rstrip()
            for e in self.embeds
        ]
        parts += [f"  [button{' disabled' if b.disabled else ''}] {b.label}" for b in self.buttons]
        return "\n".join(parts)


def _author(fake: FakeDiscord, message: Message) -> tuple[str, str]:
    if message.webhook_id is not None and message.webhook_id != fake.application_id:
        name = message.username or message.author.username
        avatar = message.avatar_url or message.author.shown_avatar_url
        return name, avatar
    user: User = message.author
    member = fake.world.member(message.guild_id, user.id)
    name = member.display_name if member is not None else user.display_name
    return name, user.shown_avatar_url


def see(fake: FakeDiscord, message: Message) -> SeenMessage:
    """Render one message as a member sees it."""
    name, avatar = _author(fake, message)
    buttons = tuple(
        SeenButton(
            label=c.get("label"),
            custom_id=c.get("custom_id"),
            style=int(c.get("style", 1)),
            disabled=bool(c.get("disabled", False)),
            url=c.get("url"),
            emoji=(c.get("emoji") or {}).get("name"),
        )
        for c in walk_components(message.components)
        if c.get("type") == 2
    )
    return SeenMessage(
        id=message.id,
        author_name=name,
        author_avatar_url=avatar,
        is_bot=message.author.bot,
        is_webhook=message.webhook_id is not None,
        content=message.content,
        embeds=tuple(message.embeds),
        buttons=buttons,
        attachments=tuple(a.filename for a in message.attachments),
        is_ephemeral=message.is_ephemeral,
        is_loading=message.is_loading,
        is_edited=message.edited_at is not None,
        pings=message.pings,
        message=message,
    )


def can_see(fake: FakeDiscord, channel: Channel, user_id: int) -> bool:
    """Whether the member can view the channel (threads follow their parent)."""
    perms = fake.world.permissions_in(channel, user_id)
    return bool(perms & Perm.VIEW_CHANNEL)


def read(fake: FakeDiscord, channel: Channel, as_user: User) -> list[SeenMessage]:
    """A channel or thread as the member sees it: oldest first, others' ephemerals hidden."""
    if not can_see(fake, channel, as_user.id):
        raise DriverError(f"{as_user.username} cannot view #{channel.name}")
    return [
        see(fake, m)
        for m in fake.world.channel_messages(channel.id)
        if not m.is_ephemeral
        or (m.interaction_user is not None and m.interaction_user.id == as_user.id)
    ]
