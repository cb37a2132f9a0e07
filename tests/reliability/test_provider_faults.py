"""Provider faults, end to end: one member's model misbehaves, the council goes on and says so.

Each case injects one fault into Gemini's model, on a provider of its own with short deadlines
and its own key, while Claude, DeepSeek and Llama answer normally. Through the fake Discord the
test checks what the audience sees (the others' replies, a one-line ⚠️ note for Gemini and the
summary's coverage line), what the store recorded, and that Gemini's key appears nowhere.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import pytest

import tests.bot_harness
from bot.config import CouncilConfig, parse_config
from bot.council.models import ReplyKind, ReplyStatus
from bot.council.turns import CUT_OFF_NOTE, FAILURE_LABELS
from bot.providers.registry import build_providers
from bot.render.export import export_json
from bot.render.transcript import render_markdown
from tests.council.conftest import NAMES, make_config
from tests.fakellm import Fault
from tests.fakellm.wire import tokenize
from tests.ports import free_port

GEMINI_KEY = "sk-gemini-7Qm2Rx9Lp4Vt8Kc1"
ENV = {"GEMINI_API_KEY": GEMINI_KEY}
REPLY = "Gemini weighs both sides before it answers."
OTHERS = [name for name in NAMES if name != "Gemini"]
# Gemini's own provider unless a case says otherwise: quick to give up, no retries.
SOLO = {
    "api_key_env": "GEMINI_API_KEY",
    "first_token_timeout_s": 0.5,
    "timeout_s": 3.0,
    "max_retries": 0,
}
LONG_REPLY = ("All work and no play makes the council a dull debate. " * 1000)[:50_000]


@dataclass(frozen=True)
class Case:
    """One injected fault and what must come of it."""

    id: str
    script: dict[str, Any]  # Gemini's ModelScript fields
    error_kind: str | None  # the stored error_kind; None when Gemini answers in the end
    detail: str = ""  # part of the stored error_message, which the transcript shows the host
    attempts: int = 1  # the requests the fake model server receives for Gemini
    provider: dict[str, Any] = field(default_factory=dict)  # changes to Gemini's provider
    model: str = "gemini-model"  # the model id configured for Gemini
    within_s: float = 2.5  # how long Gemini's failed turn may take, retries included


FAILURES = [
    Case(
        "timeout-before-first-token",
        {"first_token_delay_s": 5.0},
        "timeout",
        detail="did not start answering within 0.5 s",
        within_s=1.5,  # the first-token deadline, not the 3 s total
        provider={"max_retries": 2},  # a timeout is not retried: the budget is spent
    ),
    Case(
        "stall-mid-reply",
        {"stall_after_tokens": 3, "stall_s": 10.0},
        "timeout",
        detail="did not finish answering within 1 s",
        provider={"timeout_s": 1.0},
    ),
    Case(
        "connection-reset-mid-reply",
        {"fault": Fault.cut(after_tokens=3)},
        "bad_response",
        detail="cut off before it ended",
        provider={"max_retries": 2},  # text was shown: no retry after the first token
    ),
    Case(
        "429-retry-after-beyond-the-budget",
        {"fault": Fault.http(429, retry_after=60)},
        "rate_limited",
        detail="try again in 60 s",
        provider={"max_retries": 2},
    ),
    Case(
        "502-retried-then-given-up",
        {"fault": Fault.http(502)},
        "overloaded",
        detail="(HTTP 502)",
        attempts=2,
        provider={"max_retries": 1},
    ),
    Case("503-without-retries", {"fault": Fault.http(503)}, "overloaded", detail="(HTTP 503)"),
    Case(
        "error-object-mid-stream",
        {"fault": Fault.error_event(status=500, message="Internal error", after_tokens=3)},
        "overloaded",
        detail="(HTTP 500)",
        provider={"max_retries": 2},  # text was shown: no retry after the first token
    ),
    Case(
        "401-key-rejected",
        {"fault": Fault.http(401, echo_key=True)},
        "auth",
        detail="check GEMINI_API_KEY",
        provider={"max_retries": 2},
    ),
    Case(
        "model-not-found",
        {},
        "model_not_found",
        detail="does not know the model 'gemini-no-such-model'",
        provider={"max_retries": 2},
        model="gemini-no-such-model",  # the fake answers 404 for models it has no script for
    ),
    Case(
        "server-down",
        {},
        "unreachable",
        detail="Could not connect to 127.0.0.1",
        attempts=0,
        provider={"base_url": f"http://127.0.0.1:{free_port()}/v1"},
    ),
    Case(
        "malformed-json",
        {"fault": Fault.malformed_json(after_tokens=3)},
        "bad_response",
        detail="malformed JSON in the stream",
    ),
    Case(
        "sse-ends-without-done-or-finish",
        {"send_end": False, "send_finish": False},
        "bad_response",
        detail="the stream ended before the reply did",
    ),
    Case("empty-reply", {"reply": ""}, "empty", detail="the reply was empty"),
    Case("whitespace-only-reply", {"reply": " \n\n  \n"}, "empty", detail="the reply was empty"),
    Case(
        "only-reasoning-in-think-tags",
        {"reply": "", "reasoning": "SECRET-PLAN weigh it up", "reasoning_style": "think_tags"},
        "empty",
    ),
    Case(
        "only-native-reasoning",
        {"reply": "", "reasoning": "SECRET-PLAN weigh it up", "reasoning_style": "native"},
        "empty",
    ),
]

RECOVERIES = [
    Case(
        "429-retry-after-within-the-budget",
        {"faults": [Fault.http(429, retry_after=1)]},
        None,
        attempts=2,
        provider={"max_retries": 2},
    ),
    Case(
        "500-once-then-success",
        {"faults": [Fault.http(500)]},
        None,
        attempts=2,
        provider={"max_retries": 1},
    ),
    Case(
        "connection-reset-before-any-text",
        {"faults": [Fault.cut(after_tokens=0)]},
        None,
        attempts=2,
        provider={"max_retries": 1},
    ),
    Case("sse-without-done-but-finished", {"send_end": False}, None),
    Case(
        "reasoning-then-text",
        {"reasoning": "SECRET-PLAN weigh it up", "reasoning_style": "think_tags"},
        None,
    ),
]


def _config(llm, case: Case, *, max_tokens: int = 2000) -> CouncilConfig:
    """The harness's config with Gemini's model moved onto a provider of its own."""
    raw = make_config(llm, max_tokens=max_tokens).model_dump()
    raw["providers"]["solo"] = {**raw["providers"]["local"], **SOLO, **case.provider}
    raw["models"]["gemini"].update(provider="solo", model=case.model)
    return parse_config(raw, "council.toml", ENV)


async def _restart(harness, monkeypatch, config: CouncilConfig) -> None:
    # The harness builds providers with an empty environment; this one holds Gemini's key.
    monkeypatch.setattr(
        tests.bot_harness,
        "build_providers",
        lambda config, _environ, http: build_providers(config, ENV, http),
    )
    harness.config = config
    await harness.stop()
    await harness.start()


async def _run_council(harness, *, wait_s: float = 15.0, **script):
    world, driver = harness.world, harness.driver
    # Discord's webhook limit (5 per 2 s) would make each case wait seconds for nothing;
    # a shorter window keeps the bot honouring rate limits while the file stays quick.
    harness.fake.rate_limits.set_limit("webhook", 5, 0.25)
    harness.llm.script("gemini-model", **{"reply": REPLY, **script})
    start = await driver.slash(world.host, world.general, "council start", topic="Buses", rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended(timeout=wait_s)
    [thread] = driver.threads_of(world.general)
    return session, driver.read(thread, as_user=world.bob)


def _assert_the_others_answered(seen) -> None:
    for name in OTHERS:
        [message] = [m for m in seen if m.is_webhook and m.author_name == name]
        assert message.content == (f"{name} thinks carefully. " * 3).strip()
        assert [b.label for b in message.buttons] == ["👍 0", "👎 0"]


def _everything_shown(harness, record) -> str:
    """Every request body the bot sent Discord, every stored message and file, the exports."""
    parts = [json.dumps(entry.body, default=str) for entry in harness.fake.wire]
    for message in harness.fake.world.messages.values():
        parts += [message.content, json.dumps(message.embeds)]
        parts += [a.data.decode("utf-8", errors="replace") for a in message.attachments]
    parts += [export_json(record), render_markdown(record)]
    return "\n".join(parts)


def _assert_no_key_anywhere(harness, record, caplog) -> None:
    shown = _everything_shown(harness, record)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert GEMINI_KEY not in shown
    assert GEMINI_KEY not in logged
    assert GEMINI_KEY[:12] not in shown + logged  # nor a recognisable part of it


@pytest.mark.parametrize("case", FAILURES, ids=lambda c: c.id)
async def test_a_failing_member_is_noted_briefly_recorded_and_covered_and_the_council_finishes(
    harness, monkeypatch, caplog, case
):
    caplog.set_level(logging.DEBUG)
    await _restart(harness, monkeypatch, _config(harness.llm, case))
    started = time.monotonic()
    session, seen = await _run_council(harness, **case.script)

    assert session.status == "finished"
    _assert_the_others_answered(seen)
    label = FAILURE_LABELS[case.error_kind]
    note = f"⚠️ *Gemini {label}.*"
    [gemini] = [m for m in seen if m.is_webhook and m.author_name == "Gemini"]
    shown, _, last_line = gemini.content.rpartition("\n\n")
    assert last_line == note, gemini.content
    # Before the note, at most the part of the reply that had streamed; never a traceback.
    assert REPLY.startswith(shown), gemini.content
    assert gemini.buttons == ()

    replies = await harness.store.replies(session.id)
    [failed] = [r for r in replies if r.persona == "Gemini" and r.kind is ReplyKind.ANSWER]
    assert failed.status is ReplyStatus.FAILED
    assert failed.error_kind == case.error_kind
    assert case.detail in failed.error_message
    assert failed.latency_s is not None
    assert failed.latency_s < case.within_s
    answered = {r.persona for r in replies if r.status is ReplyStatus.OK}
    assert set(OTHERS) <= answered

    summary = seen[-1].embeds[0]
    coverage = f"3/4 members answered every round; Gemini {label} in round 1"
    assert coverage in summary["description"]
    [gemini_field] = [f for f in summary["fields"] if f["name"].startswith("Gemini")]
    assert "⚠️ 1 failed" in gemini_field["value"]

    requests = harness.llm.requests_for(case.model)
    assert len(requests) == case.attempts
    assert all(r.path == "/v1/chat/completions" for r in requests)
    # The failure did not hold up the council.
    assert time.monotonic() - started < case.within_s + 3

    record = await harness.store.session_record(session.id)
    _assert_no_key_anywhere(harness, record, caplog)
    shown_everywhere = _everything_shown(harness, record)
    assert "Traceback" not in shown_everywhere
    assert "SECRET-PLAN" not in shown_everywhere  # reasoning is never shown


async def test_a_rejected_key_names_the_model_and_the_variable_to_check_but_not_the_key(
    harness, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    [case] = [c for c in FAILURES if c.id == "401-key-rejected"]
    await _restart(harness, monkeypatch, _config(harness.llm, case))
    session, seen = await _run_council(harness, **case.script)

    [failed] = [r for r in await harness.store.replies(session.id) if r.persona == "Gemini"]
    assert "gemini-model" in failed.error_message
    assert "check GEMINI_API_KEY" in failed.error_message
    assert "[redacted]" in failed.error_message  # the echoed key, scrubbed
    # The host reads it in the transcript posted with the summary.
    transcript = next(a for a in seen[-1].message.attachments if a.filename.endswith(".md"))
    text = transcript.data.decode()
    assert "### Gemini\n\n_Did not answer: The API key for model gemini-model was rejected" in text
    assert GEMINI_KEY not in text
    assert harness.llm.requests_for("gemini-model")[0].header("authorization") == (
        f"Bearer {GEMINI_KEY}"
    )


@pytest.mark.parametrize("case", RECOVERIES, ids=lambda c: c.id)
async def test_a_member_whose_provider_recovers_answers_as_if_nothing_happened(
    harness, monkeypatch, caplog, case
):
    caplog.set_level(logging.DEBUG)
    await _restart(harness, monkeypatch, _config(harness.llm, case))
    session, seen = await _run_council(harness, **case.script)

    assert session.status == "finished"
    _assert_the_others_answered(seen)
    [gemini] = [m for m in seen if m.is_webhook and m.author_name == "Gemini"]
    assert gemini.content == REPLY
    assert [b.label for b in gemini.buttons] == ["👍 0", "👎 0"]
    replies = await harness.store.replies(session.id)
    assert all(r.status is ReplyStatus.OK for r in replies)
    assert "all 4 members answered every round" in seen[-1].embeds[0]["description"]
    requests = harness.llm.requests_for("gemini-model")
    assert len(requests) == case.attempts
    retry_after = next(
        (f.retry_after for f in case.script.get("faults", []) if f.retry_after), None
    )
    if retry_after is not None:
        waited = requests[1].received_at - requests[0].finished_at
        assert waited >= float(retry_after) - 0.05  # Retry-After honoured
    record = await harness.store.session_record(session.id)
    _assert_no_key_anywhere(harness, record, caplog)
    assert "SECRET-PLAN" not in _everything_shown(harness, record)


@pytest.mark.parametrize(
    ("max_tokens", "expected"),
    [
        # A reply cut at the length limit says so.
        (2000, "".join(tokenize(LONG_REPLY)[:2000]).strip() + f" …\n{CUT_OFF_NOTE}"),
        (20_000, LONG_REPLY.strip()),
    ],
    ids=["capped-by-max-tokens", "split-whole"],
)
async def test_a_50000_character_reply_is_capped_or_split_within_discord_limits(
    harness, monkeypatch, max_tokens, expected
):
    case = Case("long", {}, None, provider={"timeout_s": 60.0})
    await _restart(harness, monkeypatch, _config(harness.llm, case, max_tokens=max_tokens))
    session, seen = await _run_council(harness, reply=LONG_REPLY, wait_s=60)

    assert session.status == "finished"
    _assert_the_others_answered(seen)
    [reply] = [r for r in await harness.store.replies(session.id) if r.persona == "Gemini"]
    assert reply.status is ReplyStatus.OK
    assert reply.text == expected
    gemini = [m for m in seen if m.is_webhook and m.author_name == "Gemini"]
    parts = len(gemini)
    assert parts >= len(expected) / 2000
    assert all(len(m.content) <= 2000 for m in gemini)
    markers = [f" *({i}/{parts})*" for i in range(1, parts + 1)]
    assert [m.content.endswith(mark) for m, mark in zip(gemini, markers, strict=True)] == [
        True
    ] * parts
    joined = " ".join(m.content.removesuffix(mark) for m, mark in zip(gemini, markers, strict=True))
    assert joined.split() == expected.split()
    assert [bool(m.buttons) for m in gemini] == [False] * (parts - 1) + [True]
    # Discord's limits held: the fake would have recorded a violation (and failed the test).
    assert harness.fake.violations == []
