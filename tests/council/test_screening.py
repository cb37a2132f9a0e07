"""Screening a streaming reply: only text a check has passed comes out; the moderation model is
asked about the latest text, one check at a time; a failed check follows `on_error`."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from bot.council.models import Moderation
from bot.council.moderation import (
    ModerationPolicy,
    ModerationRule,
    RuleAction,
    RuleBook,
    RuleKind,
    Verdict,
)
from bot.council.screening import ModelCheck, Moderator, StreamScreen
from bot.errors import OverloadedError
from bot.providers.types import ModerationResult


class GatedModel:
    """A moderation model whose every answer waits for the test to let it through."""

    name = "gated-mod"

    def __init__(self, *, flag: str = "", fails: bool = False) -> None:
        self.asked: list[str] = []
        self.flag = flag
        self.fails = fails
        self.gate = asyncio.Event()

    async def classify(self, text: str) -> ModerationResult:
        self.asked.append(text)
        await self.gate.wait()
        self.gate.clear()
        if self.fails:
            raise OverloadedError("the moderation model is overloaded")
        if self.flag and self.flag in text:
            return ModerationResult(True, ("violence", "hate"))
        return ModerationResult(False)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _screen(model: GatedModel | None, *rules: str, **check) -> tuple[StreamScreen, Clock]:
    policy = ModerationPolicy(
        rules=tuple(
            ModerationRule(
                id=n, guild_id=1, kind=RuleKind.KEYWORD, pattern=p, created_at=datetime.now(UTC)
            )
            for n, p in enumerate(rules, 1)
        )
    )
    clock = Clock()
    checked = None if model is None else ModelCheck(model, **check)
    return StreamScreen(Moderator(RuleBook(policy), checked), clock=clock), clock


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_without_a_model_text_the_rules_pass_comes_out_at_once():
    screen, _ = _screen(None, "forbidden")
    assert screen.offer("Hello") == "Hello"
    assert screen.offer("Hello") is None  # nothing new
    assert screen.offer("Hello there") == "Hello there"
    assert screen.offer("Hello there, a forbidden word") is None
    assert screen.is_withheld
    assert screen.offer("Hello there, a forbidden word and more") is None


async def test_text_waits_for_the_model_which_is_asked_about_the_latest_text_only():
    model = GatedModel()
    screen, clock = _screen(model)
    assert screen.offer("One") is None  # held until cleared
    assert screen.offer("One two") is None
    assert screen.offer("One two three") is None
    await _settle()
    assert model.asked == ["One"]  # one check at a time, none queued per delta
    model.gate.set()
    await _settle()
    clock.now = 0.5
    assert screen.offer("One two three four") == "One"
    await _settle()
    assert model.asked == ["One"]  # not yet: the presenter could not show it sooner
    clock.now = 0.9
    assert screen.offer("One two three four five") is None
    await _settle()
    assert model.asked == ["One", "One two three four five"]
    model.gate.set()
    await _settle()
    assert screen.offer("One two three four five") == "One two three four five"


async def test_a_flag_mid_stream_withholds_the_reply_and_nothing_more_comes_out():
    model = GatedModel(flag="bomb")
    screen, _ = _screen(model)
    screen.offer("How to build a bomb")
    model.gate.set()
    await _settle()
    assert screen.offer("How to build a bomb at home") is None
    assert screen.is_withheld
    assert screen.verdict == Verdict(Moderation.WITHHELD, "violence, hate", "gated-mod")
    assert await screen.final("How to build a bomb at home") == screen.verdict


async def test_a_check_that_fails_mid_stream_holds_the_text_and_the_final_check_decides():
    model = GatedModel(fails=True)
    screen, clock = _screen(model)
    screen.offer("Some text")
    model.gate.set()
    await _settle()
    clock.now = 1.0
    assert screen.offer("Some text and more") is None
    assert not screen.is_withheld
    model.gate.set()
    final = await screen.final("Some text and more")
    assert final == Verdict(Moderation.WITHHELD, "unchecked", "gated-mod")


async def test_on_error_allow_lets_an_unchecked_reply_through_and_says_so():
    model = GatedModel(fails=True)
    screen, _ = _screen(model, on_error="allow")
    model.gate.set()
    assert await screen.final("Plain text") == Verdict(Moderation.ALLOWED, "unchecked", "gated-mod")


async def test_a_spoiler_verdict_mid_stream_stops_the_text_but_not_the_reply():
    model = GatedModel(flag="finale")
    screen, _ = _screen(model, action=RuleAction.SPOILER)
    screen.offer("The finale")
    model.gate.set()
    await _settle()
    assert screen.offer("The finale is sad") is None
    assert not screen.is_withheld
    model.gate.set()
    verdict = await screen.final("The finale is sad")
    assert verdict.moderation is Moderation.SPOILER


async def test_a_withholding_rule_decides_without_asking_the_model():
    model = GatedModel()
    screen, _ = _screen(model, "forbidden")
    verdict = await screen.final("A forbidden word")
    assert verdict.is_withheld
    assert model.asked == []
