"""Composite payloads built from several world objects (guilds, interactions)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tests.fakediscord.state import Channel, Guild, Interaction, Member, iso, now_utc

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024


def guild_json(guild: Guild) -> dict[str, Any]:
    """The guild object without channels and members (REST GET /guilds/{id})."""
    return {
        "id": str(guild.id),
        "name": guild.name,
        "icon": None,
        "splash": None,
        "discovery_splash": None,
        "banner": None,
        "description": None,
        "owner_id": str(guild.owner_id),
        "roles": [r.to_json() for r in guild.roles.values()],
        "emojis": [],
        "stickers": [],
        "features": [],
        "afk_channel_id": None,
        "afk_timeout": 300,
        "system_channel_id": None,
        "system_channel_flags": 0,
        "rules_channel_id": None,
        "public_updates_channel_id": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "nsfw_level": 0,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "premium_progress_bar_enabled": False,
        "preferred_locale": guild.preferred_locale,
        "vanity_url_code": None,
        "max_members": 500000,
        "application_id": None,
    }


def guild_create(fake: FakeDiscord, guild: Guild) -> dict[str, Any]:
    """GUILD_CREATE: every role, channel, active thread and member.

    `member_count` equals the members sent, or discord.py waits for member chunks.
    """
    channels = [fake.world.channels[c] for c in guild.channel_ids if c in fake.world.channels]
    data = guild_json(guild)
    data.update(
        unavailable=False,
        large=False,
        joined_at=iso(now_utc()),
        member_count=len(guild.members),
        members=[m.to_json() for m in guild.members.values()],
        channels=[c.to_json() for c in channels if not c.is_thread],
        threads=[c.to_json() for c in channels if c.is_thread and not c.archived],
        presences=[],
        voice_states=[],
        stage_instances=[],
        guild_scheduled_events=[],
        soundboard_sounds=[],
    )
    return data


def interaction_json(
    fake: FakeDiscord, interaction: Interaction, member: Member, channel: Channel
) -> dict[str, Any]:
    """INTERACTION_CREATE: everything discord.py reads (a missing key kills its gateway task)."""
    perms = fake.world.permissions_in(channel, member.user.id)
    guild = fake.world.guilds[interaction.guild_id]
    member_data = member.to_json()
    member_data["permissions"] = str(perms)
    data: dict[str, Any] = {
        "id": str(interaction.id),
        "type": interaction.type,
        "token": interaction.token,
        "version": 1,
        "application_id": str(fake.application_id),
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
        "data": interaction.data,
        "guild_id": str(interaction.guild_id),
        "guild": {
            "id": str(interaction.guild_id),
            "locale": guild.preferred_locale,
            "features": [],
        },
        "guild_locale": guild.preferred_locale,
        "locale": member.user.locale,
        "channel_id": str(channel.id),
        "channel": {**channel.to_json(), "permissions": str(perms)},
        "member": member_data,
        "app_permissions": str(fake.world.permissions_in(channel, fake.bot_user.id)),
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(interaction.guild_id)},
        "context": 0,
    }
    if interaction.message_id is not None:
        message = fake.world.messages[interaction.message_id]
        data["message"] = message.to_json()
    return data
