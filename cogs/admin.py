"""/council-admin: per-server settings, the audit log, and registering the slash commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.figures import money, number
from bot.council.models import GuildSettings
from bot.errors import UserFacingError
from bot.i18n import localize, t, tn
from cogs.audit import AuditCommands, AuditPageButton
from cogs.challenge_sets import ChallengeSetCommands
from cogs.checks import ThreadParent, ensure_manager, require_guild
from cogs.halts import HaltCommands
from cogs.moderation import ModerationCommands
from cogs.moderation_list import PolicyPageButton

if TYPE_CHECKING:
    from bot.app import CouncilBot


# Discord applies default permissions to whole groups only; members without Manage Server
# don't see /council-admin at all (and each command checks again).
@app_commands.default_permissions(manage_guild=True)
class AdminCog(
    AuditCommands,
    HaltCommands,
    ModerationCommands,
    ChallengeSetCommands,
    commands.GroupCog,
    group_name="council-admin",
):
    """Server settings for Council."""

    def __init__(self, bot: CouncilBot) -> None:
        self.bot = bot
        self.store = bot.store
        super().__init__()

    async def cog_load(self) -> None:
        """Make the audit log's page buttons work, also on pages sent before a restart."""
        self.bot.add_dynamic_items(AuditPageButton, PolicyPageButton)

    async def cog_unload(self) -> None:
        """Forget the page buttons with the cog."""
        self.bot.remove_dynamic_items(AuditPageButton, PolicyPageButton)

    @app_commands.command()
    @app_commands.guild_only()
    async def settings(  # noqa: PLR0912, PLR0917  (one slash option each; all optional)
        self,
        interaction: discord.Interaction[discord.Client],
        host_role: discord.Role | None = None,
        allowed_channel: ThreadParent | None = None,
        clear_channels: bool = False,
        default_preset: str | None = None,
        budget_usd: app_commands.Range[float, 0, 1000] | None = None,
        daily_budget_usd: app_commands.Range[float, 0, 10000] | None = None,
        max_sessions: app_commands.Range[int, 1, 50] | None = None,
        pause_s: app_commands.Range[float, 0, 600] | None = None,
        auto_advance: bool | None = None,
        voter_role: discord.Role | None = None,
        min_account_age_days: app_commands.Range[int, 0, 3650] | None = None,
        vote_grace_s: app_commands.Range[int, 0, 86400] | None = None,
        questions_per_member: app_commands.Range[int, 0, 100] | None = None,
        councils_per_day: app_commands.Range[int, 0, 100] | None = None,
    ) -> None:
        """Show or change this server's Council settings.

        Args:
            host_role: Add (or, if present, remove) a role whose members may host.
            allowed_channel: Add (or remove) a channel where councils may start.
            clear_channels: Allow councils in every channel again.
            default_preset: The preset /council start uses by default.
            budget_usd: Spending limit per council, in USD (0 for none).
            daily_budget_usd: Spending limit per day for the server, in USD (0 for none).
            max_sessions: How many councils may run at once.
            pause_s: Seconds between rounds for votes and questions.
            auto_advance: Whether rounds start by themselves after the pause.
            voter_role: Require this role to vote (pick it again to remove).
            min_account_age_days: Minimum account age to vote.
            vote_grace_s: Seconds voting stays open after a council ends.
            questions_per_member: Questions each member may ask one council (0 for no limit).
            councils_per_day: Councils each member may start in a day (0 for no limit).
        """
        guild = require_guild(interaction)
        ensure_manager(interaction.user)
        current = await self.store.guild_settings(guild.id)
        changes: dict[str, object] = {}
        if host_role is not None:
            changes["host_role_ids"] = _toggle(current.host_role_ids, host_role.id)
        if allowed_channel is not None:
            changes["allowed_channel_ids"] = _toggle(
                current.allowed_channel_ids, allowed_channel.id
            )
        if clear_channels:
            changes["allowed_channel_ids"] = ()
        if default_preset is not None:
            if default_preset not in self.bot.config.presets:
                known = ", ".join(self.bot.config.presets)
                raise UserFacingError(
                    t("replies.settings.unknown-preset", name=default_preset, known=known)
                )
            changes["default_preset"] = default_preset
        if budget_usd is not None:
            changes["budget_usd"] = budget_usd or None
        if daily_budget_usd is not None:
            changes["daily_budget_usd"] = daily_budget_usd or None
        if max_sessions is not None:
            changes["max_concurrent_sessions"] = max_sessions
        if pause_s is not None:
            changes["pause_between_rounds_s"] = pause_s
        if auto_advance is not None:
            changes["auto_advance"] = auto_advance
        if voter_role is not None:
            same = current.voter_role_id == voter_role.id
            changes["voter_role_id"] = None if same else voter_role.id
        if min_account_age_days is not None:
            changes["min_account_age_days"] = min_account_age_days
        if vote_grace_s is not None:
            changes["vote_grace_s"] = vote_grace_s
        if questions_per_member is not None:
            changes["max_questions_per_member"] = questions_per_member or None
        if councils_per_day is not None:
            changes["max_councils_per_member_per_day"] = councils_per_day or None
        updated = current.model_copy(update=changes)
        if changes:
            await self.store.save_guild_settings(updated)
            await self.store.audit(
                guild.id, interaction.user.id, "settings", detail=", ".join(sorted(changes))
            )
        await interaction.response.send_message(
            _describe(updated, str(interaction.locale)), ephemeral=True
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def sync(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Register Council's slash commands in this server (bot owner only)."""
        if not await self.bot.is_owner(interaction.user):
            raise UserFacingError(t("replies.sync.owner-only"))
        guild = require_guild(interaction)
        await interaction.response.defer(ephemeral=True)
        count = await self.bot.sync_commands(guild.id)
        synced = tn("replies.sync.synced", count)
        await interaction.followup.send(localize(synced, str(interaction.locale)))


def _toggle(ids: tuple[int, ...], value: int) -> tuple[int, ...]:
    return tuple(i for i in ids if i != value) if value in ids else (*ids, value)


def _describe(s: GuildSettings, locale: str) -> str:
    """The guild's settings, one a line, in `locale`'s language."""
    roles = ", ".join(f"<@&{r}>" for r in s.host_role_ids)
    channels = ", ".join(f"<#{c}>" for c in s.allowed_channel_ids)
    no_limit = t("replies.settings.no-limit")
    pause = number(s.pause_between_rounds_s, locale)
    lines = [
        t("replies.settings.heading"),
        t("replies.settings.hosts", roles=roles) if roles else t("replies.settings.hosts-default"),
        t("replies.settings.channels", channels=channels)
        if channels
        else t("replies.settings.channels-any"),
        t("replies.settings.default-preset", preset=s.default_preset or "default"),
        t(
            "replies.settings.budgets",
            budget=money(s.budget_usd, locale) if s.budget_usd else no_limit,
            daily=money(s.daily_budget_usd, locale) if s.daily_budget_usd else no_limit,
        ),
        t("replies.settings.councils-at-once", count=s.max_concurrent_sessions),
        t("replies.settings.auto-advance", pause=pause)
        if s.auto_advance
        else t("replies.settings.hosts-advance", pause=pause),
        tn(
            "replies.settings.voters",
            s.min_account_age_days,
            voters=f"<@&{s.voter_role_id}>" if s.voter_role_id else t("replies.settings.anyone"),
            grace=s.vote_grace_s,
        ),
        t(
            "replies.settings.member-limits",
            questions=s.max_questions_per_member or no_limit,
            councils=s.max_councils_per_member_per_day or no_limit,
        ),
    ]
    return "\n".join(localize(line, locale) for line in lines)


async def setup(bot: CouncilBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(AdminCog(bot))
