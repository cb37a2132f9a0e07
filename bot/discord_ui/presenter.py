"""The live Discord presenter: turns engine events into messages in the session's thread.

`handle` only records what changed and wakes a single worker, so the engine never waits on
Discord. The worker sends in priority order — finished replies first, then announcements and
new messages (in the order they happened), then each message's first words, then streaming
edits. Streaming edits share out what the webhook's rate window has left (read from Discord's
headers) and never spend the requests that finished replies will need.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import discord

from bot.council.events import (
    AgreementReached,
    Event,
    MemberFailed,
    MemberFinished,
    MemberStarted,
    RoundStarted,
    SessionEnded,
    SessionPaused,
    SessionStarted,
    TextDelta,
    TurnKey,
)
from bot.council.models import MemberQuestion, Moderation, Reply, ReplyKind, ReplyStatus
from bot.discord_ui.failures import DeliveryFailed, MessageGone, ThreadBlocked, ThreadGone
from bot.discord_ui.posting import Identity, PersonaPoster
from bot.discord_ui.views import vote_view, wrap_view
from bot.i18n import Text, localize, t
from bot.render.messages import MESSAGE_LIMIT, safe_reply_text, split_message
from bot.render.moderated import SPOILER_BARS, kind_prefix, reply_parts, spoiler_safe
from bot.render.questions import ANSWERING_MARK, answering_words, asks_line, audience_asks
from bot.store.store import Store

log = logging.getLogger(__name__)

THINKING = t("council.thinking")
BLIND_COLOR = 0x99AAB5
# Discord allows about 5 webhook requests per 2 s; each streaming message gets a fair share.
SECONDS_PER_REQUEST = 0.4
MIN_EDIT_INTERVAL_S = 0.8
MAX_EDIT_INTERVAL_S = 5.0
# Requests a rate window still holds this close to its reset are spent on progress edits.
LATE_WINDOW_S = 0.4
PART_MARKER_RESERVE = 12
# Tries at the note that stands in for a reply Discord refused (each after the poster's own).
NOTE_TRIES_MAX = 3


@dataclass
class _Turn:
    key: TurnKey
    identity: Identity
    # What its message shows now: `text` once sent, "thinking…" (None) before any words.
    text: str = ""
    shown: str | None = None
    message_ids: list[int] = field(default_factory=list)
    last_sent: float = 0.0
    reply: Reply | None = None
    failure: str | None = None
    # Its first post was attempted (it may have failed: then the final reply is posted anew).
    is_placed: bool = False
    is_done: bool = False
    note_tries: int = 0
    # The questions this turn answers, and the line that opens it, linking to them.
    answering: tuple[MemberQuestion, ...] = ()
    opening: str = ""
    # The questions its reply puts, and whether its last message shows them.
    asks: tuple[MemberQuestion, ...] = ()
    asks_shown: bool = False

    @property
    def is_created(self) -> bool:
        return bool(self.message_ids)

    @property
    def has_ended(self) -> bool:
        return self.reply is not None or self.failure is not None


Op = Callable[[], Awaitable[None]]


class DiscordPresenter:
    """Shows one session in its thread."""

    def __init__(
        self,
        *,
        session_id: int,
        poster: PersonaPoster,
        store: Store,
        identities: dict[str, Identity],
        on_end: Callable[[SessionEnded], Awaitable[None]],
        on_thread_lost: Callable[[str], Awaitable[None]],
        on_blocked: Callable[[str], Awaitable[None]],
        locale: str | None = None,
        jump_url: str | None = None,
    ) -> None:
        self.session_id = session_id
        # The thread's address, to link an answer to the message that asked its question.
        self.jump_url = jump_url
        # The council's locale: every header and note the presenter posts is in it.
        self.locale = locale
        self.poster = poster
        self.store = store
        self.identities = identities
        self._on_end = on_end
        self._on_thread_lost = on_thread_lost
        self._on_blocked = on_blocked
        # Posts that keep their order: announcements, and each turn's first message.
        self._ordered: deque[Op | _Turn] = deque()
        self._turns: dict[TurnKey, _Turn] = {}
        self._wake = asyncio.Event()
        self._is_closed = False
        self._is_lost = False
        self._is_reviewing = False
        # The message offering the hosts to wrap up, if any: its button closes at the end.
        self._wrap_up_id: int | None = None
        # Final replies Discord would not take: each gets a short note in its place.
        self._owed: deque[_Turn] = deque()
        # The message that shows each question a member put (by question id).
        self._asked_in: dict[int, int] = {}
        self._worker = asyncio.create_task(self._pump(), name=f"council-presenter-{session_id}")

    async def handle(self, event: Event) -> None:
        """Record an event for the worker; never waits on Discord."""
        if self._is_lost:
            return
        if isinstance(event, SessionStarted):
            self._seat(event)
        elif isinstance(event, RoundStarted):
            self._ordered.append(lambda: self._round_header(event))
        elif isinstance(event, MemberStarted):
            self._started(event)
        elif isinstance(event, TextDelta):
            if not self._take_text(event):
                return  # the worker already waits to show this turn's newer text
        elif isinstance(event, MemberFinished | MemberFailed):
            self._ended(event)
        elif isinstance(event, AgreementReached):
            self._ordered.append(lambda: self._agreement(event))
        elif isinstance(event, SessionPaused):
            paused = self._say(t("council.paused", reason=event.reason))
            self._ordered.append(lambda: self._notice(f"⏸️ {paused}"))
        elif isinstance(event, SessionEnded):
            self._ordered.append(self._close_wrap_up)
            self._ordered.append(lambda: self._on_end(event))
            self._is_closed = True
        self._wake.set()

    def _take_text(self, event: TextDelta) -> bool:
        """Note a turn's text so far; whether the worker must look again.

        A turn whose earlier text is still unshown already counts in the worker's wait, so
        newer text changes nothing but what its edit will show.
        """
        turn = self._turns.get(event.turn)
        if turn is None:
            return False
        was_pending = bool(turn.text) and turn.text != turn.shown
        turn.text = event.text
        return not was_pending

    def _ended(self, event: MemberFinished | MemberFailed) -> None:
        turn = self._turns.get(event.turn)
        if turn is None:
            return
        turn.reply = event.reply
        if isinstance(event, MemberFailed):
            turn.failure = event.reason
            return
        turn.asks = tuple(event.questions)
        if event.reply.status is ReplyStatus.OK and event.reply.moderation is not (
            Moderation.SPOILER
        ):
            # A first post still to come shows this; a withheld or spoilered reply's text
            # must never go out as it is, so its first post keeps what moderation passed.
            turn.text = event.reply.text

    def _seat(self, event: SessionStarted) -> None:
        if event.session.is_blind:
            # Blind: every persona posts under its alias with the same neutral look.
            self.identities = {
                m.persona: Identity(m.alias or m.persona, None, BLIND_COLOR) for m in event.members
            }

    def _started(self, event: MemberStarted) -> None:
        kind = event.turn.kind
        if kind is ReplyKind.SYNTHESIS:
            # The synthesis is shown in the closing summary, not as a persona message.
            writer = self._say(t("council.writing-synthesis", name=event.display_name))
            note = f"✍️ *{writer}*"
            self._ordered.append(lambda: self._notice(note))
            return
        if kind is ReplyKind.REVIEW:
            if not self._is_reviewing:
                self._is_reviewing = True
                note = f"📋 *{self._say(t('council.reviewing'))}*"
                self._ordered.append(lambda: self._notice(note))
            return
        turn = _Turn(event.turn, self._identity(event.turn.persona))
        turn.answering = tuple(event.answering)
        self._turns[event.turn] = turn
        self._ordered.append(turn)

    @property
    def has_ended(self) -> bool:
        """Whether the session has ended: what is still queued closes it (the summary too)."""
        return self._is_closed

    async def drain(self, timeout_s: float) -> bool:
        """Give the worker up to `timeout_s` to post an ended session's queue; whether it did
        (it stops once that queue is empty)."""
        done, _ = await asyncio.wait([self._worker], timeout=timeout_s)
        return bool(done)

    async def close(self) -> None:
        """Stop the worker at once (shutdown)."""
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker

    # ------------------------------------------------------------------ the worker

    async def _pump(self) -> None:
        while True:
            op = self._next_op()
            if op is not None:
                if not await self._run(op):
                    return
                continue
            if self._is_closed and not self._ordered and not self._owed:
                return
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._until_next_op()):
                    await self._wake.wait()

    async def _run(self, op: Op) -> bool:
        """Do one operation; False when the session can't be shown any more.

        The one place a failed operation is dealt with: each operation already made the best
        of what Discord refused (see `_finish`), so what reaches here ends the presenter, or
        is a fault of the bot's own, logged and passed over so the council stays visible.
        """
        try:
            await op()
        except ThreadGone as exc:
            self._is_lost = True
            log.warning("session %d lost its thread: %s", self.session_id, exc)
            await self._on_thread_lost(str(exc))
            return False
        except ThreadBlocked as exc:
            self._is_lost = True
            log.warning("session %d can't be shown: %s", self.session_id, exc)
            await self._on_blocked(str(exc))
            return False
        except DeliveryFailed as exc:
            log.warning("session %d: a message was not delivered: %s", self.session_id, exc)
        except Exception:
            log.exception("presenter of session %d: an operation failed", self.session_id)
        return True

    def _next_op(self) -> Op | None:
        # Finished replies first: what follows them (the next round, the summary) must not
        # overtake them.
        for turn in self._turns.values():
            if turn.is_placed and turn.has_ended and not turn.is_done:
                return lambda: self._finish(turn)
        if self._owed:
            return self._settle_owed
        if self._ordered and self._hold_ordered() == 0:
            item = self._ordered.popleft()
            return (lambda: self._create(item)) if isinstance(item, _Turn) else item
        now = time.monotonic()
        due = [
            t
            for t in self._turns.values()
            if t.is_created and not t.is_done and t.text and t.text != t.shown
        ]
        # A message's first text goes out at once; later edits wait their turn.
        first = [t for t in due if t.shown is None]
        if first:
            return lambda: self._edit(first[0])
        interval = self._edit_interval()
        ready = [t for t in due if now - t.last_sent >= interval]
        if ready and self._budget_wait() == 0:
            return lambda: self._edit(min(ready, key=lambda t: t.last_sent))
        return None

    def _edit_interval(self) -> float:
        streaming = sum(1 for t in self._turns.values() if t.is_created and not t.is_done)
        interval = max(MIN_EDIT_INTERVAL_S, streaming * SECONDS_PER_REQUEST)
        return min(MAX_EDIT_INTERVAL_S, interval)

    def _hold_ordered(self) -> float:
        """Seconds the next ordered post waits (0: it goes now).

        Only a "thinking…" placeholder waits, and only while the webhook's window can't
        spare it; once its member has words (or a later message has), it goes at once.
        """
        head = self._ordered[0]
        if not isinstance(head, _Turn):
            return 0.0
        if any(isinstance(t, _Turn) and (t.text or t.has_ended) for t in self._ordered):
            return 0.0
        return self._budget_wait()

    def _budget_wait(self) -> float:
        """Seconds until the webhook's window can spare a request for a placeholder or a
        progress edit (0: now). Nothing else waits: first words and finals always go."""
        spare = self.poster.spare_requests()
        if spare is None or spare.resets_in <= 0:
            # Unknown, or no window is open: this request opens one, and the rules below
            # share out the rest of it.
            return 0.0
        # Each unfinished turn still needs a request, for its first words or its final text,
        # that may fall inside this window: keep one for each.
        reserve = sum(1 for t in self._turns.values() if not t.is_done)
        if spare.remaining > reserve:
            return 0.0
        if spare.remaining > 1:
            # What is left near the reset would be lost: it goes now, keeping one back.
            return max(0.0, spare.resets_in - LATE_WINDOW_S)
        return spare.resets_in + 0.01

    def _until_next_op(self) -> float | None:
        """Seconds until a waiting placeholder or progress edit may go (None: none waits)."""
        waits = [self._hold_ordered()] if self._ordered else []
        pending = [
            t.last_sent
            for t in self._turns.values()
            if t.is_created and not t.is_done and t.text and t.text != t.shown
        ]
        if pending:
            paced = min(pending) + self._edit_interval() - time.monotonic()
            waits.append(max(paced, self._budget_wait()))
        return max(0.01, min(waits)) if waits else None

    # ------------------------------------------------------------------ operations

    def _say(self, text: Text) -> str:
        return localize(text, self.locale)

    def _identity(self, persona: str) -> Identity:
        return self.identities.get(persona) or Identity(persona, None, 0x5865F2)

    async def _round_header(self, event: RoundStarted) -> None:
        lines = [self._say(t("council.round-header", number=event.number))]
        for q in event.questions:
            asks = audience_asks(q, f"**{q.display_name}**", self._shown, q.text)
            lines.append(f"❓ {self._say(asks)}")
        text = safe_reply_text("\n".join(lines))
        message_id = await self.poster.announce(split_message(text)[0])
        await self.store.set_round_first_message(self.session_id, event.number, message_id)

    async def _agreement(self, event: AgreementReached) -> None:
        if event.is_ending:
            await self._notice(f"🤝 {self._say(t('council.agreement.ending'))}")
            return
        offer = f"🤝 {self._say(t('council.agreement.offer'))}"
        view = wrap_view(self.session_id, self.locale)
        self._wrap_up_id = await self.poster.announce(offer, view=view)

    async def _close_wrap_up(self) -> None:
        if self._wrap_up_id is None:
            return
        view = wrap_view(self.session_id, self.locale, is_closed=True)
        try:
            await self.poster.close_view(self._wrap_up_id, view)
        except DeliveryFailed:
            log.info("could not close the wrap-up button of session %d", self.session_id)

    async def _notice(self, text: str) -> None:
        await self.poster.announce(split_message(safe_reply_text(text))[0])

    async def _create(self, turn: _Turn) -> None:
        turn.is_placed = True
        turn.opening = await self._opening(turn)
        text = turn.text
        turn.last_sent = time.monotonic()
        # If this post fails the turn has no message; its final reply is then posted anew.
        message_id = await self.poster.send(turn.identity, self._preview(turn, text))
        turn.message_ids.append(message_id)
        turn.shown = text or None

    async def _edit(self, turn: _Turn) -> None:
        text = turn.text
        # A refused progress edit is passed over: the next one (or the final) supersedes it.
        turn.last_sent = time.monotonic()
        await self._replace(turn, 0, self._preview(turn, text), is_progress=True)
        turn.shown = text

    def _preview(self, turn: _Turn, text: str) -> str:
        """A streaming message: the text so far (its first part, if it will split)."""
        chunks = split_message(safe_reply_text(text), reserve=PART_MARKER_RESERVE + 40)
        if not chunks:
            return self._prefix(turn) + self._say(THINKING)
        # While streaming only the first message changes; long replies split when final.
        return self._prefix(turn) + chunks[0] + (" …" if len(chunks) > 1 else " ▍")

    async def _finish(self, turn: _Turn) -> None:
        turn.is_done = True
        try:
            await self._show_final(turn)
        except (ThreadGone, ThreadBlocked):
            raise
        except DeliveryFailed as exc:
            # Stored already; the thread gets a note in its place once Discord takes one.
            log.warning(
                "session %d: %s's reply was not delivered: %s",
                self.session_id,
                turn.identity.name,
                exc,
            )
            self._owed.append(turn)
            shown: list[int] = []  # a reply with no message was not shown: the summary says so
        else:
            shown = turn.message_ids
        if turn.reply is not None:
            await self.store.set_reply_messages(turn.reply.id, shown)
        if shown and turn.asks:
            await self._show_asks(turn, shown[-1])

    async def _show_final(self, turn: _Turn) -> None:
        prefix = self._prefix(turn)
        if turn.failure is not None:
            said = safe_reply_text(turn.text)
            failed = self._say(
                t("council.member-failed", name=turn.identity.name, failure=turn.failure)
            )
            note = f"⚠️ *{failed}.*"
            body = f"{split_message(said, reserve=200)[0]}\n\n{note}" if said else note
            await self._replace(turn, 0, prefix + body)
            del turn.message_ids[1:]
            return
        reply = turn.reply
        if reply is None:
            return
        # Spoilered or withheld as moderation said; a withheld reply is only a note, unvoted.
        chunks = reply_parts(reply, turn.identity.name, prefix=prefix, locale=self.locale) or [
            prefix + self._say(THINKING)
        ]
        is_votable = reply.kind is ReplyKind.ANSWER and reply.status is ReplyStatus.OK
        view = vote_view(reply.id, 0, 0) if is_votable else None
        last = len(chunks) - 1
        chunks[last], turn.asks_shown = self._with_asks(turn, chunks[last])
        await self._replace(turn, 0, chunks[0], view=view if last == 0 else None)
        del turn.message_ids[1:]
        for index, chunk in enumerate(chunks[1:], start=1):
            message_id = await self.poster.send(
                turn.identity, chunk, view=view if index == last else None
            )
            turn.message_ids.append(message_id)

    async def _settle_owed(self) -> None:
        """Put a short note where an undelivered reply should be (its message, or a new one)."""
        turn = self._owed.popleft()
        owed = (
            t("council.owed.reply", name=turn.identity.name)
            if turn.failure is None
            else t("council.owed.last-words", name=turn.identity.name)
        )
        # The note shows the questions the reply put, so that their answers can link to it.
        note, turn.asks_shown = self._with_asks(turn, f"⚠️ *{self._say(owed)}*")
        turn.note_tries += 1
        try:
            await self._replace(turn, 0, note)
        except DeliveryFailed:
            if turn.note_tries < NOTE_TRIES_MAX:
                self._owed.append(turn)
            raise
        if turn.asks:
            await self._show_asks(turn, turn.message_ids[0])

    async def _replace(
        self,
        turn: _Turn,
        index: int,
        content: str,
        *,
        view: discord.ui.View | None = None,
        is_progress: bool = False,
    ) -> None:
        """Edit one of the turn's messages; if it has none or can't be edited, post anew."""
        if index < len(turn.message_ids):
            try:
                await self.poster.edit(
                    turn.message_ids[index],
                    turn.identity,
                    content,
                    view=view,
                    is_progress=is_progress,
                )
                return
            except MessageGone:
                # Its webhook was replaced (messages belong to the webhook that posted them).
                del turn.message_ids[index:]
        elif is_progress:
            return  # its first post failed; only the final reply is posted anew
        turn.message_ids.append(await self.poster.send(turn.identity, content, view=view))

    def _prefix(self, turn: _Turn) -> str:
        return turn.opening + kind_prefix(turn.key.kind, self.locale)

    def _asks_text(self, turn: _Turn) -> str:
        """ "❓ DeepSeek asks Claude: …", a line for each question the turn's reply put; behind
        spoiler bars where moderation spoilered the reply."""
        is_spoiler = turn.reply is not None and turn.reply.moderation is Moderation.SPOILER
        lines = [
            asks_line(
                q,
                self._shown(q.asker),
                self._shown(q.addressee),
                self.locale,
                text=f"{SPOILER_BARS}{spoiler_safe(q.text)}{SPOILER_BARS}" if is_spoiler else None,
            )
            for q in turn.asks
        ]
        return safe_reply_text("\n".join(lines))

    def _with_asks(self, turn: _Turn, content: str) -> tuple[str, bool]:
        """`content` with the turn's "asks" lines under it, if they fit in one message
        (True), else as it was (False: they follow in a message of their own)."""
        if not turn.asks:
            return content, False
        shown = f"{content}\n\n{self._asks_text(turn)}"
        return (shown, True) if len(shown) <= MESSAGE_LIMIT else (content, False)

    async def _show_asks(self, turn: _Turn, message_id: int) -> None:
        """Record the message that shows the reply's questions: `message_id`, its last one,
        or when that had no room for them, a note of their own posted right under it."""
        if not turn.asks_shown:
            try:
                message_id = await self.poster.announce(split_message(self._asks_text(turn))[0])
            except DeliveryFailed as exc:
                log.warning("session %d: a question was not shown: %s", self.session_id, exc)
                return
        ids = [q.id for q in turn.asks]
        self._asked_in.update(dict.fromkeys(ids, message_id))
        await self.store.set_member_questions_message(ids, message_id)

    async def _opening(self, turn: _Turn) -> str:
        """ "↪ answering DeepSeek", linked to the message that shows its question, as an
        answer's opening."""
        if not turn.answering:
            return ""
        if any(q.id not in self._asked_in and q.message_id is None for q in turn.answering):
            # Shown before this presenter began (a restart): the store knows where.
            for stored in await self.store.member_questions(self.session_id):
                if stored.message_id is not None:
                    self._asked_in.setdefault(stored.id, stored.message_id)
        links: dict[tuple[str, int | None], str] = {}
        for q in turn.answering:
            asker = self._shown(q.asker)
            message_id = self._asked_in.get(q.id, q.message_id)
            said = answering_words(asker, self.locale)
            if message_id is not None and self.jump_url is not None:
                said = f"[{said}]({self.jump_url}/{message_id})"
            links.setdefault((asker, message_id), said)
        return f"{ANSWERING_MARK} {' · '.join(links.values())}\n"

    def _shown(self, persona: str) -> str:
        """A persona as the thread names it (its alias in a blind council)."""
        identity = self.identities.get(persona)
        return identity.name if identity is not None else persona
