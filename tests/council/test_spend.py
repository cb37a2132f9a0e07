"""What a council spends: every call counts, failed and stopped ones too, where spend is read."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from bot.council.engine import SessionRun
from bot.council.events import TextDelta
from bot.council.models import Reply, ReplyStatus, SessionStatus
from bot.council.spec import build_spec
from bot.providers.registry import build_providers
from bot.render.summary import member_stats
from tests.fakellm import Fault

# Dollars per million tokens: a token costs a tenth of a cent either way.
PRICES = (1000.0, 1000.0)
GUILD = 77


def _cost(reply: Reply) -> float:
    return (reply.input_tokens * PRICES[0] + reply.output_tokens * PRICES[1]) / 1_000_000


async def _gemini(council, session_id: int) -> Reply:
    [reply] = [r for r in await council.store.replies(session_id) if r.persona == "Gemini"]
    return reply


async def test_a_member_cut_off_mid_reply_is_charged_its_prompt_and_what_it_streamed(council):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    council.fake.script("gemini-model", reply="word " * 60, faults=[Fault.cut(after_tokens=8)])
    run = await council.open(rounds=1)
    session = await run.run()

    gemini = await _gemini(council, session.id)
    assert gemini.status is ReplyStatus.FAILED
    assert gemini.text.startswith("word")
    assert gemini.input_tokens > 0
    assert gemini.output_tokens > 0
    assert gemini.tokens_estimated
    assert gemini.cost_usd == pytest.approx(_cost(gemini))
    replies = await council.store.replies(session.id)
    assert run.budget.spent_usd == pytest.approx(sum(r.cost_usd for r in replies))
    assert run.budget.spent_tokens == sum(r.input_tokens + r.output_tokens for r in replies)


async def test_a_member_that_stalls_mid_reply_is_charged_what_it_streamed(council):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    council.fake.script(
        "gemini-model", reply="word " * 50, stall_after_tokens=6, stall_s=5, tokens_per_s=200
    )
    run = await council.open(rounds=1, stall_timeout_s=0.4)
    session = await run.run()

    gemini = await _gemini(council, session.id)
    assert gemini.error_kind == "timeout"
    assert gemini.input_tokens > 0
    assert gemini.output_tokens > 0
    assert gemini.tokens_estimated
    assert gemini.cost_usd == pytest.approx(_cost(gemini))


async def test_a_member_timing_out_before_its_first_word_is_charged_its_prompt(council):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    council.fake.script("gemini-model", reply="Too late.", first_token_delay_s=5)
    run = await council.open(rounds=1, member_timeout_s=0.3)
    session = await run.run()

    gemini = await _gemini(council, session.id)
    assert gemini.error_kind == "timeout"
    assert gemini.input_tokens > 0
    assert gemini.output_tokens == 0
    assert gemini.tokens_estimated
    assert gemini.cost_usd == pytest.approx(_cost(gemini))


@pytest.mark.parametrize("status", [401, 404, 429, 503])
async def test_a_call_the_provider_turns_away_costs_nothing(council, status):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    council.fake.script("gemini-model", reply="Never said.", faults=[Fault.http(status)])
    run = await council.open(rounds=1)
    session = await run.run()

    gemini = await _gemini(council, session.id)
    assert gemini.status is ReplyStatus.FAILED
    assert (gemini.input_tokens, gemini.output_tokens, gemini.cost_usd) == (0, 0, 0.0)
    assert not gemini.tokens_estimated


async def test_a_call_to_a_server_that_is_not_there_costs_nothing(council, unused_tcp_port):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    config = council.config
    raw = config.model_dump()
    raw["providers"]["gone"] = {
        **raw["providers"]["local"],
        "base_url": f"http://127.0.0.1:{unused_tcp_port}/v1",
    }
    raw["models"]["gemini"]["provider"] = "gone"
    gone = type(config).model_validate(raw)
    run = await SessionRun.open(
        build_spec(gone, "Should cities ban cars?", rounds=1),
        config=gone,
        providers=build_providers(gone, {}, council.http),
        store=council.store,
        presenter=council.presenter,
    )
    session = await run.run()

    gemini = await _gemini(council, session.id)
    assert gemini.error_kind == "unreachable"
    assert (gemini.input_tokens, gemini.output_tokens, gemini.cost_usd) == (0, 0, 0.0)


async def test_an_empty_reply_is_charged_the_usage_the_provider_reported(council):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    council.fake.script("gemini-model", reply="", usage=(120, 30))
    run = await council.open(rounds=1)
    session = await run.run()

    gemini = await _gemini(council, session.id)
    assert gemini.error_kind == "empty"
    assert (gemini.input_tokens, gemini.output_tokens) == (120, 30)
    assert not gemini.tokens_estimated
    assert gemini.cost_usd == pytest.approx(0.15)


async def test_a_stopped_council_counts_what_its_cancelled_calls_streamed_everywhere(council):
    council.prices = PRICES
    council.script_all(reply="word " * 400, tokens_per_s=40)
    run = await council.open(rounds=2, guild_id=GUILD)
    seen_text = asyncio.Event()
    council.presenter.on_event = lambda e: seen_text.set() if isinstance(e, TextDelta) else None
    task = asyncio.create_task(run.run())
    await asyncio.wait_for(seen_text.wait(), 5)
    await asyncio.sleep(0.2)
    run.stop("Stopped by the host.")
    session = await asyncio.wait_for(task, 5)

    assert session.status is SessionStatus.STOPPED
    replies = await council.store.replies(session.id)
    assert all(r.error_kind == "stopped" for r in replies)
    assert all(r.input_tokens > 0 and r.tokens_estimated for r in replies)
    assert any(r.output_tokens > 0 for r in replies)
    spent = sum(r.cost_usd for r in replies)
    assert spent == pytest.approx(sum(_cost(r) for r in replies))
    # The live status, the summary and the guild's daily budget all read the same spend.
    assert run.budget.spent_usd == pytest.approx(spent)
    record = await council.store.session_record(session.id)
    assert sum(s.cost_usd for s in member_stats(record)) == pytest.approx(spent)
    since = datetime.now(UTC) - timedelta(days=1)
    assert await council.store.guild_spend_usd(GUILD, since) == pytest.approx(spent)


async def test_a_resumed_council_counts_the_failed_calls_of_its_first_run(council):
    council.prices = PRICES
    council.script_all(reply="A fine answer.")
    council.fake.script("gemini-model", reply="word " * 60, faults=[Fault.cut(after_tokens=8)])
    run = await council.open(rounds=2)
    await council.kill_after_round(run, 1)

    record = await council.store.session_record(run.session.id)
    resumed = await council.restore(run.session.id)
    [failed] = [r for r in record.replies if r.status is ReplyStatus.FAILED]
    assert failed.cost_usd > 0
    assert resumed.budget.spent_usd == pytest.approx(sum(r.cost_usd for r in record.replies))
    assert resumed.budget.spent_tokens == sum(
        r.input_tokens + r.output_tokens for r in record.replies
    )
