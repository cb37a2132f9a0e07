"""Moderation at work: checking a reply as it streams and when it is final.

`Screening` knows where moderation comes from: each guild's rules (read afresh for every turn,
so a rule added mid-council applies to the next reply) and the operator's moderation model.
For each turn it hands out a `Moderator`, and the turn screens its text through a
`StreamScreen`, which lets text out only once it has passed every check.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol

from bot.config import ModerationConfig
from bot.council.models import Moderation
from bot.council.moderation import (
    PATTERN_TIMEOUT_S,
    UNCHECKED,
    ModerationPolicy,
    RuleAction,
    RuleBook,
    Verdict,
    stricter,
)
from bot.errors import ProviderError
from bot.providers.types import ModerationModel

log = logging.getLogger(__name__)

OnError = Literal["withhold", "allow"]
# A moderation model is asked about a streaming reply no more often than the live presenter
# edits a message (its MIN_EDIT_INTERVAL_S): text cleared faster could not be shown sooner.
MODEL_CHECK_INTERVAL_S: Final = 0.8
# Category codes a model's verdict lists at most, to keep the stored category short.
CATEGORIES_SHOWN: Final = 3


@dataclass(frozen=True)
class ModelCheck:
    """The operator's moderation model, what a flag does, and what a failed check does.

    `on_error` "withhold" keeps a reply the model could not check out of sight: a public
    server prefers silence to an unchecked reply.
    """

    model: ModerationModel
    action: RuleAction = RuleAction.WITHHOLD
    on_error: OnError = "withhold"

    @classmethod
    def configured(
        cls, config: ModerationConfig | None, model: ModerationModel | None
    ) -> ModelCheck | None:
        """The check `council.toml`'s `[moderation]` asks for, or None without one."""
        if config is None or model is None:
            return None
        return cls(model, RuleAction(config.action), config.on_error)


class PolicySource(Protocol):
    """Where guilds' rules are kept (the store)."""

    async def moderation_policy(self, guild_id: int) -> ModerationPolicy:
        """The guild's rules and allow list."""
        ...


class Moderator:
    """Checks one council's replies: the guild's rules, then the operator's model."""

    def __init__(self, rules: RuleBook, model: ModelCheck | None = None) -> None:
        self.rules = rules
        self.model = model

    @property
    def has_model(self) -> bool:
        """True when a moderation model checks replies too."""
        return self.model is not None

    def check_rules(self, text: str) -> Verdict:
        """The guild's rules' verdict (at once: rules are local)."""
        return self.rules.check(text)

    async def ask_model(self, text: str) -> Verdict:
        """The model's verdict on `text` (allowed when there is no model).

        Raises:
            ProviderError: the model could not be asked.
        """
        if self.model is None:
            return Verdict()
        found = await self.model.model.classify(text)
        source = self.model.model.name
        if not found.is_flagged:
            return Verdict(source=source)
        moderation = (
            Moderation.SPOILER if self.model.action is RuleAction.SPOILER else Moderation.WITHHELD
        )
        category = ", ".join(found.categories[:CATEGORIES_SHOWN]) or None
        return Verdict(moderation, category, source)

    async def check(self, text: str) -> Verdict:
        """The final verdict: rules first (a withholding rule needs no model), then the model.

        A model that fails is answered as `on_error` says; never raises for it.
        """
        verdict = self.check_rules(text)
        if verdict.is_withheld or self.model is None:
            return verdict
        try:
            said = await self.ask_model(text)
        except ProviderError as exc:
            said = self._unchecked(exc)
        return stricter(verdict, said)

    def _unchecked(self, exc: ProviderError) -> Verdict:
        model = self.model
        if model is None:  # only called with a model; kept total for the type checker
            return Verdict()
        log.warning(
            "moderation model %s failed (%s): %s", model.model.name, exc.kind, model.on_error
        )
        moderation = Moderation.WITHHELD if model.on_error == "withhold" else Moderation.ALLOWED
        return Verdict(moderation, UNCHECKED, model.model.name)


