"""/council: start a council, steer it, ask it questions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.audience import MAX_PENDING_QUESTIONS_PER_MEMBER
from bot.council.blind import shown_names
from bot.council.engine import SessionRun
from bot.council.figures import money, number
from bot.council.models import Session, SessionStatus
from bot.council.spec import clean_text
from bot.discord_ui.live import require_thread
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from cogs.challenge import ChallengeCommands
from cogs.checks import (
    ThreadParent,
    ensure_audience,
    ensure_host,
    language_choices,
    require_guild,
    session_here,
)
from cogs.councils import PermanentCouncilCommands
from cogs.history import HistoryCommands
from cogs.oversight import OversightCommands
from cogs.withheld import WithheldCommands
from cogs.wrap import WrapUpButtons

if TYPE_CHECKING:
    from bot.app import CouncilBot

QUESTION_MAX_CHARS = 500
Format = Literal["parallel", "debate", "chaired", "review"]
Order = Literal["rotating", "fixed", "natural"]
SessionChannel = discord.TextChannel | discord.ForumChannel | discord.Thread
# A council's status as /council status names it.
_STATUS = {
    SessionStatus.RUNNING: "replies.status.running",
    SessionStatus.PAUSED: "replies.status.paused",
    SessionStatus.FINISHED: "replies.status.finished",
    SessionStatus.STOPPED: "replies.status.stopped",
    SessionStatus.FAILED: "replies.status.failed",
}
# Why a host can't steer a council that has ended, by how it ended.
_ENDED = {
    SessionStatus.FINISHED: "replies.session.already-finished",
    SessionStatus.STOPPED: "replies.session.already-stopped",
    SessionStatus.FAILED: "replies.session.already-failed",
}


class CouncilCog(
    HistoryCommands,
    ChallengeCommands,
    PermanentCouncilCommands,
    OversightCommands,
    WithheldCommands,
    WrapUpButtons,
    commands.GroupCog,
    group_name="council",
):
    """Run AI councils in this server."""

    def __init__(self, bot: CouncilBot) -> None:
        self.bot = bot
        self.store = bot.store
        self.manager = bot.manager
        self.live = bot.live
        super().__init__()

    @app_commands.command()
    @app_commands.guild_only()
    @app_commands.choices(language=language_choices())
    async def start(  # noqa: PLR0917  (one slash option each)
        self,
        interaction: discord.Interaction[discord.Client],
        topic: app_commands.Range[str, 1, 1000],
        preset: str | None = None,
        members: str | None = None,
        format: Format | None = None,
        rounds: app_commands.Range[int, 1, 10] | None = None,
        blind: bool = False,
        in_channel: ThreadParent | None = None,
        language: str | None = None,
        order: Order | None = None,
    ) -> None:
        """Start a council on a topic in a new thread.

        `language` offers 25 common Discord locales (`LANGUAGE_CHOICES` in cogs/checks.py:
        Discord's own minus Bulgarian, Croatian, Danish, Finnish, Hungarian, Lithuanian and
        Norwegian, which a preset can still set).

        Args:
            topic: What the council should discuss.
            preset: A line-up from the operator's config (default: the server's default).
            members: Persona names separated by commas, instead of the preset's.
            format: parallel, debate, chaired or review.
            rounds: How many rounds (1-10).
            blind: Hide who is who until the summary.
            in_channel: Where to open it (e.g. a forum); by default here.
            language: The language the models answer in (default: the preset's, or the topic's).
            order: Who speaks when in a debate or chaired council (default: the preset's).
        """
        guild = require_guild(interaction)
        # Acknowledge at once: under load the checks below can outlast Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        settings = await self.store.guild_settings(guild.id)
        ensure_host(interaction.user, settings)
        where = in_channel or interaction.channel
        if not isinstance(where, SessionChannel):
            raise UserFacingError(t("replies.start.wrong-channel"))
        await self.live.launch(
            interaction,
            where,
            settings,
            topic=topic,
            preset=preset or (settings.default_preset if not members else None),
            members=[m for m in members.split(",") if m.strip()] if members else None,
            format=format,
            rounds=rounds,
            is_blind=blind,
            language=language,
            order=order,
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def ask(
        self,
        interaction: discord.Interaction[discord.Client],
        question: app_commands.Range[str, 1, QUESTION_MAX_CHARS],
        to: app_commands.Range[str, 1, 100] | None = None,
    ) -> None:
        """Ask the council a question; it is put to them at the next round.

        Args:
            question: Your question for the council.
            to: One member to put it to, by the name the thread shows; it answers first.
        """
        session = await session_here(interaction, self.store)
        run = self.manager.run_for(session.id)
        if run is None or session.status.is_final:
            raise UserFacingError(t("replies.ask.not-running", session=session.id))
        settings = await self.store.guild_settings(session.guild_id or 0)
        ensure_audience(interaction.user, settings, "ask")
        if run.is_ending:
            raise UserFacingError(t("replies.ask.ending", session=session.id))
        if run.question_round is None and run.planned_rounds >= settings.max_rounds:
            raise UserFacingError(
                tn("replies.ask.no-round-left", settings.max_rounds, session=session.id)
            )
        text = clean_text(question)
        if not text:
            raise UserFacingError(t("replies.ask.empty"))
        addressee = None if to is None else run.participant_called(to)
        if to is not None and addressee is None:
            members = ", ".join(run.participant_names())
            raise UserFacingError(t("replies.ask.unknown-member", name=to, members=members))
        await run.ask(
            interaction.user.id,
            interaction.user.display_name,
            text,
            max_pending=MAX_PENDING_QUESTIONS_PER_MEMBER,
            max_asked=settings.max_questions_per_member,
            to=addressee,
        )
        # Read after queueing: a round that started meanwhile has not taken it.
        where = run.question_round
        queued = (
            t("replies.ask.queued", round=where)
            if where is not None
            else t("replies.ask.queued-if-a-round-is-added")
        )
        await interaction.response.send_message(
            localize(queued, str(interaction.locale)), ephemeral=True
        )

    @app_commands.command(name="next")
    @app_commands.guild_only()
    async def next_round(
        self,
        interaction: discord.Interaction[discord.Client],
        question: app_commands.Range[str, 1, QUESTION_MAX_CHARS] | None = None,
    ) -> None:
        """Start the next round now, adding one if the council has played them all.

        Args:
            question: A question from the host to put to the council.
        """
        session, run = await self._live(interaction)
        is_adding = run.current_round >= run.planned_rounds
        if is_adding:
            settings = await self.store.guild_settings(session.guild_id or 0)
            if run.planned_rounds >= settings.max_rounds:
                raise UserFacingError(
                    tn("replies.next.at-round-limit", settings.max_rounds, session=session.id)
                )
        if question and (text := clean_text(question)):
            await run.ask(interaction.user.id, interaction.user.display_name, text)
        if is_adding:
            run.add_round()
        run.advance()
        await self._audit(interaction, "session.next", session.id)
        starts = t("replies.next.starts", round=run.current_round + 1)
        await interaction.response.send_message(
            localize(starts, str(interaction.locale)), ephemeral=True
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def end(self, interaction: discord.Interaction[discord.Client]) -> None:
        """End the council now: the synthesis and summary follow."""
        session = await self._hosted(interaction)
        ending = localize(t("replies.end.ending"), str(interaction.locale))
        run = self.manager.run_for(session.id)
        if run is None:
            thread = require_thread(interaction.channel)
            settings = await self.store.guild_settings(session.guild_id or 0)
            await interaction.response.defer(ephemeral=True)
            run = await self.live.resume(session, thread, settings)
            run.end()
            await interaction.followup.send(ending)
        else:
            run.end()
            await interaction.response.send_message(ending, ephemeral=True)
        await self._audit(interaction, "session.end", session.id)

    @app_commands.command()
    @app_commands.guild_only()
    async def stop(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Stop the council at once, cancelling every model that is still speaking."""
        session = await self._hosted(interaction)
        reason = t("council.stop.by", name=interaction.user.display_name)
        run = self.manager.run_for(session.id)
        if run is not None:
            run.stop(reason)
        else:
            stopped = localize(reason, session.locale)
            await self.store.set_session_status(session.id, SessionStatus.STOPPED, stopped)
        await self._audit(interaction, "session.stop", session.id)
        await interaction.response.send_message(
            localize(t("replies.stop.stopped"), str(interaction.locale)), ephemeral=True
        )

    @app_commands.command()
    @app_commands.guild_only()
    async def pause(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Pause before the next round (the one under way finishes) until a host resumes."""
        session, run = await self._live(interaction)
        if run.is_paused:
            raise UserFacingError(t("replies.pause.already", session=session.id))
        locale = str(interaction.locale)
        # Before round 1 has begun, the first chance to pause is after it.
        upcoming = max(run.current_round, 1) + 1
        if upcoming > run.planned_rounds:
            last = t("replies.pause.last-round", round=run.planned_rounds)
            await interaction.response.send_message(localize(last, locale), ephemeral=True)
            return
        run.pause(t("council.pause.by", name=interaction.user.display_name))
        await self._audit(interaction, "session.pause", session.id)
        pausing = t("replies.pause.pausing", round=upcoming)
        await interaction.response.send_message(localize(pausing, locale), ephemeral=True)

    @app_commands.command()
    @app_commands.guild_only()
    async def resume(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Resume a paused council, or one a restart interrupted."""
        session = await self._hosted(interaction)
        thread = require_thread(interaction.channel)
        settings = await self.store.guild_settings(session.guild_id or 0)
        await interaction.response.defer(ephemeral=True)
        was_live = self.manager.run_for(session.id) is not None
        run = await self.live.resume(session, thread, settings)
        await self._audit(interaction, "session.resume", session.id)
        resuming = (
            t("replies.resume.resuming")
            if was_live
            else t("replies.resume.resuming-at", round=run.first_round)
        )
        await interaction.followup.send(localize(resuming, str(interaction.locale)))

    @app_commands.command()
    @app_commands.guild_only()
    async def status(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Where the council is: round, who is speaking, spend, queued questions."""
        session = await session_here(interaction, self.store)
        locale = str(interaction.locale)
        run = self.manager.run_for(session.id)
        status = t(_STATUS[session.status])
        lines: list[Text | str] = [t("replies.status.heading", session=session.id, status=status)]
        if run is not None:
            lines += self._progress(run, locale)
            if run.is_paused and session.status is SessionStatus.PAUSED:
                lines.append(t("replies.status.paused-until-resumed"))
            elif run.is_paused:
                lines.append(t("replies.status.pausing-after-this-round"))
        if session.format in ("debate", "chaired"):
            lines.append(await self._order(session, run))
        muted = run.muted if run is not None else frozenset(session.muted)
        if muted:
            lines.append(t("replies.status.muted", names=await self._shown_names(session, muted)))
        queued = await self.store.pending_questions(session.id)
        lines.append(t("replies.status.questions-waiting", waiting=len(queued)))
        if session.stop_reason:
            lines.append(session.stop_reason)
        text = "\n".join(localize(line, locale) for line in lines)
        await interaction.response.send_message(text, ephemeral=True)

    @staticmethod
    async def _order(session: Session, run: SessionRun | None) -> Text:
        """The order members speak in, and in a natural order who speaks next, if known."""
        order = t(f"choice.order.{session.speaking_order}")
        if (
            run is None
            or session.speaking_order != "natural"
            or (following := await run.next_speaker()) is None
        ):
            return t("replies.status.order", order=order)
        return t("replies.status.order-next", order=order, name=run.shown(following))

    async def _shown_names(self, session: Session, names: frozenset[str]) -> str:
        """Members as the thread shows them: a blind council's by alias."""
        shown = shown_names(session, await self.store.members(session.id))
        return ", ".join(sorted(shown.get(name, "?") for name in names))

    @staticmethod
    def _progress(run: SessionRun, locale: str) -> list[Text]:
        """The round, who is speaking and the spend, for /council status."""
        round_now = t(
            "replies.status.round", round=max(run.current_round, 1), rounds=run.planned_rounds
        )
        # Named as the thread names them: a blind council's by alias until its summary.
        speaking = (
            t("replies.status.speaking", names=", ".join(sorted(map(run.shown, run.speaking))))
            if run.speaking
            else t("replies.status.speaking-nobody")
        )
        budget = run.budget
        spent = money(budget.spent_usd, locale, digits=4)
        tokens = number(budget.spent_tokens, locale)
        if budget.max_usd is None:
            spend = tn("replies.status.spent", budget.spent_tokens, spent=spent, tokens=tokens)
        else:
            spend = tn(
                "replies.status.spent-of-budget",
                budget.spent_tokens,
                spent=spent,
                budget=money(budget.max_usd, locale),
                tokens=tokens,
            )
        return [round_now, speaking, spend]

    async def _hosted(self, interaction: discord.Interaction[discord.Client]) -> Session:
        session = await session_here(interaction, self.store)
        settings = await self.store.guild_settings(session.guild_id or 0)
        ensure_host(interaction.user, settings)
        if session.status.is_final:
            raise UserFacingError(t(_ENDED[session.status], session=session.id))
        return session

    async def _live(
        self, interaction: discord.Interaction[discord.Client]
    ) -> tuple[Session, SessionRun]:
        session = await self._hosted(interaction)
        run = self.manager.run_for(session.id)
        if run is None:
            raise UserFacingError(t("replies.session.not-running", session=session.id))
        return session, run

    async def _audit(
        self, interaction: discord.Interaction[discord.Client], action: str, session_id: int
    ) -> None:
        await self.store.audit(interaction.guild_id, interaction.user.id, action, session_id)


async def setup(bot: CouncilBot) -> None:
    """Load the cog (discord.py extension entry point)."""
    await bot.add_cog(CouncilCog(bot))
