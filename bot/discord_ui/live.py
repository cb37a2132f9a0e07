"""Councils in Discord threads: opening the thread, presenting the session, closing it.

The bridge between the cogs and the Discord-free `SessionManager`: it builds each session's
poster and presenter, posts the summary at the end, and stops a session whose thread is gone.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Coroutine
from typing import Any

import aiohttp
import discord

from bot.config import CouncilConfig
from bot.council.engine import SessionRun
from bot.council.events import SessionEnded
from bot.council.models import GuildSettings, ReplyKind, Session, SessionRecord
from bot.council.spec import SessionSpec, build_spec
from bot.discord_ui.embeds import COUNCIL_COLOR, color_int, opening_embed, summary_embed
from bot.discord_ui.posting import (
    NO_MENTIONS,
    Identity,
    MessageGone,
    PersonaPoster,
    ThreadGone,
    resend_on_reset,
)
from bot.discord_ui.presenter import DiscordPresenter
from bot.discord_ui.views import vote_view
from bot.discord_ui.votes import wait_for_voting_to_close
from bot.discord_ui.webhooks import WebhookPool
from bot.errors import UserFacingError
from bot.personas import PersonaBook
from bot.render.chart import ChartBar, votes_chart
from bot.render.summary import render_summary
from bot.render.transcript import render_markdown
from bot.sessions import SessionManager
from bot.store.store import Store

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
CHART_NAME = "votes.png"
SessionChannel = discord.TextChannel | discord.ForumChannel | discord.Thread


def thread_name(topic: str) -> str:
    """A thread name from the topic: one line, 1-100 characters."""
    name = re.sub(r"\s+", " ", topic).strip() or "Council"
    return name if len(name) <= THREAD_NAME_MAX else name[: THREAD_NAME_MAX - 1] + "…"


class LiveSessions:
    """Runs councils in Discord: one per thread, presented live."""

    def __init__(
        self,
        *,
        client: discord.Client,
        manager: SessionManager,
        store: Store,
        config: CouncilConfig,
        pool: WebhookPool,
        personas: PersonaBook,
    ) -> None:
        self.client = client
        self.manager = manager
        self.store = store
        self.config = config
        self.pool = pool
        self.personas = personas
        self.presenters: dict[int, DiscordPresenter] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def open_thread(
        self,
        interaction: discord.Interaction[discord.Client],
        channel: SessionChannel,
        spec: SessionSpec,
    ) -> discord.Thread:
        """Post the opening embed and open the session's thread (or use the current one)."""
        embed = opening_embed(spec, self.config, host=interaction.user.display_name)
        try:
            if isinstance(channel, discord.Thread):
                await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
                return channel
            if isinstance(channel, discord.ForumChannel):
                created = await channel.create_thread(
                    name=thread_name(spec.topic), embed=embed, allowed_mentions=NO_MENTIONS
                )
                return created.thread
            opening = await channel.send(embed=embed, allowed_mentions=NO_MENTIONS)
            return await opening.create_thread(name=thread_name(spec.topic))
        except discord.Forbidden as exc:
            raise UserFacingError(
                f"I can't open a council in {channel.mention}: I need Send Messages, Create "
                "Public Threads and Send Messages in Threads there."
            ) from exc

    async def launch(
        self,
        interaction: discord.Interaction[discord.Client],
        where: SessionChannel,
        settings: GuildSettings,
        *,
        topic: str,
        rounds: int | None = None,
        **choices: Any,
    ) -> SessionRun:
        """Validate a host's request, open the thread and start the council there.

        The caller has already deferred the interaction (privately): the host gets refusals and
        the link to the thread, everyone else sees the opening message. `choices` are
        `build_spec`'s: preset, members, chair, format, is_blind, council_id, memory.
        Refusals raise `UserFacingError` before anything is posted.
        """
        if rounds is not None and rounds > settings.max_rounds:
            raise UserFacingError(f"This server allows at most {settings.max_rounds} rounds.")
        spec = build_spec(
            self.config,
            topic,
            rounds=rounds,
            overrides=await self.personas.overrides(settings.guild_id),
            guild_id=settings.guild_id,
            channel_id=where.id,
            host_id=interaction.user.id,
            budget_usd=settings.budget_usd,
            budget_tokens=settings.budget_tokens,
            auto_advance=settings.auto_advance,
            pause_between_rounds_s=settings.pause_between_rounds_s,
            **choices,
        )
        await self.manager.check_can_start(settings, where.id)
        self.manager.reserve_channel(where.id)
        try:
            thread = await self.open_thread(interaction, where, spec)
            run = await self.start(spec.model_copy(update={"thread_id": thread.id}), thread)
        finally:
            self.manager.release_channel(where.id)
        await self.store.audit(
            settings.guild_id, interaction.user.id, "session.start", run.session.id
        )
        await interaction.followup.send(
            f"Council #{run.session.id} meets in {thread.mention}.", allowed_mentions=NO_MENTIONS
        )
        return run

    async def start(self, spec: SessionSpec, thread: discord.Thread) -> SessionRun:
        """Start the session in its thread."""
        identities = await self._identities(spec.guild_id)
        return await self.manager.start(
            spec, lambda session: self._presenter(session, thread, identities)
        )

    async def _identities(self, guild_id: int | None) -> dict[str, Identity]:
        return {
            p.name: Identity(p.name, p.avatar_url, color_int(p.color))
            for p in await self.personas.personas(guild_id)
        }

    async def resume(
        self, session: Session, thread: discord.Thread, settings: GuildSettings
    ) -> SessionRun:
        """Resume a paused or interrupted session in its thread."""
        identities = await self._identities(session.guild_id)
        return await self.manager.resume(
            session, lambda s: self._presenter(s, thread, identities), settings
        )

    def _presenter(
        self, session: Session, thread: discord.Thread, identities: dict[str, Identity]
    ) -> DiscordPresenter:
        async def tell_host(text: str) -> None:
            await thread.send(f"💡 {text}", allowed_mentions=NO_MENTIONS)

        me = self.client.user
        house = Identity(
            me.display_name if me else "Council",
            me.display_avatar.url if me else None,
            COUNCIL_COLOR,
        )
        presenter = DiscordPresenter(
            session_id=session.id,
            poster=PersonaPoster(pool=self.pool, thread=thread, on_fallback=tell_host, house=house),
            store=self.store,
            identities=identities,
            on_end=lambda ended: self._closing(thread, ended),
            on_thread_lost=lambda why: self._thread_lost(session, thread, why),
        )
        self.presenters[session.id] = presenter
        return presenter

    async def _closing(self, thread: discord.Thread, ended: SessionEnded) -> None:
        session = ended.session
        presenter = self.presenters.pop(session.id, None)
        if presenter is None:
            return
        record = await self.store.session_record(session.id)
        jump = f"https://discord.com/channels/{session.guild_id}/{thread.id}"
        doc = render_summary(record, jump_url=jump)
        transcript = discord.File(
            io.BytesIO(render_markdown(record).encode()), filename=f"council-{session.id}.md"
        )
        colors = {m.persona: m.color for m in record.members}
        bars = [
            ChartBar(s.persona, colors[s.persona], s.up, s.down)
            for s in doc.stats
            if not s.is_chair
        ]
        # Drawing the chart is CPU work: kept off the event loop, which other councils share.
        drawn = await asyncio.to_thread(votes_chart, bars, title="Audience votes")
        chart = discord.File(io.BytesIO(drawn), filename=CHART_NAME)
        embed = summary_embed(doc).set_image(url=f"attachment://{CHART_NAME}")
        summary_id = await presenter.poster.announce(embed=embed, files=[transcript, chart])
        self._track(self._close_voting(session, record, presenter.poster))
        await self.store.set_summary_message(session.id, summary_id)
        summary_url = f"{jump}/{summary_id}"
        parent = thread.parent
        if isinstance(parent, discord.TextChannel):
            verdict = "ended" if session.status == "finished" else str(session.status)
            try:
                await resend_on_reset(
                    lambda: parent.send(
                        f"Council #{session.id} has {verdict}: {summary_url}",
                        allowed_mentions=NO_MENTIONS,
                    )
                )
            except (discord.HTTPException, aiohttp.ClientError):
                log.warning("could not link the summary from channel %d", parent.id)

    def _track(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _close_voting(
        self, session: Session, record: SessionRecord, poster: PersonaPoster
    ) -> None:
        """At the voting deadline, as clicks start to be refused, freeze every reply's buttons
        with its final counts."""
        if not await wait_for_voting_to_close(self.store, session.id):
            return
        identities = {m.persona: Identity(m.alias or m.persona, None, 0) for m in record.members}
        for reply in record.replies:
            if reply.kind is not ReplyKind.ANSWER or not reply.message_ids:
                continue
            up, down = await self.store.votes_for(reply.id)
            try:
                await poster.edit(
                    reply.message_ids[-1],
                    identities[reply.persona],
                    None,
                    view=vote_view(reply.id, up, down, is_closed=True),
                )
            except (MessageGone, ThreadGone, discord.HTTPException):
                log.info("could not close voting on reply %d", reply.id)

    async def close(self) -> None:
        """Cancel pending vote closings (shutdown); votes stay open until the next end."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _thread_lost(self, session: Session, thread: discord.Thread, why: str) -> None:
        self.presenters.pop(session.id, None)
        run = self.manager.run_for(session.id)
        if run is not None:
            run.stop("Stopped: the council's thread was deleted or closed.")
        parent = thread.parent
        if isinstance(parent, discord.TextChannel):
            try:
                await parent.send(
                    f"Council #{session.id} stopped: its thread is gone ({why}).",
                    allowed_mentions=NO_MENTIONS,
                )
            except discord.HTTPException:
                log.warning(
                    "could not tell channel %d that session %d stopped", parent.id, session.id
                )


def require_thread(channel: object) -> discord.Thread:
    """The session's thread, or a clear refusal."""
    if isinstance(channel, discord.Thread):
        return channel
    raise UserFacingError("Use this in a council's thread.")
