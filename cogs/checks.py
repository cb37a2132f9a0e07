"""Who may do what: hosts, admins, and the session a thread holds."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.audience import AudienceAction, audience_refusal
from bot.council.languages import find_language
from bot.council.models import GuildSettings, Session
from bot.errors import UserFacingError
from bot.i18n import t
from bot.store.store import Store


def require_guild(interaction: discord.Interaction[discord.Client]) -> discord.Guild:
    """The guild the command was used in; councils live in servers only."""
    if interaction.guild is None:
        raise UserFacingError(t("replies.checks.guild-only"))
    return interaction.guild


def is_host(user: discord.User | discord.Member, settings: GuildSettings) -> bool:
    """Hosts have Manage Threads, or one of the guild's host roles."""
    if not isinstance(user, discord.Member):
        return False
    if user.guild_permissions.manage_threads:
        return True
    return any(role.id in settings.host_role_ids for role in user.roles)


def ensure_host(user: discord.User | discord.Member, settings: GuildSettings) -> None:
    """Refuse a non-host with a reason they can act on."""
    if not is_host(user, settings):
        roles = ", ".join(f"<@&{r}>" for r in settings.host_role_ids)
        if roles:
            raise UserFacingError(t("replies.checks.hosts-only-or-roles", roles=roles))
        raise UserFacingError(t("replies.checks.hosts-only"))


def ensure_audience(
    user: discord.User | discord.Member, settings: GuildSettings, action: AudienceAction
) -> None:
    """Refuse a member the guild's voter role or minimum account age keeps from `action`."""
    roles = user.roles if isinstance(user, discord.Member) else []
    refusal = audience_refusal(settings, [role.id for role in roles], user.created_at, action)
    if refusal is not None:
        raise UserFacingError(refusal)


def ensure_manager(user: discord.User | discord.Member) -> None:
    """Refuse anyone without Manage Server."""
    if not isinstance(user, discord.Member) or not user.guild_permissions.manage_guild:
        raise UserFacingError(t("replies.checks.managers-only"))


async def session_here(interaction: discord.Interaction[discord.Client], store: Store) -> Session:
    """The council held in the thread this command was used in (this guild's only)."""
    guild = require_guild(interaction)
    channel = interaction.channel
    session = None
    if isinstance(channel, discord.Thread):
        session = await store.session_for_thread(channel.id)
    if session is None or session.guild_id != guild.id:
        raise UserFacingError(t("replies.checks.no-council-here"))
    return session


class CouncilChannel(app_commands.Transformer[discord.Client]):
    """A channel a council can open in: text, announcement or forum."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        """Shown to Discord as a channel picker."""
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        """Only the kinds of channel that hold threads."""
        return [discord.ChannelType.text, discord.ChannelType.news, discord.ChannelType.forum]

    async def transform(
        self, interaction: discord.Interaction[discord.Client], value: Any, /
    ) -> discord.TextChannel | discord.ForumChannel:
        """The picked channel from the cache."""
        resolved = value.resolve() if hasattr(value, "resolve") else value
        if not isinstance(resolved, discord.TextChannel | discord.ForumChannel):
            raise UserFacingError(t("replies.checks.pick-a-channel"))
        return resolved


ThreadParent = app_commands.Transform[discord.TextChannel | discord.ForumChannel, CouncilChannel]


# Discord allows 25 choices per option: its locales minus Bulgarian, Croatian, Danish, Finnish,
# Hungarian, Lithuanian and Norwegian (which presets can still set).
LANGUAGE_CHOICES = (
    "en-US", "en-GB", "de", "es-ES", "es-419", "fr", "it", "pt-BR", "nl", "pl", "ru", "uk",
    "tr", "cs", "el", "ro", "sv-SE", "hi", "id", "vi", "th", "ja", "ko", "zh-CN", "zh-TW",
)  # fmt: skip


def language_choices() -> list[app_commands.Choice[str]]:
    """The `language` option's choices, each shown in its own language and in English."""
    choices = []
    for code in LANGUAGE_CHOICES:
        language = find_language(code)
        if language is None:  # a typo in LANGUAGE_CHOICES; fail at import, not at a command
            raise LookupError(code)
        choices.append(
            app_commands.Choice(name=f"{language.native} ({language.name})", value=language.code)
        )
    return choices
