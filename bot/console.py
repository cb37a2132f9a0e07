"""The terminal presenter for `council-bot console`: a council with no Discord at all.

Parallel members think at the same time, but a terminal shows one stream well: the first
member to start streams live, the others are buffered and shown in full, in the order they
started, when the floor is theirs.

Log records go to stderr. When stderr is the presenter's own terminal (or file), a record
that arrives mid-reply ends the streaming line first, and the speaker's name is printed
again after it, so no log line lands inside a persona's words.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from bot.council.engine import SessionRun
from bot.council.events import (
    Event,
    MemberFailed,
    MemberFinished,
    MemberStarted,
    RoundFinished,
    RoundStarted,
    SessionEnded,
    SessionPaused,
    SessionStarted,
    SynthesisReady,
    TextDelta,
    TurnKey,
)
from bot.council.formats import format_name
from bot.council.models import Moderation, Reply, ReplyKind, ReplyStatus, Session
from bot.council.moderation import content_note, withheld_note
from bot.i18n import Text, localize, t, tn
from bot.logs import DIM, RESET
from bot.render.questions import asks_line
from bot.render.summary import PEER_RANKING, SYNTHESIS_SECTIONS
from bot.render.transcript import status_name

BOLD = "\x1b[1m"

Prompt = Callable[[str], Awaitable[str | None]]
_KIND_LABELS = {
    ReplyKind.CHAIR: t("council.role.chair"),
    ReplyKind.REVIEW: t("council.console.review"),
    ReplyKind.SYNTHESIS: t("council.role.synthesis"),
}


@dataclass
class _Turn:
    name: str
    color: str
    text: str = ""
    printed: int = 0
    is_done: bool = False
    failure: str | None = None
    # What moderation said of the reply (withheld, or a content note), printed after it.
    note: str | None = None
    # The "asks" lines of the questions the reply put, printed under it.
    asks: tuple[str, ...] = ()
    headed: bool = False


@dataclass
class ConsolePresenter:
    """Prints a session as it happens. `prompt` (interactive use only) asks the person at the
    terminal for an audience question between rounds, and whether to resume after a pause.
    Its own words are in `locale` (the council's)."""

    out: TextIO
    colors: dict[str, str] = field(default_factory=dict)
    prompt: Prompt | None = None
    on_question: Callable[[str], Awaitable[None]] | None = None
    on_pause: Callable[[bool], None] | None = None
    use_color: bool = True
    locale: str | None = None
    planned_rounds: int = 0
    _turns: dict[TurnKey, _Turn] = field(default_factory=dict)
    _order: list[TurnKey] = field(default_factory=list)
    # The speaker's name on the reply streaming now (None between replies); whether the cursor
    # is at the start of a line within that reply; and the name to print again before its next
    # words, once a log record has ended its line.
    _live_head: str | None = None
    _at_line_start: bool = True
    _resume_head: str | None = None

    async def handle(self, event: Event) -> None:  # noqa: PLR0912  (one branch per event type)
        """Print one event."""
        if isinstance(event, SessionStarted):
            s = event.session
            self.planned_rounds = s.rounds
            names = ", ".join(self._paint(m.persona, m.color) for m in event.members)
            self._line(f"{BOLD}{self._say(t('council.name', id=s.id))}{RESET}: {s.topic}")
            about = tn("council.console.about", s.rounds, format=format_name(s.format))
            self._line(f"{self._say(about)} {self._say(t('council.console.members'))} {names}")
        elif isinstance(event, RoundStarted):
            self._line(f"\n{BOLD}── {self._say(t('council.round', number=event.number))} ──{RESET}")
            for q in event.questions:
                asks = self._say(t("council.question-from", name=q.display_name))
                self._line(f"{DIM}{asks}{RESET} {q.text}")
        elif isinstance(event, MemberStarted):
            turn = _Turn(event.display_name, self.colors.get(event.turn.persona, ""))
            self._turns[event.turn] = turn
            self._order.append(event.turn)
            self._flush()
        elif isinstance(event, TextDelta):
            if (streaming := self._turns.get(event.turn)) is not None:
                streaming.text = event.text
                self._flush()
        elif isinstance(event, MemberFinished | MemberFailed):
            if (ended := self._turns.get(event.turn)) is not None:
                reply = event.reply
                # A withheld reply's text stays unprinted: only what moderation passed shows.
                if isinstance(event, MemberFinished) and reply.status is not ReplyStatus.WITHHELD:
                    ended.text = reply.text
                ended.failure = event.reason if isinstance(event, MemberFailed) else None
                ended.note = self._moderation_note(ended.name, reply)
                if isinstance(event, MemberFinished):
                    ended.asks = tuple(
                        asks_line(q, q.asker, q.addressee, self.locale) for q in event.questions
                    )
                ended.is_done = True
                self._flush()
                self._status()
        elif isinstance(event, RoundFinished):
            self._turns.clear()
            self._order.clear()
            await self._ask_between_rounds(event.number)
        elif isinstance(event, SessionPaused):
            self._line(f"\n{BOLD}{self._say(t('council.console.paused'))}{RESET} {event.reason}")
            resume = self._say(t("council.console.resume"))
            answer = await self.prompt(f"{resume} [Y/n] ") if self.prompt else "n"
            if self.on_pause is not None:
                self.on_pause((answer or "y").strip().lower() not in ("n", "no"))
        elif isinstance(event, SynthesisReady):
            self._print_synthesis(event)
        elif isinstance(event, SessionEnded):
            s = event.session
            said = self._say(t("council.console.ended", status=status_name(s.status)))
            self._line(f"\n{BOLD}{said}{RESET}" + (f": {s.stop_reason}" if s.stop_reason else ""))

    def _moderation_note(self, name: str, reply: Reply) -> str | None:
        if reply.status is ReplyStatus.WITHHELD:
            return self._say(withheld_note(name, reply.moderation_category))
        if reply.moderation is Moderation.SPOILER:
            return self._say(content_note(reply.moderation_category))
        return None

    async def _ask_between_rounds(self, number: int) -> None:
        if self.prompt is None or self.on_question is None or number >= self.planned_rounds:
            return
        question = await self.prompt(f"{self._say(t('council.console.ask'))} ")
        if question and question.strip():
            await self.on_question(question.strip())

    def _flush(self) -> None:
        """Print what the floor holder said since last time; pass the floor on when it is done."""
        while self._order:
            key = self._order[0]
            turn = self._turns[key]
            if not turn.headed:
                kind = _KIND_LABELS.get(key.kind)
                label = f" ({self._say(kind)})" if kind is not None else ""
                self._live_head = f"{self._paint(turn.name + label, turn.color)}: "
                self.out.write(f"\n{self._live_head}")
                self._at_line_start = False
                turn.headed = True
            if turn.text.startswith(turn.text[: turn.printed]) and len(turn.text) > turn.printed:
                new = turn.text[turn.printed :]
                self._resume_line()
                self.out.write(self._paint(new, turn.color))
                turn.printed = len(turn.text)
                self._at_line_start = new.endswith("\n")
            if not turn.is_done:
                break
            if turn.failure:
                self._resume_line()
                failed = t("council.member-failed", name=turn.name, failure=turn.failure)
                self.out.write(self._plain(f"{DIM}[{self._say(failed)}]{RESET}"))
            if turn.note:
                self._resume_line()
                self.out.write(self._plain(f"{DIM}[{turn.note}]{RESET}"))
            for line in turn.asks:
                self._resume_line()
                self.out.write(self._plain(f"\n{DIM}{line}{RESET}"))
            if self._resume_head is None:  # else a log record has ended the line already
                self.out.write("\n")
            self._live_head, self._resume_head, self._at_line_start = None, None, True
            self._order.pop(0)
        self.out.flush()

    def write_log(self, write: Callable[[], object]) -> None:
        """Run `write`, which prints a log record on the presenter's terminal, between lines:
        a streaming reply's line is ended first, and its speaker named again before its next
        words."""
        if self._live_head is not None and self._resume_head is None:
            if not self._at_line_start:
                self.out.write("\n")
            self._resume_head = self._live_head
        self.out.flush()
        write()

    def _resume_line(self) -> None:
        if self._resume_head is not None:
            self.out.write(self._resume_head)
            self._resume_head = None

    def _status(self) -> None:
        thinking = [t.name for t in self._turns.values() if not t.is_done]
        if thinking and self._order and self._turns[self._order[0]].headed:
            return  # the live stream is on screen; the status would cut into it
        if thinking:
            still = t("council.console.still-thinking", names=", ".join(thinking))
            self._line(f"{DIM}… {self._say(still)}{RESET}")

    def _print_synthesis(self, event: SynthesisReady) -> None:
        self._line(f"\n{BOLD}── {self._say(t('council.synthesis'))} ──{RESET}")
        coverage = self._say(t("council.summary.coverage", coverage=event.coverage))
        self._line(f"{DIM}{coverage}{RESET}")
        synthesis = event.synthesis
        if synthesis is None:
            return
        sections = synthesis.model_dump()
        for key, title in (*SYNTHESIS_SECTIONS, ("ranking", PEER_RANKING)):
            items = sections.get(key) or []
            if items:
                self._line(f"{BOLD}{self._say(title)}{RESET}")
                for item in items:
                    self._line(f"  • {item}")
        if synthesis.verdict:
            self._line(f"{BOLD}{self._say(t('council.verdict'))}:{RESET} {synthesis.verdict}")

    def _say(self, text: Text | str) -> str:
        return localize(text, self.locale)

    def _paint(self, text: str, color: str) -> str:
        if not self.use_color or not color.startswith("#") or len(color) != 7:
            return text
        r, g, b = (int(color[i : i + 2], 16) for i in (1, 3, 5))
        return f"\x1b[38;2;{r};{g};{b}m{text}{RESET}"

    def _plain(self, text: str) -> str:
        if self.use_color:
            return text
        return text.replace(BOLD, "").replace(DIM, "").replace(RESET, "")

    def _line(self, text: str) -> None:
        self.out.write(self._plain(text) + "\n")
        self.out.flush()


class LineSafeHandler(logging.Handler):
    """Writes what `inner` would, never inside the presenter's streaming line."""

    def __init__(self, presenter: ConsolePresenter, inner: logging.Handler) -> None:
        super().__init__(inner.level)
        self.presenter = presenter
        self.inner = inner

    def emit(self, record: logging.LogRecord) -> None:
        """Write `record` through `inner`, if `inner` would write it at all."""
        if self.inner.filter(record):
            self.presenter.write_log(lambda: self.inner.handle(record))


@contextlib.contextmanager
def logs_beside(
    presenter: ConsolePresenter, logger: logging.Logger | None = None
) -> Iterator[None]:
    """While inside, the handlers of `logger` (the root) that write to the presenter's own
    terminal or file write between its lines instead of into them."""
    logger = logger or logging.getLogger()
    swapped = [
        (handler, LineSafeHandler(presenter, handler))
        for handler in logger.handlers
        if isinstance(handler, logging.StreamHandler) and same_file(handler.stream, presenter.out)
    ]
    for handler, beside in swapped:
        logger.removeHandler(handler)
        logger.addHandler(beside)
    try:
        yield
    finally:
        for handler, beside in swapped:
            logger.removeHandler(beside)
            logger.addHandler(handler)


def same_file(a: TextIO, b: TextIO) -> bool:
    """Whether two streams write to the same terminal, file or pipe."""
    try:
        return os.path.samestat(os.fstat(a.fileno()), os.fstat(b.fileno()))
    except (OSError, ValueError):  # no file descriptor (io.UnsupportedOperation) or closed
        return False


async def read_line(prompt: str) -> str | None:
    """Read a line from the terminal without blocking the event loop; None at end of input."""
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def run_console(
    run: SessionRun,
    presenter: ConsolePresenter,
    *,
    is_interactive: bool,
) -> Session:
    """Run a session in the terminal; an interactive user may ask questions and resume pauses."""

    you = localize(t("council.console.you"), run.spec.locale)

    async def ask(text: str) -> None:
        await run.ask(None, you, text)

    def on_pause(should_resume: bool) -> None:
        if should_resume:
            run.resume()
        else:
            run.stop(t("council.stop.console"))

    presenter.on_pause = on_pause
    presenter.locale = run.spec.locale
    if is_interactive:
        presenter.prompt = read_line
        presenter.on_question = ask
    return await run.run()
