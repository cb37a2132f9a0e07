"""One model turn: budget check, streaming with live cleaning, timeout, and the stored record."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.config import CouncilConfig
from bot.council.asking import Asking
from bot.council.budget import Budget, Reservation, estimate_tokens
from bot.council.events import (
    MemberFailed,
    MemberFinished,
    MemberStarted,
    Presenter,
    TextDelta,
    TurnKey,
)
from bot.council.figures import plain
from bot.council.models import MemberQuestion, NewReply, Reply, ReplyStatus
from bot.council.moderation import Verdict
from bot.council.prompts import clean_reply, impersonation_start
from bot.council.screening import Screening, StreamScreen
from bot.council.stance import (
    StanceFooter,
    parse_footer,
    strip_footer,
    strip_streaming_footer,
)
from bot.errors import ProviderError, ProviderErrorKind
from bot.i18n import Text, localize, t
from bot.providers.types import ChatMessage, Completion, CompletionRequest, Delta, Provider

log = logging.getLogger(__name__)

# The error kind of a reply moderation withheld: coverage and quorum lines count it as missing.
WITHHELD = "withheld"
# Short reason classes the audience sees for a failed member; never a stack trace.
FAILURE_LABELS: Mapping[str, Text] = {
    ProviderErrorKind.AUTH: t("council.failure.auth"),
    ProviderErrorKind.MODEL_NOT_FOUND: t("council.failure.model-not-found"),
    ProviderErrorKind.RATE_LIMITED: t("council.failure.rate-limited"),
    ProviderErrorKind.TIMEOUT: t("council.failure.timeout"),
    ProviderErrorKind.OVERLOADED: t("council.failure.overloaded"),
    ProviderErrorKind.UNREACHABLE: t("council.failure.unreachable"),
    ProviderErrorKind.BAD_RESPONSE: t("council.failure.bad-response"),
    ProviderErrorKind.REFUSED: t("council.failure.refused"),
    "empty": t("council.failure.empty"),
    "stopped": t("council.failure.stopped"),
    WITHHELD: t("council.failure.withheld"),
}


def failure_label(kind: str | None) -> Text:
    """What the audience is told a failed member did ("timed out"), by its error kind."""
    return FAILURE_LABELS.get(kind or "", t("council.failure.other"))


CLEAN_INTERVAL_S = 0.1
DEFAULT_STALL_TIMEOUT_S = 30.0
CUT_OFF_NOTE = t("council.cut-off")


@dataclass(frozen=True, slots=True)
class Usage:
    """The tokens a call is charged for, and whether they were estimated from the text."""

    input_tokens: int
    output_tokens: int
    is_estimated: bool


NO_USAGE = Usage(0, 0, is_estimated=False)


def failed_call_usage(
    prompt_tokens: int,
    streamed: str,
    *,
    error: ProviderError | None = None,
    completion: Completion | None = None,
) -> Usage:
    """What a call that ended without a reply is charged.

    A call whose completion arrived (an empty reply) is charged the usage it reports. Otherwise
    no usage came with the failure, and the rule goes by what the provider did for the call:

    - Text streamed: the provider accepted the request and generated. The prompt and the text
      streamed so far count, both estimated.
    - Nothing streamed, and the provider turned the call away: an error response (a rejected
      key, an unknown model, a rate limit, an overload: any failure with an HTTP status) or no
      connection at all. The provider did no work, so nothing counts.
    - Nothing streamed otherwise (a time-out or a stop while the model was thinking, a refusal
      or an unreadable stream after the provider accepted the request): the prompt reached the
      provider and counts, estimated. When it is unclear, the call counts: a budget must not
      under-count.

    `error` is the provider's failure, or None for a time-out, a stop or an empty reply.
    """
    if completion is not None:
        return Usage(completion.input_tokens, completion.output_tokens, completion.tokens_estimated)
    if streamed:
        return Usage(prompt_tokens, estimate_tokens(streamed), is_estimated=True)
    if error is not None and (
        error.status is not None or error.kind is ProviderErrorKind.UNREACHABLE
    ):
        return NO_USAGE
    return Usage(prompt_tokens, 0, is_estimated=True)


class ReplyRecorder(Protocol):
    """The store's part in a turn."""

    async def add_reply(self, new: NewReply, asks: Sequence[tuple[str, str]] = ()) -> Reply:
        """Store a reply or failure, with the questions it puts (addressee, question)."""
        ...

    async def questions_put_in(self, reply: Reply) -> list[MemberQuestion]:
        """The questions a stored reply put to other members."""
        ...


