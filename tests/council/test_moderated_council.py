"""A council under moderation, without Discord: a guard model's verdicts stored with each reply,
and nothing withheld in what the presenter is shown, other members' prompts, the synthesis or a
restored transcript."""

from __future__ import annotations

import json
import random

from bot.config import ModerationConfig
from bot.council.engine import SessionRun
from bot.council.models import Moderation, ReplyStatus
from bot.council.moderation import RuleAction, RuleKind
from bot.council.screening import ModelCheck, Screening
from bot.council.spec import build_spec
from bot.providers.moderation import build_moderation_model
from bot.providers.registry import build_providers
from tests.fakellm import guard_verdicts

GUILD = 4242
POISON = "Poison the reservoir"


async def _open(council, screening: Screening, **options) -> SessionRun:
    config = council.config
    spec = build_spec(config, "Water policy?", guild_id=GUILD, **options)
    return await SessionRun.open(
        spec,
        config=config,
        providers=build_providers(config, {}, council.http),
        store=council.store,
        presenter=council.presenter,
        rng=random.Random(7),
        screening=screening,
    )


def _guarded(council) -> Screening:
    moderation = ModerationConfig(kind="guard", provider="local", model="llama-guard3")
    config = council.config.model_copy(update={"moderation": moderation})
    model = build_moderation_model(config, {}, council.http)
    return Screening(policies=council.store, model=ModelCheck.configured(moderation, model))


async def test_a_guard_models_unsafe_answer_withholds_the_reply_under_its_category(council):
    council.fake.script("llama-guard3", reply=guard_verdicts({"poison": "S10"}))
    council.script_all(reply="Build more reservoirs.")
    council.fake.script("gemini-model", reply=[f"{POISON}, obviously.", "Fine, reservoirs."])
    run = await _open(council, _guarded(council), members=["Claude", "Gemini", "Llama"], rounds=2)

    session = await run.run()

    replies = await council.store.replies(session.id)
    withheld = [r for r in replies if r.status is ReplyStatus.WITHHELD]
    assert [(r.persona, r.round_number) for r in withheld] == [("Gemini", 1)]
    assert (withheld[0].moderation, withheld[0].moderation_category) == (
        Moderation.WITHHELD,
        "hate",
    )
    assert withheld[0].moderation_source == "llama-guard3"
    assert run.coverage() == (
        "2/3 members answered every round; Gemini was withheld by moderation in round 1"
    )
    # Neither the other members' round 2 prompts nor the synthesis ever saw it.
    later = [
        *council.requests("Claude"),
        *council.requests("Llama"),
        *council.requests("Gemini")[1:],
    ]
    assert later
    assert all(POISON not in json.dumps(r.body) for r in later)
    assert all(POISON not in text for text in council.presenter.deltas_for("Gemini"))
    allowed = next(r for r in replies if r.persona == "Claude" and r.round_number == 1)
    assert (allowed.moderation, allowed.moderation_source) == (Moderation.ALLOWED, "llama-guard3")


async def test_a_guild_rule_applies_from_the_next_reply_and_a_restored_council_forgets_the_text(
    council,
):
    await council.store.add_moderation_rule(
        GUILD, RuleKind.KEYWORD, "reservoir*", RuleAction.WITHHOLD
    )
    council.script_all(reply="Talk to the neighbours.")
    council.fake.script(
        "claude-model", reply="Reservoirs, obviously.\nMore reservoirs.", tokens_per_s=200
    )
    run = await _open(council, Screening(policies=council.store), rounds=2)
    await council.kill_after_round(run, 1)

    restored = await council.restore(run.session.id)
    assert [t.speaker for t in restored.transcript] == ["DeepSeek", "Gemini", "Llama"]
    assert all("eservoir" not in text for text in council.presenter.deltas_for("Claude"))
    [kept] = [r for r in await council.store.replies(run.session.id) if r.persona == "Claude"]
    assert kept.status is ReplyStatus.WITHHELD
    assert kept.moderation_rule == "keyword #1: reservoir*"