class Screening:
    """Hands each turn a `Moderator` for its guild's current rules and the operator's model."""

    def __init__(
        self,
        *,
        policies: PolicySource | None = None,
        model: ModelCheck | None = None,
        pattern_timeout_s: float = PATTERN_TIMEOUT_S,
    ) -> None:
        self.policies = policies
        self.model = model
        self._pattern_timeout_s = pattern_timeout_s
        # The last compiled policy of each guild: recompiled only when its rules change.
        self._books: dict[int, RuleBook] = {}

    @property
    def model_name(self) -> str | None:
        """The moderation model's name, if there is one."""
        return None if self.model is None else self.model.model.name

    async def moderator(self, guild_id: int | None) -> Moderator:
        """The moderator for a council of this guild (None: no guild, only the model)."""
        if guild_id is None or self.policies is None:
            return Moderator(RuleBook(ModerationPolicy()), self.model)
        policy = await self.policies.moderation_policy(guild_id)
        book = self._books.get(guild_id)
        if book is None or book.policy != policy:
            book = RuleBook(policy, timeout_s=self._pattern_timeout_s)
            self._books[guild_id] = book
        return Moderator(book, self.model)


class StreamScreen:
    """Screens one streaming reply: `offer` each newer text, get back what may be shown.

    The rules run on every offer. A moderation model runs in the background on the latest
    text, one check at a time and no more often than `interval_s`; text it has not cleared is
    held back. A verdict that withholds or spoils the reply stops any more text coming out.
    """

    def __init__(
        self,
        moderator: Moderator,
        *,
        interval_s: float = MODEL_CHECK_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.moderator = moderator
        self.verdict: Verdict | None = None
        self._interval_s = interval_s
        self._clock = clock
        self._cleared = ""
        self._given = ""
        self._task: asyncio.Task[Verdict | None] | None = None
        self._task_text = ""
        self._asked_at = -math.inf

    @property
    def is_withheld(self) -> bool:
        """True once the reply has been withheld mid-stream: stop the model."""
        return self.verdict is not None and self.verdict.is_withheld

    def offer(self, text: str) -> str | None:
        """Take the reply's visible text so far; return the text to show now, or None when
        nothing more may be shown."""
        if self.verdict is not None:
            return None
        self._collect()
        if self.verdict is not None:
            return None
        ruled = self.moderator.check_rules(text)
        if not ruled.is_allowed:
            self._stop(ruled)
            return None
        if not self.moderator.has_model:
            self._cleared = text
        elif (
            self._task is None
            and text != self._cleared
            and self._clock() - self._asked_at >= self._interval_s
        ):
            self._asked_at = self._clock()
            self._task_text = text
            self._task = asyncio.create_task(self._ask(text))
        if self._cleared == self._given:
            return None
        self._given = self._cleared
        return self._cleared

    async def final(self, text: str) -> Verdict:
        """The verdict on the whole reply (stricter than any found while it streamed)."""
        self.cancel()
        if self.verdict is not None and self.verdict.is_withheld:
            return self.verdict
        verdict = await self.moderator.check(text)
        return verdict if self.verdict is None else stricter(self.verdict, verdict)

    def cancel(self) -> None:
        """Drop a model check under way (the reply ended, or the turn was stopped)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _ask(self, text: str) -> Verdict | None:
        # A check that fails mid-stream clears nothing; the final check decides the reply.
        try:
            return await self.moderator.ask_model(text)
        except ProviderError as exc:
            log.info("moderation check mid-reply failed (%s); holding the text", exc.kind)
            return None

    def _collect(self) -> None:
        task = self._task
        if task is None or not task.done():
            return
        self._task = None
        verdict = task.result()
        if verdict is None:
            return
        if verdict.is_allowed:
            self._cleared = self._task_text
        else:
            self._stop(verdict)

    def _stop(self, verdict: Verdict) -> None:
        self.verdict = verdict
        self.cancel()