class _IdleWatch:
    """Ends `timeout` once `limit_s` pass without a `touch`, from the first touch on.

    Replies stream in hundreds of pieces; rescheduling a timeout for each would arm and
    cancel a timer each time. One timer is armed instead, and when it fires it only looks:
    if a piece came since, it is armed again for that piece's deadline.
    """

    def __init__(self, timeout: asyncio.Timeout, limit_s: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._timeout = timeout
        self._limit_s = limit_s
        self._last = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def touch(self) -> None:
        """A piece arrived: the quiet spell starts again."""
        self._last = self._loop.time()
        if self._timer is None:
            self._timer = self._loop.call_at(self._last + self._limit_s, self._check)

    def _check(self) -> None:
        due = self._last + self._limit_s
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check)
            return
        # Left set, so a late `touch` cannot arm it again.
        self._timeout.reschedule(self._loop.time())

    def close(self) -> None:
        """Stop watching (the stream is over)."""
        if self._timer is not None:
            self._timer.cancel()


@dataclass(slots=True)
class _Streamed:
    """What a turn's stream has brought so far: all its text, the part shown, its end."""

    raw: str = ""
    shown: str = ""
    completion: Completion | None = None
    is_stalled: bool = False


@dataclass(frozen=True, slots=True)
class TurnRequest:
    """One call to make: who speaks, as what, with which prompt.

    `speaker_name` and `participants` are the names the models use (aliases when blind).
    """

    key: TurnKey
    display_name: str
    model_key: str
    system: str
    messages: tuple[ChatMessage, ...]
    stop: tuple[str, ...]
    participants: Sequence[str]
    speaker_name: str
    # The questions other members put to the speaker that it is asked to answer.
    answering: Sequence[MemberQuestion] = ()
    # Whom the reply may put questions to (None: it puts none, as a chair's turn or a review).
    asking: Asking | None = None


