"""Runs a council session: rounds by format, audience questions, quorum, budget, synthesis.

`SessionRun` is one session's conductor. It records everything in the store as it happens and
tells a `Presenter` what to show. Hosts steer it between rounds (`pause`, `resume`, `advance`,
`add_round`, `end`) and can `stop` it at any moment, which cancels in-flight model calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections.abc import Callable, Collection, Coroutine, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.config import CouncilConfig
from bot.council.asking import Asking
from bot.council.blind import assign_aliases, identity_words, names_itself
from bot.council.budget import Budget, BudgetExceeded
from bot.council.charter import CharterFlag, breach_instruction, flags_to_json, parse_breaches
from bot.council.events import (
    AgreementReached,
    Presenter,
    RoundFinished,
    RoundStarted,
    SessionEnded,
    SessionPaused,
    SessionResumed,
    SessionStarted,
    SynthesisReady,
    TurnKey,
)
from bot.council.figures import decimal, plain, usd
from bot.council.formats import Step, chair_instruction, competing_members, plan_round
from bot.council.languages import prompt_language
from bot.council.models import (
    AudienceQuestion,
    Member,
    MemberQuestion,
    MemberRole,
    NewSession,
    Reply,
    ReplyKind,
    ReplyStatus,
    Round,
    Session,
    SessionRecord,
    SessionStatus,
    Stance,
)
from bot.council.prompts import (
    PromptRules,
    Seat,
    Turn,
    TurnKind,
    build_messages,
    in_language,
    questions_put,
    round_instruction,
    stop_strings,
    system_prompt,
)
from bot.council.review import (
    RETRY_INSTRUCTION,
    Ballot,
    make_ballot,
    parse_ranking,
    review_instruction,
)
from bot.council.screening import Screening
from bot.council.spec import SeatSpec, SessionSpec
from bot.council.stance import footer_instruction
from bot.council.synthesis import Synthesis, parse_synthesis, synthesis_instruction
from bot.council.tally import BordaScore, borda
from bot.council.turns import ReplyRecorder, TurnRequest, TurnRunner, failure_label
from bot.i18n import Text, localize, t
from bot.providers.types import ChatMessage, Provider

log = logging.getLogger(__name__)


class Recorder(ReplyRecorder, Protocol):
    """What the engine needs of the store."""

    async def create_session(self, new: NewSession) -> Session: ...
    async def get_session(self, session_id: int) -> Session | None: ...
    async def add_members(self, session_id: int, members: Sequence[Member]) -> None: ...
    async def set_session_status(
        self, session_id: int, status: SessionStatus, reason: str | None = None
    ) -> Session: ...
    async def start_round(
        self, session_id: int, number: int, question: str | None = None
    ) -> Round: ...
    async def finish_round(self, session_id: int, number: int) -> Round: ...
    async def add_question(
        self,
        session_id: int,
        user_id: int | None,
        display_name: str,
        text: str,
        *,
        max_pending: int | None = None,
        max_asked: int | None = None,
        addressee: str | None = None,
    ) -> AudienceQuestion: ...
    async def pending_questions(self, session_id: int) -> list[AudienceQuestion]: ...
    async def mark_questions_answered(
        self, question_ids: Iterable[int], round_number: int
    ) -> int: ...
    async def save_synthesis(self, session_id: int, synthesis_json: str) -> Session: ...
    async def flag_reply(self, reply_id: int, *, is_flagged: bool = True) -> Reply: ...
    async def add_stance(self, stance: Stance) -> Stance: ...
    async def add_member_question(
        self,
        session_id: int,
        asker: str,
        addressee: str,
        text: str,
        *,
        round_asked: int,
        asked_in_reply: int | None,
    ) -> MemberQuestion: ...
    async def mark_member_questions_answered(
        self, question_ids: Iterable[int], round_number: int, reply_id: int
    ) -> None: ...
    async def audit(
        self,
        guild_id: int | None,
        user_id: int | None,
        action: str,
        session_id: int | None = None,
        detail: str = "",
    ) -> Any: ...
    async def guild_spend_usd(self, guild_id: int, since: datetime) -> float: ...


class WallTimeExceeded(Exception):
    """The session ran past its maximum wall time."""


DAILY_BUDGET_WINDOW = timedelta(days=1)
# Questions other members may put to one member per round; the rest wait for the next round,
# so that one member cannot be flooded.
MAX_QUESTIONS_PER_ROUND = 2


def wall_time_reason(limit_s: float, locale: str | None = None) -> str:
    """Why a session that ran out of wall time stopped: seconds under a minute, else minutes."""
    if limit_s < 60:
        reason = t("council.stop.wall-seconds", limit=plain(limit_s, locale))
    else:
        reason = t("council.stop.wall-minutes", limit=plain(round(limit_s / 60, 1), locale))
    return localize(reason, locale)


class SessionRun:
    """One session from start to end. Create with `SessionRun.open`, then `await run()`."""

    def __init__(
        self,
        *,
        session: Session,
        members: Sequence[Member],
        spec: SessionSpec,
        config: CouncilConfig,
        providers: Mapping[str, Provider],
        store: Recorder,
        presenter: Presenter,
        rng: random.Random | None = None,
        screening: Screening | None = None,
    ) -> None:
        self.session = session
        self.members = list(members)
        self.spec = spec
        self.store = store
        self.presenter = presenter
        self.rng = rng or random.Random()  # noqa: S311  (shuffling for fairness, not secrecy)
        self.budget = Budget(spec.budget_tokens, spec.budget_usd, locale=spec.locale)
        self.turns = TurnRunner(
            session_id=session.id,
            config=config,
            providers=providers,
            store=store,
            presenter=presenter,
            budget=self.budget,
            member_timeout_s=spec.member_timeout_s,
            stall_timeout_s=spec.stall_timeout_s,
            locale=spec.locale,
            screening=screening,
            guild_id=spec.guild_id,
        )
        self.config = config
        self.rules = PromptRules(
            language=prompt_language(spec.language),
            max_words=spec.max_words,
            is_blind=spec.is_blind,
            charter=spec.charter,
        )
        self.language = in_language(self.rules.language)
        # What the models call each participant: aliases in a blind council.
        self.names = {m.persona: m.alias or m.persona for m in members}
        self.planned_rounds = spec.rounds
        self.current_round = 0
        self.transcript: list[Turn] = []
        self.results: dict[tuple[int, str], Reply] = {}
        self.ranking: list[BordaScore] = []
        self.synthesis: Synthesis | None = None
        # Replies the chair's check found breaking the charter (chaired councils with one).
        self.charter_flags: list[CharterFlag] = []
        self.speaking: set[str] = set()
        self.stances: dict[str, Stance] = {}
        # Questions members put to each other, waiting for their addressee (a persona).
        self._directed: dict[str, list[MemberQuestion]] = {}
        # Questions the playing round's answers put, stored with them; they wait from its end.
        self._put_now: list[MemberQuestion] = []
        # The steps of the round under way (empty between rounds).
        self._round_plan: list[Step] = []
        # This round's audience questions put to one member, by persona (its latest).
        self._audience_to: dict[str, AudienceQuestion] = {}
        # Whether each member's footer in a round kept its previous position (round, member).
        self._held: dict[tuple[int, str], bool] = {}
        self._has_offered_wrap_up = False
        self._stop_reason: str | None = None
        self._is_auto_stop = False
        self._interruption: str | None = None
        self._is_recording_end = False
        self._is_abandoned = False
        self._is_ending = False
        self._pause_requested: str | None = None
        self._resumed = asyncio.Event()
        self._advance = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._rounds_task: asyncio.Task[None] | None = None
        self._round_time_s = 0.0
        # The playing round's wall-time deadline, held while the round waits on a pause.
        self._wall: asyncio.Timeout | None = None
        self._wall_started = 0.0
        self._first_round = 1
        self._already_spoken: set[str] = set()
        # Members a host muted, and those muted when the playing round began (who sit it out).
        self._muted: set[str] = set(session.muted)
        self._sitting_out: frozenset[str] = frozenset()

    @classmethod
    async def open(
        cls,
        spec: SessionSpec,
        *,
        config: CouncilConfig,
        providers: Mapping[str, Provider],
        store: Recorder,
        presenter: Presenter | Callable[[Session], Presenter],
        rng: random.Random | None = None,
        screening: Screening | None = None,
    ) -> SessionRun:
        """Record a new session and its members, ready to run.

        `presenter` may be a factory given the new session, for presenters that need its id.
        """
        session = await store.create_session(
            NewSession(
                topic=spec.topic,
                format=spec.format,
                rounds=spec.rounds,
                preset=spec.preset,
                chair=spec.chair.name if spec.chair else None,
                language=spec.language,
                locale=spec.locale,
                is_blind=spec.is_blind,
                guild_id=spec.guild_id,
                channel_id=spec.channel_id,
                thread_id=spec.thread_id,
                host_id=spec.host_id,
                budget_tokens=spec.budget_tokens,
                budget_usd=spec.budget_usd,
                council_id=spec.council_id,
                charter=spec.charter,
                speaking_order=spec.speaking_order,
                end_on_agreement=spec.end_on_agreement,
            )
        )
        rng = rng or random.Random()  # noqa: S311  (shuffling for fairness, not secrecy)
        seating = _seating(spec)
        aliases = (
            assign_aliases([seat.name for seat, _ in seating], rng, spec.locale)
            if spec.is_blind
            else {}
        )
        members = [
            _member(session.id, position, seat, config, role, aliases.get(seat.name))
            for position, (seat, role) in enumerate(seating)
        ]
        await store.add_members(session.id, members)
        return cls(
            session=session,
            members=members,
            spec=spec,
            config=config,
            providers=providers,
            store=store,
            presenter=presenter if hasattr(presenter, "handle") else presenter(session),
            rng=rng,
            screening=screening,
        )

    @classmethod
    def restore(
        cls,
        record: SessionRecord,
        spec: SessionSpec,
        *,
        config: CouncilConfig,
        providers: Mapping[str, Provider],
        store: Recorder,
        presenter: Presenter,
        rng: random.Random | None = None,
        screening: Screening | None = None,
    ) -> SessionRun:
        """Rebuild a session interrupted mid-way (a restart, a pause) from its stored record.

        It goes on at the first unfinished round; members who already answered that round
        are not asked again, questions members put to each other are put again, and what was
        spent counts against the budget.
        """
        run = cls(
            session=record.session,
            members=record.members,
            spec=spec,
            config=config,
            providers=providers,
            store=store,
            presenter=presenter,
            rng=rng,
            screening=screening,
        )
        run.planned_rounds = max(spec.rounds, record.session.rounds)
        finished = [r.number for r in record.rounds if r.finished_at is not None]
        unfinished = [r.number for r in record.rounds if r.finished_at is None]
        run._first_round = min(unfinished) if unfinished else max(finished, default=0) + 1
        for number in sorted({r.number for r in record.rounds}):
            for q in record.questions:
                if q.answered_in_round == number:
                    run.transcript.append(Turn(number, q.display_name, TurnKind.QUESTION, q.text))
            for reply in sorted(record.replies, key=lambda r: r.id):
                if reply.round_number != number:
                    continue
                if reply.kind in (ReplyKind.ANSWER, ReplyKind.CHAIR):
                    run.results[(number, reply.persona)] = reply
                if reply.status is ReplyStatus.OK and reply.kind is not ReplyKind.REVIEW:
                    if reply.kind is ReplyKind.SYNTHESIS:
                        continue
                    kind = TurnKind.CHAIR if reply.kind is ReplyKind.CHAIR else TurnKind.ANSWER
                    run.transcript.append(Turn(number, reply.persona, kind, reply.text))
                    if number == run._first_round:
                        run._already_spoken.add(reply.persona)
        run._audience_to = {
            q.addressee: q
            for q in record.questions
            if q.addressee is not None and q.answered_in_round == run._first_round
        }
        run._restore_questions(record.member_questions)
        for stance in record.stances:
            run.stances[stance.persona] = stance
        run.budget.record_spent(
            sum(r.input_tokens + r.output_tokens for r in record.replies),
            sum(r.cost_usd for r in record.replies),
        )
        run.current_round = run._first_round - 1
        return run

    def _restore_questions(self, questions: Iterable[MemberQuestion]) -> None:
        """Take back the questions members put that no reply has answered yet: those of the
        round resumed (stored with its replies) wait from that round's end."""
        for question in questions:
            if question.answered_in_round is not None:
                continue
            if question.round_asked < self._first_round:
                self._directed.setdefault(question.addressee, []).append(question)
            else:
                self._put_now.append(question)

    # ------------------------------------------------------------------ host controls

    @property
    def competing(self) -> list[str]:
        """Members who answer (and compete for votes), in seating order."""
        chair = self.spec.chair.name if self.spec.chair else None
        return competing_members(self.spec.format, [m.name for m in self.spec.members], chair)

    @property
    def first_round(self) -> int:
        """The round this run started (or resumed) at."""
        return self._first_round

    @property
    def is_paused(self) -> bool:
        """True while the session waits for `resume`."""
        return not self._resumed.is_set() and self._pause_requested is not None

    def stop(self, reason: str | Text | None = None, *, is_automatic: bool = False) -> None:
        """Stop at once: cancel in-flight model calls and end the session as stopped.

        A catalog `reason` is stored and shown in the council's locale.

        Only the first stop counts: a second one (another host, the thread-lost handler) or a
        stop while the end is being recorded never cancels that recording.
        """
        if not self._is_stoppable:
            return
        self._stop_reason = self._say(reason or t("council.stop.by-the-host"))
        self._is_auto_stop = is_automatic
        if self._task is not None:
            self._task.cancel()

    def interrupt(self, reason: str | Text) -> None:
        """Stop at once because the session can't be shown; it is kept, paused, to resume.

        In-flight model calls are cancelled, so nothing more is spent while nobody can watch.
        """
        if not self._is_stoppable:
            return
        self._interruption = self._say(reason)
        if self._task is not None:
            self._task.cancel()

    def abandon(self) -> None:
        """Stop at once because another process runs the session now: cancel in-flight model
        calls, and record and show nothing more here (that process does both)."""
        self._is_abandoned = True
        self.turns.is_abandoned = True
        if self._task is not None:
            self._task.cancel()

    @property
    def is_abandoned(self) -> bool:
        """True once `abandon` was called."""
        return self._is_abandoned

    @property
    def is_stopping(self) -> bool:
        """True once the session is being stopped, interrupted or abandoned, or its end is
        recorded."""
        return not self._is_stoppable

    @property
    def _is_stoppable(self) -> bool:
        return (
            self._stop_reason is None
            and self._interruption is None
            and not self._is_recording_end
            and not self._is_abandoned
        )

    def end(self) -> None:
        """Skip the remaining rounds and go to the synthesis now."""
        self._is_ending = True
        if self._rounds_task is not None:
            self._rounds_task.cancel()

    def pause(self, reason: str | Text | None = None) -> None:
        """Pause before the next round: once the round under way ends, or now between rounds.

        A pause asked for during the last round never takes hold: no round follows it.
        """
        self._pause_requested = self._say(reason or t("council.pause.by-the-host"))
        self._resumed.clear()
        # Cut short the wait between rounds, if one is under way; `_between_rounds` then pauses.
        self._advance.set()

    def resume(self) -> None:
        """Go on after a pause (retrying members who failed if the pause was a lost quorum)."""
        self._pause_requested = None
        self._resumed.set()
        self._advance.set()

    def advance(self) -> None:
        """Start the next round now instead of waiting."""
        self._advance.set()

    def add_round(self) -> None:
        """Play one more round than planned."""
        self.planned_rounds += 1

    @property
    def muted(self) -> frozenset[str]:
        """The members muted now."""
        return frozenset(self._muted)

    def mute(self, name: str) -> None:
        """Leave a member out of every round that starts from now on; the one under way, if
        any, still hears from it. A muted member writes no review and no synthesis either."""
        self._muted.add(name)

    def unmute(self, name: str) -> None:
        """Let a muted member speak again from the next round."""
        self._muted.discard(name)

    @property
    def is_ending(self) -> bool:
        """True once the host has ended the council: no further round will start."""
        return self._is_ending

    @property
    def question_round(self) -> int | None:
        """The round a question asked now is put to, or None while no further round is planned
        (the last round, or an ending council); `add_round` plans one more."""
        upcoming = self.current_round + 1
        return None if self._is_ending or upcoming > self.planned_rounds else upcoming

    async def ask(
        self,
        user_id: int | None,
        display_name: str,
        text: str,
        *,
        max_pending: int | None = None,
        max_asked: int | None = None,
        to: str | None = None,
    ) -> AudienceQuestion:
        """Queue an audience question for the next round boundary; `to` (a persona, see
        `participant_called`) answers it first in that round.

        With `max_pending`, refuse a member who already has that many questions waiting; with
        `max_asked`, one who has asked this council that many in all.
        A question no round takes stays pending in the store (unanswered) when the council ends.
        """
        return await self.store.add_question(
            self.session.id,
            user_id,
            display_name,
            text,
            max_pending=max_pending,
            max_asked=max_asked,
            addressee=to,
        )

    def participant_called(self, name: str) -> str | None:
        """The persona a member of the audience means by `name`, or None for nobody here.

        In a blind council only the aliases name anyone: a persona's name would give it away.
        """
        wanted = name.strip().casefold()
        return next(
            (p for p in self._participants() if self.names.get(p, p).casefold() == wanted), None
        )

    def participant_names(self) -> list[str]:
        """The participants as the audience may name them (aliases in a blind council)."""
        return [self.shown(p) for p in self._participants()]

    def shown(self, persona: str) -> str:
        """A persona as the thread and the audience know it: its alias in a blind council."""
        return self.names.get(persona, persona)

    # ------------------------------------------------------------------ running

    async def run(self) -> Session:
        """Run the session to its end and return the final stored session."""
        self._task = asyncio.current_task()
        if self._interruption is not None:  # interrupted before it began
            return await self._interrupted()
        if self._stop_reason is not None:  # stopped before it began
            return await self._finish(SessionStatus.STOPPED, self._stop_reason)
        await self.presenter.handle(SessionStarted(self.session, self.members))
        try:
            self._rounds_task = asyncio.create_task(self._play_rounds())
            if self._is_ending:  # ended before it began (a host ending an interrupted council)
                self._rounds_task.cancel()
            try:
                await self._rounds_task
            except asyncio.CancelledError:
                if not (self._is_ending and _not_cancelled_itself()):
                    raise
            if self.spec.format == "review":
                await self._review()
            await self._synthesise()
            return await self._finish(SessionStatus.FINISHED, None)
        except asyncio.CancelledError:
            if self._interruption is not None and not self._is_abandoned:
                _uncancel()
                return await self._interrupted()
            if self._stop_reason is None or self._is_abandoned:
                # The process is shutting down (the session is left to be resumed), or the
                # session runs in another process now, which records and shows the rest.
                raise
            _uncancel()
            return await self._finish(
                SessionStatus.STOPPED, self._stop_reason, is_automatic=self._is_auto_stop
            )
        except BudgetExceeded as exc:
            reason = exc.localized(self.spec.locale)
            return await self._finish(SessionStatus.STOPPED, reason, is_automatic=True)
        except WallTimeExceeded:
            reason = wall_time_reason(self.spec.max_wall_s or 0, self.spec.locale)
            return await self._finish(SessionStatus.STOPPED, reason, is_automatic=True)
        except Exception:
            log.exception("session %d failed", self.session.id)
            return await self._finish(
                SessionStatus.FAILED, self._say(t("council.stop.failed")), is_automatic=True
            )

    async def _finish(
        self, status: SessionStatus, reason: str | None, *, is_automatic: bool = False
    ) -> Session:
        self._is_recording_end = True
        await self.store.set_session_status(self.session.id, status, reason)
        if is_automatic:
            await self._audit("session.autostop", reason or str(status))
        stored = await self.store.get_session(self.session.id)
        self.session = stored or self.session
        await self.presenter.handle(SessionEnded(self.session))
        return self.session

    async def _interrupted(self) -> Session:
        """Keep the session paused, with the reason, for `/council resume`; it has not ended."""
        self._is_recording_end = True
        reason = self._say(t("council.interrupted", reason=self._interruption))
        self.session = await self.store.set_session_status(
            self.session.id, SessionStatus.PAUSED, reason
        )
        await self._audit("session.interrupt", reason)
        return self.session

    def _say(self, text: str | Text) -> str:
        """The bot's own words in the council's locale, as they are stored and shown."""
        return localize(text, self.spec.locale)

    async def _audit(self, action: str, detail: str) -> None:
        # Automatic stops are audited like a host's, with no member behind them.
        await self.store.audit(self.session.guild_id, None, action, self.session.id, detail)

    async def _play_rounds(self) -> None:
        number = self._first_round
        while number <= self.planned_rounds:
            if number > self._first_round or (number > 1 and self._pause_requested):
                await self._between_rounds()
            await self._check_daily_budget()
            self.current_round = number
            self._sitting_out = frozenset(self._muted)
            questions = await self.store.pending_questions(self.session.id)
            await self.store.start_round(self.session.id, number)
            if questions:
                await self.store.mark_questions_answered([q.id for q in questions], number)
            for q in questions:
                self.transcript.append(Turn(number, q.display_name, TurnKind.QUESTION, q.text))
            self._audience_to = {q.addressee: q for q in questions if q.addressee is not None}
            await self.presenter.handle(RoundStarted(number, None, questions))
            replies = await self._timed(self._play_round(number, bool(questions)))
            await self.store.finish_round(self.session.id, number)
            await self.presenter.handle(RoundFinished(number, replies))
            if self._agreed(number):
                self._has_offered_wrap_up = True
                ending = self.spec.end_on_agreement
                await self.presenter.handle(AgreementReached(number, is_ending=ending))
                if ending:
                    self._is_ending = True
                    await self._audit("session.end", self._say(t("council.agreement.ending")))
                    return
            number += 1

    def _agreed(self, number: int) -> bool:
        """Whether the council may wrap up after round `number` (rule-based, not a judge):
        every member speaking it kept its stance from the round before, saying it had not
        changed, and no member put a question to another that waits for an answer.

        Offered once, and only while another round is still planned.
        """
        if self._has_offered_wrap_up or self._directed or number >= self.planned_rounds:
            return False
        members = [m for m in self.competing if m not in self._sitting_out]
        return bool(members) and all(self._held.get((number, m), False) for m in members)

    async def _timed(self, work: Coroutine[Any, Any, list[Reply]]) -> list[Reply]:
        """Play a round within what is left of the wall time.

        Only time spent in rounds counts: a council paused between rounds or, for a lost
        quorum, inside one (see `_wait_for_resume`) is not using its time.
        """
        self._wall_started = time.monotonic()
        try:
            async with asyncio.timeout_at(self._wall_deadline()) as wall:
                self._wall = wall
                return await work
        except TimeoutError:
            raise WallTimeExceeded from None
        finally:
            self._wall = None
            self._round_time_s += time.monotonic() - self._wall_started

    def _wall_deadline(self) -> float | None:
        """When the wall time runs out if the clock runs from now (loop time), or None."""
        limit = self.spec.max_wall_s
        if limit is None:
            return None
        return asyncio.get_running_loop().time() + max(0.0, limit - self._round_time_s)

    async def _check_daily_budget(self) -> None:
        """Refuse to start a round while the guild is over its daily budget."""
        daily = self.spec.daily_budget_usd
        if daily is None or self.spec.guild_id is None:
            return
        since = datetime.now(UTC) - DAILY_BUDGET_WINDOW
        spent = await self.store.guild_spend_usd(self.spec.guild_id, since)
        if spent >= daily:
            raise BudgetExceeded(
                t(
                    "council.stop.daily-budget",
                    spent=usd(spent, self.spec.locale, 2),
                    budget=usd(daily, self.spec.locale, 2),
                )
            )

    async def _between_rounds(self) -> None:
        if self._pause_requested is None:
            await self._wait_to_advance()
        # Asked for during the round, or during the wait (which `pause` cuts short). Resuming
        # starts the next round at once: the pause has given everyone their time.
        if self._pause_requested is not None:
            await self._wait_for_resume(self._pause_requested)

    async def _wait_to_advance(self) -> None:
        if not self.spec.auto_advance:
            self._advance.clear()
            await self._advance.wait()
        elif self.spec.pause_between_rounds_s > 0:
            self._advance.clear()
            try:
                async with asyncio.timeout(self.spec.pause_between_rounds_s):
                    await self._advance.wait()
            except TimeoutError:
                pass  # the pause for votes and questions is over

    async def _wait_for_resume(self, reason: str) -> None:
        wall = self._wall if self._wall is not None and not self._wall.expired() else None
        if wall is not None:
            # Paused inside a round (a lost quorum): stop the round's clock until resumed.
            self._round_time_s += time.monotonic() - self._wall_started
            wall.reschedule(None)
        self._pause_requested = reason
        self._resumed.clear()
        await self.store.set_session_status(self.session.id, SessionStatus.PAUSED, reason)
        await self.presenter.handle(SessionPaused(reason))
        await self._resumed.wait()
        if wall is not None:
            self._wall_started = time.monotonic()
            wall.reschedule(self._wall_deadline())
        await self.store.set_session_status(self.session.id, SessionStatus.RUNNING)
        await self.presenter.handle(SessionResumed(self.current_round + 1))

    def _plan(
        self, number: int, audience_to: Collection[str], sitting_out: Collection[str]
    ) -> list[Step]:
        """Round `number`'s steps: the format's, in the council's speaking order, members the
        audience put a question to (`audience_to`) first."""
        chair = self.spec.chair.name if self.spec.format == "chaired" and self.spec.chair else None
        steps = plan_round(
            self.spec.format,
            number,
            [m.name for m in self.spec.members if m.name not in sitting_out],
            chair,
            addressed_first=[*audience_to, *self._directed],
            order=self.spec.speaking_order,
            spoken=self._spoken(),
        )
        # A member the audience put a question to speaks first, whatever the format's order.
        return sorted(
            steps,
            key=lambda s: (s.kind is not ReplyKind.CHAIR, not set(s.speakers) & set(audience_to)),
        )

    async def next_speaker(self) -> str | None:
        """Who speaks next in a debate, as far as is known now: the next of the round under
        way, or between rounds the first of the next one. None when no round follows, or when
        members speak together (other formats)."""
        if self.spec.format != "debate":
            return None
        if self._round_plan:
            number, steps = self.current_round, self._round_plan
        else:
            number = self.current_round + 1
            if self.question_round != number:
                return None
            pending = await self.store.pending_questions(self.session.id)
            audience_to = [q.addressee for q in pending if q.addressee is not None]
            steps = self._plan(number, audience_to, self._muted)
        spoken = {p for n, p in self.results if n == number} | self.speaking
        return next((p for step in steps for p in step.speakers if p not in spoken), None)

    async def _play_round(self, number: int, has_questions: bool) -> list[Reply]:
        steps = self._plan(number, self._audience_to, self._sitting_out)
        self._round_plan = steps
        try:
            return await self._play_steps(number, steps, has_questions)
        finally:
            self._round_plan = []

    async def _play_steps(self, number: int, steps: list[Step], has_questions: bool) -> list[Reply]:
        replies: list[Reply] = []
        for planned in steps:
            # A resumed round does not ask again those who already spoke in it.
            speakers = [s for s in planned.speakers if s not in self._already_spoken]
            if self.spec.is_blind and len(planned.speakers) > 1:
                self.rng.shuffle(speakers)  # so posting order gives nobody away
            step = Step(tuple(speakers), planned.kind)
            if not step.speakers:
                continue
            if step.kind is ReplyKind.CHAIR:
                ask = chair_instruction(number, has_questions=has_questions, language=self.language)
                # A chair may be asked too: it answers before it opens the round.
                instructions = {
                    name: "\n".join([*questions_put(self._question_lines(name)), ask])
                    for name in step.speakers
                }
                done = await self._step(number, step.kind, instructions)
            else:
                instructions = self._answer_instructions(number, step.speakers)
                done = await self._step(number, step.kind, instructions)
            replies += done
        earlier = [r for (n, _), r in self.results.items() if n == number and r not in replies]
        replies = await self._ensure_quorum(number, [*earlier, *replies])
        self._already_spoken = set()
        self._directed = await self._put_questions(number)
        return replies

    def _spoken(self) -> dict[str, int]:
        """How many answers each member has given so far in this council."""
        counts: dict[str, int] = {}
        for reply in self.results.values():
            if reply.kind is ReplyKind.ANSWER and reply.status is ReplyStatus.OK:
                counts[reply.persona] = counts.get(reply.persona, 0) + 1
        return counts

    def _answer_instructions(self, number: int, names: Iterable[str]) -> dict[str, str]:
        """What each member is asked for its answer in round `number` (a retry too): first the
        questions other members put to it, then the round's task, then the stance footer."""
        answers_chair = any(
            r.kind is ReplyKind.CHAIR and r.status is ReplyStatus.OK
            for (n, _), r in self.results.items()
            if n == number
        )
        return {
            name: round_instruction(
                number,
                is_first=number == 1,
                directed=self._question_lines(name),
                answers_chair=answers_chair,
            )
            + "\n"
            + footer_instruction(self.language)
            for name in names
        }

    def _due(self, name: str) -> list[MemberQuestion]:
        """The questions `name` is to answer this round: the first few put to it."""
        return self._directed.get(name, [])[:MAX_QUESTIONS_PER_ROUND]

    def _question_lines(self, name: str) -> list[str]:
        """The questions due from `name` as its instruction gives them: the audience's first."""
        lines = []
        if (asked := self._audience_to.get(name)) is not None:
            said = t("council.audience-asked", name=asked.display_name, question=asked.text)
            lines.append(self._say(said))
        return lines + [
            self._say(t("council.asked", asker=self.names.get(q.asker, q.asker), question=q.text))
            for q in self._due(name)
        ]

    async def _step(
        self, number: int, kind: ReplyKind, instructions: Mapping[str, str]
    ) -> list[Reply]:
        """Run the speakers (the keys) concurrently on the transcript as it stands now."""
        snapshot = tuple(self.transcript)
        outcomes = await asyncio.gather(
            *(
                self._speak(name, kind, number, snapshot, instruction)
                for name, instruction in instructions.items()
            ),
            return_exceptions=True,
        )
        replies: list[Reply] = []
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome  # budget or a bug: other members' replies are already stored
            replies.append(outcome)
            self.results[(number, outcome.persona)] = outcome
            if outcome.status is ReplyStatus.OK and kind in (ReplyKind.ANSWER, ReplyKind.CHAIR):
                turn_kind = TurnKind.CHAIR if kind is ReplyKind.CHAIR else TurnKind.ANSWER
                self.transcript.append(Turn(number, outcome.persona, turn_kind, outcome.text))
        return replies

    async def _speak(
        self,
        name: str,
        kind: ReplyKind,
        number: int,
        transcript: Sequence[Turn],
        instruction: str,
        extra: Sequence[ChatMessage] = (),
    ) -> Reply:
        seat = self.spec.seat(name)
        if seat is None:  # spec validation makes this unreachable; fail loudly if not
            raise LookupError(name)
        participants = [self.names.get(p, p) for p in self._participants()]
        shown = self.names.get(name, name)
        messages = build_messages(
            name, self.spec.topic, transcript, instruction, self.names, self.spec.memory
        )
        if extra:
            messages = (*messages, *extra)
        is_chair = kind in (ReplyKind.CHAIR, ReplyKind.SYNTHESIS)
        is_answer = kind in (ReplyKind.ANSWER, ReplyKind.CHAIR)
        self.speaking.add(name)
        try:
            reply = await self.turns.run(
                TurnRequest(
                    key=TurnKey(number, name, kind),
                    display_name=shown,
                    model_key=seat.model_key,
                    system=system_prompt(
                        Seat(shown, seat.style),
                        [p for p in participants if p != shown],
                        self.rules,
                        is_chair=is_chair,
                    ),
                    messages=messages,
                    stop=stop_strings(shown, participants),
                    participants=participants,
                    speaker_name=shown,
                    answering=self._due(name) if is_answer else (),
                    asking=self._asking(name) if kind is ReplyKind.ANSWER else None,
                )
            )
        finally:
            self.speaking.discard(name)
        self._put_now += self.turns.questions_of(reply.id)
        if reply.status is ReplyStatus.WITHHELD:
            why = f"{reply.moderation_category or '-'} ({reply.moderation_source or '-'})"
            shown = self.shown(reply.persona)
            await self._audit("reply.withhold", f"reply {reply.id} of {shown}: {why}")
        if reply.status is ReplyStatus.OK and kind is ReplyKind.ANSWER:
            await self._record_stance(reply)
        if self.spec.is_blind and reply.status is ReplyStatus.OK and kind is ReplyKind.ANSWER:
            model = self.config.models[seat.model_key]
            kind_of = self.config.providers[model.provider].kind
            if names_itself(reply.text, identity_words(name, model, kind_of)):
                # Votes on a reply that gave its author away don't count on the leaderboard.
                reply = await self.store.flag_reply(reply.id)
        return reply

    async def _record_stance(self, reply: Reply) -> None:
        footer = self.turns.stance_of(reply.id)
        if footer is None:
            return
        previous = self.stances.get(reply.persona)
        moved = previous is not None and previous.label != footer.label
        self._held[(reply.round_number, reply.persona)] = (
            previous is not None and not moved and not footer.says_changed
        )
        stance = await self.store.add_stance(
            Stance(
                session_id=self.session.id,
                round_number=reply.round_number,
                persona=reply.persona,
                label=footer.label,
                claim=footer.claim,
                confidence=footer.confidence,
                is_changed=moved,
                previous_label=previous.label if previous is not None else None,
                reason=footer.reason if moved else None,
            )
        )
        self.stances[reply.persona] = stance

    def _participants(self) -> list[str]:
        names = [m.name for m in self.spec.members]
        if self.spec.chair and self.spec.chair.name not in names:
            names.append(self.spec.chair.name)
        return names

    async def _ensure_quorum(self, number: int, replies: list[Reply]) -> list[Reply]:
        """A round needs half the members; else pause, and on resume retry those who failed.

        Members sitting the round out (muted) are not counted.
        """
        members = [m for m in self.competing if m not in self._sitting_out]
        needed = math.ceil(len(members) / 2)
        while True:
            latest = {
                r.persona: r for r in replies if r.kind is ReplyKind.ANSWER and r.persona in members
            }
            answered = [m for m in members if m in latest and latest[m].status is ReplyStatus.OK]
            if len(answered) >= needed:
                return replies
            failed = [m for m in members if m not in answered]
            reasons = ", ".join(
                self._say(
                    t(
                        "council.member-failed",
                        name=self.shown(m),
                        failure=failure_label(latest[m].error_kind),
                    )
                )
                for m in failed
                if m in latest
            )
            await self._wait_for_resume(
                self._say(
                    t(
                        "council.pause.quorum",
                        answered=len(answered),
                        members=len(members),
                        round=number,
                        reasons=reasons,
                        needed=needed,
                    )
                )
            )
            # Debate members speak one at a time, so a retry keeps that order.
            groups = [[name] for name in failed] if self.spec.format == "debate" else [failed]
            for group in groups:
                retry = self._answer_instructions(number, group)
                replies += await self._step(number, ReplyKind.ANSWER, retry)

    def _asking(self, name: str) -> Asking:
        """Whom `name`'s answer may put questions to: any member (the chair of a chaired
        council too), never again a question of its own that waits for its answer."""
        askable = [*self.competing]
        if self.spec.format == "chaired" and self.spec.chair is not None:
            askable.append(self.spec.chair.name)
        waiting = [*(q for qs in self._directed.values() for q in qs), *self._put_now]
        return Asking(
            speaker=name,
            names={p: self.names.get(p, p) for p in askable},
            waiting=frozenset((q.addressee, q.text) for q in waiting if q.asker == name),
        )

    async def _put_questions(self, number: int) -> dict[str, list[MemberQuestion]]:
        """The questions waiting after round `number`: those it did not answer, and those its
        answers put (already stored with them).

        A question due in round `number` is answered by its addressee's reply there; one it
        did not answer (it failed or sat out, or more were put to it than one round takes)
        waits.
        """
        directed: dict[str, list[MemberQuestion]] = {}
        for persona, questions in self._directed.items():
            reply = self.results.get((number, persona))
            waiting = list(questions)
            if reply is not None and reply.status is ReplyStatus.OK:
                due, waiting = waiting[:MAX_QUESTIONS_PER_ROUND], waiting[MAX_QUESTIONS_PER_ROUND:]
                await self.store.mark_member_questions_answered(
                    [q.id for q in due], number, reply.id
                )
            if waiting:
                directed[persona] = waiting
        for question in sorted(self._put_now, key=lambda q: q.id):
            directed.setdefault(question.addressee, []).append(question)
        self._put_now = []
        return directed

    # ------------------------------------------------------------------ review and synthesis

    async def _review(self) -> None:
        """Each member ranks the others' last answers, anonymised; aggregate by Borda count."""
        last = self.current_round
        answers = {
            name: self.results[(last, name)].text
            for name in self.competing
            if (last, name) in self.results and self.results[(last, name)].status is ReplyStatus.OK
        }
        if len(answers) < 2:
            return
        reviewers = [n for n in self.competing if n in answers and n not in self._muted]
        ballots = {name: make_ballot(name, answers, self.rng) for name in reviewers}
        rankings = await asyncio.gather(*(self._rank(last, ballots[n]) for n in reviewers))
        self.ranking = borda({n: r for n, r in zip(reviewers, rankings, strict=True) if r})

    async def _rank(self, number: int, ballot: Ballot) -> list[str] | None:
        instruction = review_instruction(ballot, self.language)
        transcript = tuple(self.transcript)
        reply = await self._speak(
            ballot.reviewer, ReplyKind.REVIEW, number, transcript, instruction
        )
        if reply.status is not ReplyStatus.OK:
            return None
        ranking = parse_ranking(reply.text, ballot)
        if ranking is not None:
            return ranking
        retry = await self._speak(
            ballot.reviewer,
            ReplyKind.REVIEW,
            number,
            transcript,
            instruction,
            extra=(ChatMessage("assistant", reply.text), ChatMessage("user", RETRY_INSTRUCTION)),
        )
        return parse_ranking(retry.text, ballot) if retry.status is ReplyStatus.OK else None

    def coverage(self) -> str:
        """Who answered every round, and who failed where, in one line."""
        members = self.competing
        played = sorted({n for n, _ in self.results})
        misses: dict[str, list[str]] = {}
        for name in members:
            for number in played:
                reply = self.results.get((number, name))
                if reply is None or reply.kind is not ReplyKind.ANSWER:
                    continue
                if reply.status is not ReplyStatus.OK:
                    miss = t(
                        "council.coverage.miss",
                        failure=failure_label(reply.error_kind),
                        round=number,
                    )
                    misses.setdefault(name, []).append(self._say(miss))
        if not misses:
            return self._say(t("council.coverage.all", members=len(members)))
        details = "; ".join(
            self._say(t("council.coverage.member", name=name, misses=", ".join(where)))
            for name, where in misses.items()
        )
        complete = len(members) - len(misses)
        return self._say(
            t("council.coverage.some", complete=complete, members=len(members), details=details)
        )

    async def _synthesise(self) -> None:
        coverage = self.coverage()
        answered = {
            r.persona
            for r in self.results.values()
            if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
        }
        ranking_lines = [
            self._say(
                t(
                    "council.ranking-line",
                    name=s.candidate,
                    points=decimal(s.average, self.spec.locale, 2),
                )
            )
            for s in self.ranking
        ]
        if len(answered) < 2:
            if answered:
                only = t("council.coverage.only", coverage=coverage, only=", ".join(answered))
            else:
                only = t("council.coverage.no-one", coverage=coverage)
            await self._save_synthesis(None, self._say(only))
            return
        instruction = synthesis_instruction(
            self.language, coverage, ranking_lines, has_memory=bool(self.spec.memory)
        )
        number = max(self.current_round, 1)
        checker = self.spec.chair.name if self.spec.chair and self._checks_charter else None
        for seat in self._summarisers():
            asked = instruction + (self._breach_request() if seat.name == checker else "")
            reply = await self._speak(
                seat.name, ReplyKind.SYNTHESIS, number, tuple(self.transcript), asked
            )
            if reply.status is ReplyStatus.OK:
                parsed = parse_synthesis(reply.text, seat.name)
                self.synthesis = parsed.model_copy(update={"ranking": ranking_lines})
                if seat.name == checker:
                    shown = {self.names.get(p, p): p for p in self.competing}
                    self.charter_flags = parse_breaches(reply.text, shown, self._answered())
                break
        await self._save_synthesis(self.synthesis, coverage)

    @property
    def _checks_charter(self) -> bool:
        """Whether the chair checks the replies against a charter: a chaired council with one."""
        return self.spec.format == "chaired" and bool(self.spec.charter)

    def _answered(self) -> set[tuple[int, str]]:
        """(round, persona) of every answer given."""
        return {
            key
            for key, r in self.results.items()
            if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
        }

    def _breach_request(self) -> str:
        """What the chair's synthesis request adds: the charter check, with who answered when
        (the transcript it reads does not number the rounds)."""
        answered = self._answered()
        names = [self.names.get(p, p) for p in self.competing]
        order = "; ".join(
            f"round {n}: "
            + ", ".join(self.names.get(p, p) for p in self.competing if (n, p) in answered)
            for n in sorted({n for n, _ in answered})
        )
        return breach_instruction(names, self.language) + f"\nWho answered: {order}."

    def _summarisers(self) -> list[SeatSpec]:
        order = [self.spec.chair, self.spec.summariser, *self.spec.members]
        seen: list[SeatSpec] = []
        for seat in order:
            if seat is not None and all(s.name != seat.name for s in seen):
                seen.append(seat)
        # A muted member does not write the synthesis while anyone else can.
        return [s for s in seen if s.name not in self._muted] or seen

    async def _save_synthesis(self, synthesis: Synthesis | None, coverage: str) -> None:
        record = {
            "coverage": coverage,
            "synthesis": synthesis.model_dump() if synthesis else None,
            "charter_flags": flags_to_json(self.charter_flags),
            "ranking": [
                {"persona": s.candidate, "points": s.points, "ballots": s.ballots}
                for s in self.ranking
            ],
        }
        await self.store.save_synthesis(self.session.id, json.dumps(record))
        await self.presenter.handle(SynthesisReady(synthesis, coverage))


def _seating(spec: SessionSpec) -> list[tuple[SeatSpec, MemberRole]]:
    seats = [
        (
            seat,
            MemberRole.CHAIR
            if spec.format == "chaired" and spec.chair and seat.name == spec.chair.name
            else MemberRole.MEMBER,
        )
        for seat in spec.members
    ]
    if spec.chair and all(seat.name != spec.chair.name for seat in spec.members):
        seats.append((spec.chair, MemberRole.CHAIR))
    return seats


def _member(
    session_id: int,
    position: int,
    seat: SeatSpec,
    config: CouncilConfig,
    role: MemberRole,
    alias: str | None,
) -> Member:
    model = config.models[seat.model_key]
    return Member(
        session_id=session_id,
        position=position,
        persona=seat.name,
        model_key=seat.model_key,
        model=model.model,
        provider=model.provider,
        role=role,
        color=seat.color,
        avatar_url=seat.avatar_url,
        alias=alias,
    )


def _not_cancelled_itself() -> bool:
    task = asyncio.current_task()
    return task is None or task.cancelling() == 0


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None:
        task.uncancel()
