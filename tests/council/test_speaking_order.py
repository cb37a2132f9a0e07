"""The host steers: a sequential council's speaking order, and an early end by agreement."""

from __future__ import annotations

from bot.config import PresetConfig
from bot.council.engine import SessionRun
from bot.council.events import AgreementReached, RoundFinished
from bot.council.formats import plan_round
from bot.council.models import SessionStatus
from bot.council.spec import build_spec
from bot.providers.registry import build_providers

MEMBERS = ["Claude", "Gemini", "Llama"]


def _footer(label: str, *, changed: bool = False) -> str:
    moved = "yes, because of Gemini" if changed else "no"
    return f"\n[stance: {label} | claim: Cut lanes | confidence: 70% | changed: {moved}]"


async def test_natural_order_seats_the_asked_member_first_next_round(council):
    council.fake.script("claude-model", reply="Parking first. Llama, what would you cut first?")
    council.fake.script("gemini-model", reply="Buses, then bikes.")
    council.fake.script("llama-model", reply="Lanes, slowly.")
    run = await council.open(members=MEMBERS, format="debate", rounds=2, order="natural")
    await run.run()

    order = council.presenter.started_names()
    assert order[:3] == MEMBERS
    # Claude asked Llama, so Llama speaks first; the others have spoken as often: given order.
    assert order[3:6] == ["Llama", "Claude", "Gemini"]
    stored = await council.store.get_session(run.session.id)
    assert stored is not None
    assert stored.speaking_order == "natural"
    resumed = await council.restore(run.session.id)
    assert resumed.spec.speaking_order == "natural"


def test_natural_order_then_seats_who_has_spoken_least():
    spoken = {"Claude": 2, "Gemini": 1, "Llama": 2}
    steps = plan_round("debate", 3, MEMBERS, None, ("Llama",), "natural", spoken)
    assert [s.speakers[0] for s in steps] == ["Llama", "Gemini", "Claude"]
    chaired = plan_round("chaired", 3, ["Chair", *MEMBERS], "Chair", (), "natural", spoken)
    assert chaired[1].speakers == ("Gemini", "Claude", "Llama")


async def test_fixed_order_keeps_the_members_order_every_round(council):
    council.script_all(reply="A plain answer.")
    run = await council.open(members=MEMBERS, format="debate", rounds=3, order="fixed")
    await run.run()

    assert council.presenter.started_names()[:9] == MEMBERS * 3


def _steady(name: str, label: str = "cautious") -> list[str]:
    return [f"{name} holds.{_footer(label)}"]


async def test_positions_held_for_a_round_offer_the_host_a_wrap_up(council):
    for name in MEMBERS:
        council.fake.script(f"{name.lower()}-model", reply=_steady(name))
    run = await council.open(members=MEMBERS, format="debate", rounds=4)
    session = await run.run()

    offers = council.presenter.of(AgreementReached)
    # Round 1 has nothing to hold to; round 2 repeats every stance: one offer, rounds go on.
    assert offers == [AgreementReached(2, is_ending=False)]
    assert session.status is SessionStatus.FINISHED
    assert [e.number for e in council.presenter.of(RoundFinished)] == [1, 2, 3, 4]


async def test_a_changed_stance_or_an_open_question_makes_no_offer(council):
    council.fake.script("claude-model", reply=_steady("Claude"))
    council.fake.script("gemini-model", reply=_steady("Gemini"))
    council.fake.script(
        "llama-model",
        reply=[f"Llama holds.{_footer('cautious')}", f"Llama moves.{_footer('supportive')}"],
    )
    run = await council.open(members=MEMBERS, format="debate", rounds=4)
    await run.run()
    # Llama changed its stance in round 2; in round 3 every stance held again.
    assert [e.number for e in council.presenter.of(AgreementReached)] == [3]

    council.presenter.events.clear()
    council.fake.script("claude-model", reply=_steady("Claude"))
    asks = [
        _footer("cautious").replace("]", f" | ask: Llama: What would you cut in year {n}?]")
        for n in range(1, 5)
    ]
    council.fake.script("gemini-model", reply=[f"Gemini holds.{ask}" for ask in asks])
    council.fake.script("llama-model", reply=_steady("Llama"))
    run = await council.open(members=MEMBERS, format="debate", rounds=4)
    await run.run()
    # Every stance held, but Gemini's question to Llama was open after every round.
    assert council.presenter.of(AgreementReached) == []


async def test_a_preset_that_ends_on_agreement_goes_to_the_synthesis(council, http):
    for name in MEMBERS:
        council.fake.script(f"{name.lower()}-model", reply=_steady(name))
    config = council.config
    config.presets["settled"] = PresetConfig(
        members=MEMBERS, format="debate", rounds=5, order="fixed", end_on_agreement=True
    )
    spec = build_spec(config, "Should cities ban cars?", preset="settled")
    run = await SessionRun.open(
        spec,
        config=config,
        providers=build_providers(config, {}, http),
        store=council.store,
        presenter=council.presenter,
    )
    session = await run.run()

    assert council.presenter.of(AgreementReached) == [AgreementReached(2, is_ending=True)]
    assert [e.number for e in council.presenter.of(RoundFinished)] == [1, 2]
    assert council.presenter.started_names()[:6] == MEMBERS * 2
    assert session.status is SessionStatus.FINISHED
    assert session.synthesis_json is not None
    assert session.end_on_agreement
    [entry] = await council.store.audit_log(None)
    assert (entry.user_id, entry.action) == (None, "session.end")