class TurnRunner:
    """Runs turns for one session: owns its budget, timeout and where replies are recorded."""

    def __init__(
        self,
        *,
        session_id: int,
        config: CouncilConfig,
        providers: Mapping[str, Provider],
        store: ReplyRecorder,
        presenter: Presenter,
        budget: Budget,
        member_timeout_s: float,
        stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
        locale: str | None = None,
        screening: Screening | None = None,
        guild_id: int | None = None,
    ) -> None:
        self.session_id = session_id
        self.config = config
        self.providers = providers
        self.store = store
        self.presenter = presenter
        self.budget = budget
        self.member_timeout_s = member_timeout_s
        self.stall_timeout_s = stall_timeout_s
        # The council's locale: the failure notes and length note are stored in it.
        self.locale = locale
        # Moderation: the guild's rules and the operator's model (none: only mentions are
        # defused, where the reply is shown).
        self.screening = screening or Screening()
        self.guild_id = guild_id
        self._footers: dict[int, StanceFooter] = {}
        self._questions: dict[int, list[MemberQuestion]] = {}
        # Set once another process runs the council: a call cancelled then is neither stored
        # nor shown here, since that process records and shows the council from now on.
        self.is_abandoned = False

    async def run(self, turn: TurnRequest) -> Reply:
        """Make the call, streaming text to the presenter; return the stored reply or failure.

        Raises `BudgetExceeded` before calling when the call could overrun the budget.
        Cancellation records the partial reply as stopped (unless the council is abandoned
        here), then propagates. A call that fails is charged what `failed_call_usage` says, to
        the budget and on its stored record.
        """
        model = self.config.models[turn.model_key]
        # Read before reserving: the guild's rules as they are now, for this reply.
        screen = StreamScreen(await self.screening.moderator(self.guild_id))
        prompt_tokens = estimate_tokens(turn.system) + sum(
            estimate_tokens(m.content) for m in turn.messages
        )
        reservation = self.budget.reserve(
            turn.display_name,
            prompt_tokens + model.max_tokens,
            model.cost_usd(prompt_tokens, model.max_tokens),
        )
        request = CompletionRequest(
            model=model.model,
            system=turn.system,
            messages=turn.messages,
            max_tokens=model.max_tokens,
            temperature=model.temperature,
            stop=turn.stop,
        )
        await self.presenter.handle(MemberStarted(turn.key, turn.display_name, turn.answering))
        started = time.monotonic()
        got = _Streamed()
        try:
            await self._read(turn, request, screen, got)
        except ProviderError as exc:
            return await self._failed(
                turn,
                exc.kind,
                exc.message,
                got.shown,
                started,
                reservation,
                failed_call_usage(prompt_tokens, got.raw, error=exc),
            )
        except TimeoutError:
            message = (
                t(
                    "council.error.stalled",
                    name=turn.display_name,
                    seconds=plain(self.stall_timeout_s, self.locale),
                )
                if got.is_stalled
                else t(
                    "council.error.too-slow",
                    name=turn.display_name,
                    seconds=f"{self.member_timeout_s:.0f}",
                )
            )
            return await self._failed(
                turn,
                ProviderErrorKind.TIMEOUT,
                message,
                got.shown,
                started,
                reservation,
                failed_call_usage(prompt_tokens, got.raw),
            )
        except asyncio.CancelledError:
            if not self.is_abandoned:
                await self._failed(
                    turn,
                    "stopped",
                    t("council.error.cancelled"),
                    got.shown,
                    started,
                    reservation,
                    failed_call_usage(prompt_tokens, got.raw),
                )
            raise
        raw, shown, completion = got.raw, got.shown, got.completion

        said = clean_reply(
            completion.text if completion else raw, turn.speaker_name, turn.participants
        )
        if screen.is_withheld:
            usage = failed_call_usage(prompt_tokens, raw)
            return await self._record(turn, said, started, reservation, usage, screen.verdict)
        footer = parse_footer(said)
        text = strip_footer(said)
        if text and completion is not None and completion.finish_reason == "length":
            text += f" …\n{localize(CUT_OFF_NOTE, self.locale)}"
        if not text:
            return await self._failed(
                turn,
                "empty",
                t("council.error.empty"),
                "",
                started,
                reservation,
                failed_call_usage(prompt_tokens, raw, completion=completion),
            )
        usage = (
            Usage(completion.input_tokens, completion.output_tokens, completion.tokens_estimated)
            if completion
            else Usage(prompt_tokens, estimate_tokens(raw), is_estimated=True)
        )
        try:
            # The stance footer is checked too: its claim is shown in the summary.
            verdict = await screen.final(said)
        except asyncio.CancelledError:
            if not self.is_abandoned:
                stopped = t("council.error.cancelled")
                await self._failed(turn, "stopped", stopped, shown, started, reservation, usage)
            raise
        kept = said if verdict.is_withheld else text
        # Read now and stored with the reply: a restart before the round ends keeps them.
        asks = (
            turn.asking.questions(footer, text)
            if turn.asking is not None and not verdict.is_withheld
            else []
        )
        reply = await self._record(
            turn, kept, started, reservation, usage, verdict, completion=completion, asks=asks
        )
        if footer is not None and reply.status is ReplyStatus.OK:
            self._footers[reply.id] = footer
        return reply

    async def _read(
        self, turn: TurnRequest, request: CompletionRequest, screen: StreamScreen, got: _Streamed
    ) -> None:
        """Stream the reply into `got`, handing the presenter the text moderation has passed.

        Raises what the call raises: `ProviderError`, `TimeoutError` (with `got.is_stalled`
        telling a model gone quiet from a slow one), cancellation.
        """
        provider = self.providers[self.config.models[turn.model_key].provider]
        items = provider.stream(request)
        idle = asyncio.timeout(None)
        # A model that goes quiet mid-reply must not hold the round to its end.
        watch = _IdleWatch(idle, self.stall_timeout_s)
        cleaned_at = 0.0
        try:
            async with asyncio.timeout(self.member_timeout_s), idle:
                async for item in items:
                    watch.touch()
                    if not isinstance(item, Delta):
                        got.completion = item
                        continue
                    got.raw += item.text
                    # Cleaning rescans the whole reply: do it when a line ends (where a
                    # footer or another speaker can start) and otherwise a few times a
                    # second, so a long reply costs linear time, not quadratic.
                    now = time.monotonic()
                    if "\n" not in item.text and now - cleaned_at < CLEAN_INTERVAL_S:
                        continue
                    cleaned_at = now
                    raw = got.raw
                    visible = strip_streaming_footer(
                        clean_reply(raw, turn.speaker_name, turn.participants)
                    )
                    # Only text moderation has passed is ever shown.
                    passed = screen.offer(visible)
                    if screen.is_withheld:
                        break  # withheld mid-reply: the rest would not be shown either
                    if passed is not None and passed != got.shown:
                        got.shown = passed
                        await self.presenter.handle(TextDelta(turn.key, passed))
                    if impersonation_start(raw, turn.speaker_name, turn.participants):
                        break  # the model began writing another member's lines
        except TimeoutError:
            got.is_stalled = idle.expired()
            raise
        finally:
            watch.close()
            screen.cancel()
            # Leaving the stream early (a withheld or impersonating reply) ends the call now,
            # not when the garbage collector finds it.
            if isinstance(items, AsyncGenerator):
                await items.aclose()

    async def _record(
        self,
        turn: TurnRequest,
        text: str,
        started: float,
        reservation: Reservation,
        usage: Usage,
        verdict: Verdict | None,
        *,
        completion: Completion | None = None,
        asks: Sequence[tuple[str, str]] = (),
    ) -> Reply:
        """Store a reply (withheld, if `verdict` says so) with the questions it puts
        (addressee, question), and tell the presenter it is done."""
        cost = self.config.models[turn.model_key].cost_usd(usage.input_tokens, usage.output_tokens)
        self.budget.settle(reservation, usage.input_tokens + usage.output_tokens, cost)
        verdict = verdict or Verdict()
        is_withheld = verdict.is_withheld
        if is_withheld:
            log.info(
                "%s's reply in round %d was withheld by %s (%s)",
                turn.display_name,
                turn.key.round_number,
                verdict.source,
                verdict.category,
            )
        reply = await self.store.add_reply(
            NewReply(
                session_id=self.session_id,
                round_number=turn.key.round_number,
                persona=turn.key.persona,
                kind=turn.key.kind,
                status=ReplyStatus.WITHHELD if is_withheld else ReplyStatus.OK,
                text=text,
                error_kind=WITHHELD if is_withheld else None,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                tokens_estimated=usage.is_estimated,
                cost_usd=cost,
                latency_s=completion.latency_s if completion else time.monotonic() - started,
                first_token_s=completion.first_token_s if completion else None,
                moderation=verdict.moderation,
                moderation_category=verdict.category,
                moderation_source=verdict.source,
                moderation_rule=verdict.rule,
            ),
            asks,
        )
        questions = await self.store.questions_put_in(reply) if asks else []
        if questions:
            self._questions[reply.id] = questions
        provider = self.config.models[turn.model_key].provider
        await self.presenter.handle(MemberFinished(turn.key, reply, provider, tuple(questions)))
        return reply

    def stance_of(self, reply_id: int) -> StanceFooter | None:
        """The stance footer a reply ended with (once; it is forgotten after)."""
        return self._footers.pop(reply_id, None)

    def questions_of(self, reply_id: int) -> list[MemberQuestion]:
        """The questions a reply put to other members, as stored (once; forgotten after)."""
        return self._questions.pop(reply_id, [])

    async def _failed(
        self,
        turn: TurnRequest,
        kind: str,
        message: str | Text,
        partial: str,
        started: float,
        reservation: Reservation,
        usage: Usage,
    ) -> Reply:
        cost = self.config.models[turn.model_key].cost_usd(usage.input_tokens, usage.output_tokens)
        self.budget.settle(reservation, usage.input_tokens + usage.output_tokens, cost)
        log.info("%s failed in round %d: %s", turn.display_name, turn.key.round_number, message)
        shown = localize(message, self.locale)
        reply = await self.store.add_reply(
            NewReply(
                session_id=self.session_id,
                round_number=turn.key.round_number,
                persona=turn.key.persona,
                kind=turn.key.kind,
                status=ReplyStatus.FAILED,
                text=partial,
                error_kind=str(kind),
                error_message=shown,
                input_tokens=usage.input_tokens,
                output_tokens=usage.output_tokens,
                tokens_estimated=usage.is_estimated,
                cost_usd=cost,
                latency_s=time.monotonic() - started,
            )
        )
        label = FAILURE_LABELS.get(str(kind))
        reason = str(kind) if label is None else localize(label, self.locale)
        provider = self.config.models[turn.model_key].provider
        await self.presenter.handle(MemberFailed(turn.key, reply, reason, provider))
        return reply
