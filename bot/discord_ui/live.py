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

from bot import graphemes
from bot.config import CouncilConfig
from bot.council.engine import SessionRun
from bot.council.events import SessionEnded
from bot.council.models import GuildSettings, ReplyKind, ReplyStatus, Session, SessionRecord
from bot.council.moderation import checks_line
from bot.council.spec import SessionSpec, build_spec
from bot.discord_ui.embeds import COUNCIL_COLOR, color_int, opening_embed, summary_embed
from bot.discord_ui.failures import DeliveryFailed, classify
from bot.discord_ui.notices import HostNotices
from bot.discord_ui.posting import NO_MENTIONS, Identity, PersonaPoster, resend_on_reset
from bot.discord_ui.presenter import DiscordPresenter
from bot.discord_ui.views import vote_view
from bot.discord_ui.votes import wait_for_voting_to_close
from bot.discord_ui.webhooks import WebhookPool
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from bot.personas import PersonaBook
from bot.render.chart import ChartBar, votes_chart
from bot.render.summary import render_summary
from bot.render.transcript import render_markdown
from bot.sessions import SessionManager
from bot.store.store import Store

log = logging.getLogger(__name__)

THREAD_NAME_MAX = 100
CHART_NAME = "votes.png"
# What the channel is told of an ended council, by how it ended.
_CLOSED = {
    "finished": "council.closed.ended",
    "stopped": "council.closed.stopped",
    "failed": "council.closed.failed",
}
SessionChannel = discord.TextChannel | discord.ForumChannel | discord.Thread


