"""The Discord client: `CouncilBot`, its command tree, and where discord.py points."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from typing import Any

import discord
import discord.gateway
import discord.http
import yarl
from discord import app_commands
from discord.ext import commands
from discord.webhook.async_ import AsyncWebhookAdapter
from discord.webhook.async_ import async_context as webhook_adapter

from bot.config import SHUTDOWN_GRACE_S, CouncilConfig, Settings
from bot.councils import CouncilBook
from bot.discord_ui.challenges import ChallengeDesk, PredictionButton
from bot.discord_ui.connection import UNREACHABLE
from bot.discord_ui.live import LiveSessions
from bot.discord_ui.ratelimits import GlobalPacer, WebhookBudgets, discord_trace
from bot.discord_ui.translator import CatalogTranslator
from bot.discord_ui.views import VoteButton
from bot.discord_ui.votes import VoteDesk
from bot.discord_ui.webhooks import WebhookPool
from bot.errors import UserFacingError
from bot.halts import Halts
from bot.i18n import localize, t
from bot.metrics import Metrics
from bot.oversight import Mutes
from bot.personas import PersonaBook
from bot.sessions import SessionManager
from bot.shards import ShardPlan, rest_share_per_s
from bot.store.store import Store

log = logging.getLogger(__name__)


def apply_discord_endpoints(settings: Settings) -> None:
    """Point discord.py's REST and gateway at `DISCORD_API_BASE` / `DISCORD_GATEWAY_URL`.

    Operators set these to run behind a REST proxy; tests set them to a local fake Discord.
    discord.py reads both as class attributes, so this is process-wide by its design.
    """
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
    if settings.discord_gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.discord_gateway_url)


class CouncilTree(app_commands.CommandTree[discord.Client]):
    """The one place command errors become replies: a clear message, or an apology with an id."""

    async def on_error(
        self,
        interaction: discord.Interaction[discord.Client],
        error: app_commands.AppCommandError,
    ) -> None:
        """Tell the member what went wrong, in their language; log anything unexpected with its
        traceback."""
        locale = str(interaction.locale)
        cause: BaseException = error
        if isinstance(error, app_commands.CommandInvokeError):
            cause = error.original
        elif isinstance(error, app_commands.TransformerError) and isinstance(
            error.__cause__, UserFacingError
        ):
            # discord.py wraps whatever a transformer raises; ours refuse in words of their own.
            cause = error.__cause__
        if isinstance(cause, UserFacingError):
            message = cause.localized(locale)
        elif isinstance(cause, app_commands.NoPrivateMessage):
            message = localize(t("replies.checks.guild-only"), locale)
        elif isinstance(cause, app_commands.CheckFailure):
            # discord.py words its own check failures in English only.
            message = localize(t("replies.errors.not-here"), locale)
        else:
            error_id = secrets.token_hex(4)
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("error %s in /%s", error_id, command, exc_info=cause)
            message = localize(t("replies.errors.unexpected", error_id=error_id), locale)
        await reply_privately(interaction, message)
        if isinstance(interaction.client, CouncilBot):
            await interaction.client.live.notices.deliver(interaction)


async def reply_privately(interaction: discord.Interaction[discord.Client], message: str) -> None:
    """An ephemeral reply, whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(message, ephemeral=True)
        else:
            await interaction.response.send_message(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error reply", exc_info=True)


class CouncilBot(commands.Bot):
    """The bot process: no privileged intents, and no message may ever ping anyone."""

    def __init__(
        self,
        *,
        settings: Settings,
        config: CouncilConfig,
        store: Store,
        manager: SessionManager,
        extensions: Sequence[str] = (),
        shard_plan: ShardPlan | None = None,
        metrics: Metrics | None = None,
        shutdown_grace_s: float = SHUTDOWN_GRACE_S,
        **options: Any,
    ) -> None:
        budgets = WebhookBudgets()
        self.metrics = metrics if metrics is not None else Metrics()
        pacer = GlobalPacer.for_share(rest_share_per_s(settings.rest_share, shard_plan))
        trace = discord_trace(budgets, pacer)
        self.metrics.trace_discord(trace)
        super().__init__(
            command_prefix=commands.when_mentioned,
            http_trace=trace,
            # Only the guilds, their channels, threads and roles. The bot reads no messages,
            # reactions or typing: with those intents every post and edit its webhooks make
            # would come back as a gateway event, decoded and thrown away, and the clicks'
            # and commands' events would queue behind them.
            intents=discord.Intents(guilds=True),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=CouncilTree,
            **options,
        )
        self.settings = settings
        self.config = config
        self.store = store
        self.manager = manager
        # Not `shards`: AutoShardedClient's name for its live shards.
        self.shard_plan = shard_plan
        self.shutdown_grace_s = shutdown_grace_s
        self._winding_down: asyncio.Task[None] | None = None
        self.extension_names = tuple(extensions)
        self.personas = PersonaBook(config, store)
        self.councils = CouncilBook(config, store)
        self.mutes = Mutes(store, manager)
        self.halts = Halts(store, manager)
        self.webhooks = WebhookPool(self, budgets)
        self.vote_desk = VoteDesk(store, metrics=self.metrics)
        self.challenges = ChallengeDesk(
            client=self, store=store, manager=manager, watcher=self.metrics.watch()
        )
        self.live = LiveSessions(
            client=self,
            manager=manager,
            store=store,
            config=config,
            pool=self.webhooks,
            personas=self.personas,
        )

    async def connect(self, *, reconnect: bool = True) -> None:
        """Serve: sessions a previous process left running in our guilds become resumable here
        (those still leased to another process once their lease expires; their challenges carry
        on once connected); then connect.

        Raises:
            OSError, aiohttp.ClientError, TimeoutError: the first connection failed; discord.py
                reconnects by itself only once it has been connected.
        """
        interrupted = await self.manager.take_over_interrupted(self.owns_guild)
        if interrupted:
            log.info(
                "%d session(s) were interrupted by a restart: %s",
                len(interrupted),
                ", ".join(f"#{s.id}" for s in interrupted),
            )
        # Halts can come from the operator's shell, through the store, at any time.
        self.halts.start()
        self.challenges.resume_interrupted(self.owns_guild)
        try:
            await super().connect(reconnect=reconnect)
        except AttributeError as exc:
            # discord.py (2.7, issue #10520) meets a failed first connection with an
            # AttributeError on the websocket it never had, raised while handling the failure.
            cause = exc.__context__
            if self.ws is not None or not isinstance(cause, UNREACHABLE):
                raise
            raise cause from None

    def owns_guild(self, guild_id: int | None) -> bool:
        """Whether this process runs the guild's shard (an unsharded bot runs them all)."""
        return self.shard_plan is None or self.shard_plan.owns(guild_id)

    async def setup_hook(self) -> None:
        """Register cogs, persistent buttons and the commands' translations; sync to the
        development guild if one is set (`council-bot sync` logs in, so it runs this too)."""
        # discord.py keeps its webhook rate-limit locks in one adapter per process, and a
        # request cancelled while a lock's release is deferred leaves that lock held. This
        # bot's tasks (all started from here on) get an adapter of their own, so nothing an
        # earlier client in the process left behind can stall its webhooks.
        webhook_adapter.set(AsyncWebhookAdapter())  # type: ignore[no-untyped-call]
        await self.tree.set_translator(CatalogTranslator(self.tree))
        await self.load_cogs()
        guild_id = self.settings.council_dev_guild_id
        if guild_id is not None:
            try:
                count = await self.sync_commands(guild_id)
            except UserFacingError as exc:
                raise UserFacingError(f"COUNCIL_DEV_GUILD_ID: {exc.message}") from exc
            log.info("synced %d commands to development guild %d", count, guild_id)

    async def load_cogs(self) -> None:
        """Load the command cogs and the persistent vote buttons."""
        self.add_dynamic_items(VoteButton, PredictionButton)
        for name in self.extension_names:
            await self.load_extension(name)

    async def sync_commands(self, guild_id: int | None) -> int:
        """Register the slash commands in one guild (instant) or globally; return how many.

        Raises:
            UserFacingError: the bot is not in that guild, or may not add commands there.
        """
        if guild_id is None:
            return len(await self.tree.sync())
        guild = discord.Object(id=guild_id)
        self.tree.copy_global_to(guild=guild)
        try:
            return len(await self.tree.sync(guild=guild))
        except (discord.NotFound, discord.Forbidden) as exc:
            # 10004 Unknown Guild: not invited; 50001 Missing Access: invited without the
            # applications.commands scope.
            raise UserFacingError(
                f"Discord won't take commands for server {guild_id} ({exc.code} {exc.text}): "
                "the bot is not in it, or was added without the applications.commands scope. "
                "Add it with the link `council-bot invite` prints, or check the server id."
            ) from exc

    async def close(self) -> None:
        """Interrupt running sessions and challenges (they stay resumable), let ended councils
        post their summaries for up to `shutdown_grace_s`, then disconnect."""
        # Once: discord.py may close a client that is already closing.
        if self._winding_down is None:
            self._winding_down = asyncio.create_task(self._wind_down(), name="council-shutdown")
        await self._winding_down
        await super().close()

    async def _wind_down(self) -> None:
        """Stop all work, while discord.py's HTTP session still serves the last posts."""
        log.info("shutting down")
        await self.halts.close()
        await self.vote_desk.close()
        await self.challenges.close()
        await self.live.shutdown(self.shutdown_grace_s)

    async def on_app_command_completion(
        self,
        interaction: discord.Interaction[discord.Client],
        command: app_commands.Command[Any, ..., Any] | app_commands.ContextMenu,
    ) -> None:
        """Hand the member anything the bot could not tell them where their council ran."""
        await self.live.notices.deliver(interaction)

    async def on_ready(self) -> None:
        """Log who we are once connected."""
        log.info("connected as %s", self.user)


class ShardedCouncilBot(CouncilBot, commands.AutoShardedBot):
    """`CouncilBot` running some of the bot's shards in this process (`council-bot run
    --shards 0-3 --shard-count 8`): it receives only the events of their guilds."""

    def __init__(self, *, shard_plan: ShardPlan, **options: Any) -> None:
        super().__init__(
            shard_plan=shard_plan,
            shard_ids=list(shard_plan.ids),
            shard_count=shard_plan.count,
            **options,
        )