def thread_name(topic: str) -> str:
    """A thread name from the topic: one line, 1-100 characters."""
    name = graphemes.strip(re.sub(r"\s+", " ", topic)) or "Council"
    return graphemes.ellipsize(name, THREAD_NAME_MAX)


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
        # Presenters of ended councils posting their summary and closing link now.
        self._closings: dict[int, DiscordPresenter] = {}
        self.notices = HostNotices()
        self._tasks: set[asyncio.Task[None]] = set()
        self._is_shutting_down = False

    async def open_thread(
        self,
        interaction: discord.Interaction[discord.Client],
        channel: SessionChannel,
        spec: SessionSpec,
    ) -> discord.Thread:
        """Post the opening embed and open the session's thread (or use the current one)."""
        policy = await self.store.moderation_policy(spec.guild_id or 0)
        embed = opening_embed(
            spec,
            self.config,
            host=interaction.user.display_name,
            locale=spec.locale,
            checks=checks_line(policy, self.manager.screening.model_name),
        )
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
                t("replies.thread.no-permission", channel=channel.mention)
            ) from exc
        except (discord.HTTPException, aiohttp.ClientError, TimeoutError) as exc:
            failure = classify(exc, "thread_create")
            raise UserFacingError(
                t("replies.thread.not-opened", channel=channel.mention, reason=failure.reason)
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
        self._check_open()
        if rounds is not None and rounds > settings.max_rounds:
            raise UserFacingError(tn("replies.start.rounds-max", settings.max_rounds))
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
            daily_budget_usd=settings.daily_budget_usd,
            auto_advance=settings.auto_advance,
            pause_between_rounds_s=settings.pause_between_rounds_s,
            # The thread speaks the council's language, or else the server's.
            server_locale=str(interaction.guild_locale) if interaction.guild_locale else None,
            **choices,
        )
        async with self.manager.claim(settings, where.id, interaction.user.id):
            thread = await self.open_thread(interaction, where, spec)
            run = await self.start(spec.model_copy(update={"thread_id": thread.id}), thread)
        await self.store.audit(
            settings.guild_id, interaction.user.id, "session.start", run.session.id
        )
        try:
            meets = t("council.meets-in", id=run.session.id, thread=thread.mention)
            await interaction.followup.send(
                localize(meets, str(interaction.locale)), allowed_mentions=NO_MENTIONS
            )
        except (discord.HTTPException, aiohttp.ClientError) as exc:
            # The council runs whether or not the host saw this line (their token may be gone).
            log.warning(
                "could not tell the host where council #%d meets: %s",
                run.session.id,
                classify(exc, "interaction").reason,
            )
        return run

    async def start(self, spec: SessionSpec, thread: discord.Thread) -> SessionRun:
        """Start the session in its thread."""
        self._check_open()
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
        self._check_open()
        identities = await self._identities(session.guild_id)
        return await self.manager.resume(
            session, lambda s: self._presenter(s, thread, identities), settings
        )

    def _check_open(self) -> None:
        """Refuse a council that would start or resume while the bot shuts down."""
        if self._is_shutting_down:
            raise UserFacingError(t("replies.shutting-down"))

    def _presenter(
        self, session: Session, thread: discord.Thread, identities: dict[str, Identity]
    ) -> DiscordPresenter:
        async def tell_thread(text: Text) -> None:
            try:
                await poster.announce(f"💡 {localize(text, session.locale)}")
            except DeliveryFailed as exc:
                log.warning("could not post a notice in thread %d: %s", thread.id, exc)

        me = self.client.user
        house = Identity(
            me.display_name if me else "Council",
            me.display_avatar.url if me else None,
            COUNCIL_COLOR,
        )
        poster = PersonaPoster(pool=self.pool, thread=thread, on_fallback=tell_thread, house=house)
        presenter = DiscordPresenter(
            session_id=session.id,
            poster=poster,
            store=self.store,
            identities=identities,
            on_end=lambda ended: self._closing(thread, ended),
            on_thread_lost=lambda why: self._thread_lost(session, thread, why),
            on_blocked=lambda why: self._blocked(session, thread, why),
            locale=session.locale,
            jump_url=f"https://discord.com/channels/{session.guild_id}/{thread.id}",
        )
        self.presenters[session.id] = presenter
        return presenter

    async def _closing(self, thread: discord.Thread, ended: SessionEnded) -> None:
        session = ended.session
        presenter = self.presenters.pop(session.id, None)
        if presenter is None:
            return
        self._closings[session.id] = presenter
        try:
            await self._close(thread, session, presenter)
        finally:
            del self._closings[session.id]

    async def _close(
        self, thread: discord.Thread, session: Session, presenter: DiscordPresenter
    ) -> None:
        """Post the summary in the thread and link it from the parent channel."""
        try:
            summary_id = await self._post_summary(thread, session, presenter.poster)
        except (DeliveryFailed, discord.HTTPException, aiohttp.ClientError) as exc:
            log.warning("could not post the summary of session %d: %s", session.id, exc)
            await self._tell_host(
                session, thread, t("council.host.summary-failed", id=session.id, error=str(exc))
            )
            return
        jump = f"https://discord.com/channels/{session.guild_id}/{thread.id}"
        parent = thread.parent
        if isinstance(parent, discord.TextChannel):
            link = f"{jump}/{summary_id}"
            closed = _CLOSED.get(str(session.status), "council.closed.other")
            said = t(closed, id=session.id, link=link, status=str(session.status))
            try:
                await resend_on_reset(
                    lambda: parent.send(
                        localize(said, session.locale), allowed_mentions=NO_MENTIONS
                    )
                )
            except (discord.HTTPException, aiohttp.ClientError):
                log.warning("could not link the summary from channel %d", parent.id)

    async def _post_summary(
        self, thread: discord.Thread, session: Session, poster: PersonaPoster
    ) -> int:
        """Post the summary with the transcript and the vote chart; return its message id."""
        record = await self.store.session_record(session.id)
        locale = record.session.locale
        jump = f"https://discord.com/channels/{session.guild_id}/{thread.id}"
        unshown = [
            localize(t("council.unshown-reply", name=r.persona, round=r.round_number), locale)
            for r in record.replies
            if r.kind in (ReplyKind.ANSWER, ReplyKind.CHAIR)
            and r.status is ReplyStatus.OK
            and not r.message_ids
        ]
        doc = render_summary(record, jump_url=jump, unshown=unshown)
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
        title = localize(t("council.chart.votes"), locale)
        drawn = await asyncio.to_thread(votes_chart, bars, title=title, locale=locale)
        chart = discord.File(io.BytesIO(drawn), filename=CHART_NAME)
        embed = summary_embed(doc).set_image(url=f"attachment://{CHART_NAME}")
        summary_id = await poster.announce(embed=embed, files=[transcript, chart])
        self._track(self._close_voting(session, record, poster))
        await self.store.set_summary_message(session.id, summary_id)
        return summary_id

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
            if reply.status is not ReplyStatus.OK:
                continue  # a withheld reply's note has no buttons to close
            up, down = await self.store.votes_for(reply.id)
            try:
                await poster.edit(
                    reply.message_ids[-1],
                    identities[reply.persona],
                    None,
                    view=vote_view(reply.id, up, down, is_closed=True),
                )
            except DeliveryFailed:
                log.info("could not close voting on reply %d", reply.id)

    async def shutdown(self, grace_s: float) -> None:
        """Start no more councils and interrupt the running ones (they stay resumable); give
        ended ones up to `grace_s` to post their summaries and closing links; then stop every
        presenter and cancel pending vote closings (votes stay open until the next end).

        Run while Discord can still be reached: whatever is cut off is one warning line per
        council, never a request on a closed connection.
        """
        self._is_shutting_down = True
        await self.manager.shutdown()
        ending = [*self._closings.values()]
        for presenter in list(self.presenters.values()):
            if presenter.has_ended:
                ending.append(presenter)
            else:
                await presenter.close()  # its council was interrupted, not ended
        if ending:
            log.info(
                "waiting up to %g s for %d ended council(s) to post their summaries",
                grace_s,
                len(ending),
            )
        drained = await asyncio.gather(*(p.drain(grace_s) for p in ending))
        for presenter, is_drained in zip(ending, drained, strict=True):
            if not is_drained:
                log.warning(
                    "closing link not posted for council %d: shutting down", presenter.session_id
                )
                await presenter.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _thread_lost(self, session: Session, thread: discord.Thread, why: str) -> None:
        self.presenters.pop(session.id, None)
        run = self.manager.run_for(session.id)
        if run is not None:
            run.stop(t("council.stop.thread-gone"), is_automatic=True)
        await self._tell_host(
            session, thread, t("council.host.thread-gone", id=session.id, reason=why)
        )

    async def _blocked(self, session: Session, thread: discord.Thread, why: str) -> None:
        """The thread can't show the council: stop spending, keep it resumable, tell the host."""
        self.presenters.pop(session.id, None)
        run = self.manager.run_for(session.id)
        if run is None:
            # It had already ended: only its closing messages were lost.
            await self._tell_host(
                session, thread, t("council.host.end-unseen", id=session.id, reason=why)
            )
            return
        run.interrupt(why)
        await self._tell_host(
            session,
            thread,
            t("council.host.blocked", id=session.id, reason=why, thread=thread.mention),
        )

    async def _tell_host(self, session: Session, thread: discord.Thread, message: Text) -> None:
        """Tell the host in the thread's parent channel, or with their next command.

        Either way the note is in the council's locale: the channel's members read it too.
        """
        text = localize(message, session.locale)
        parent = thread.parent
        who = f"<@{session.host_id}> " if session.host_id else ""
        if isinstance(parent, discord.TextChannel):
            try:
                await resend_on_reset(
                    lambda: parent.send(f"⚠️ {who}{text}", allowed_mentions=NO_MENTIONS)
                )
                return
            except (discord.HTTPException, aiohttp.ClientError) as exc:
                reason = classify(exc, "bot_post").reason
                log.warning(
                    "could not tell channel %d about session %d: %s", parent.id, session.id, reason
                )
        if session.host_id is not None:
            self.notices.leave(session.host_id, text)


def require_thread(channel: object) -> discord.Thread:
    """The session's thread, or a clear refusal."""
    if isinstance(channel, discord.Thread):
        return channel
    raise UserFacingError(t("replies.thread.only-in-thread"))
