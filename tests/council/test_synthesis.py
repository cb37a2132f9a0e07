"""The synthesis: JSON parsed, prose survived, and never made from a single answer."""

from __future__ import annotations

from bot.council.models import ReplyKind, SessionStatus
from bot.council.synthesis import parse_synthesis
from tests.fakellm import Fault


def test_json_synthesis_is_parsed_even_inside_a_code_fence_with_chatter():
    text = (
        "Here you go:\n```json\n"
        '{"consensus": ["Trains good"], "disagreements": "Cost", "open-questions": ["Who pays?"],'
        ' "cautions": [], "verdict": "Build trains."}\n```'
    )
    parsed = parse_synthesis(text, "Claude")
    assert parsed.consensus == ["Trains good"]
    assert parsed.disagreements == ["Cost"]
    assert parsed.open_questions == ["Who pays?"]
    assert parsed.verdict == "Build trains."
    assert parsed.is_structured


def test_a_synthesis_with_russian_text_under_english_keys_is_parsed():
    text = (
        "Вот итог:\n```json\n"
        '{"consensus": ["Транспорт важен"], "disagreements": ["Claude против DeepSeek"], '
        '"open_questions": ["Кто платит?"], "cautions": ["Риск «перерасхода»"], '
        '"verdict": "Строить трамваи."}\n```'
    )
    parsed = parse_synthesis(text, "Клод")
    assert parsed.consensus == ["Транспорт важен"]
    assert parsed.cautions == ["Риск «перерасхода»"]
    assert parsed.open_questions == ["Кто платит?"]
    assert parsed.verdict == "Строить трамваи."
    assert parsed.author == "Клод"
    assert parsed.is_structured


def test_a_cut_off_russian_synthesis_keeps_its_complete_items():
    parsed = parse_synthesis('{"consensus": ["Транспорт важен", "Нужны ', "Клод")
    assert parsed.consensus == ["Транспорт важен"]


def test_broken_json_falls_back_to_headed_sections():
    text = (
        '{"consensus": [broken\n'
        "Consensus:\n- Trains are good\n- Buses too\n"
        "**Cautions**\n- Budget overruns\n"
        "Verdict: Invest in transit."
    )
    parsed = parse_synthesis(text, "Claude")
    assert parsed.consensus == ["Trains are good", "Buses too"]
    assert parsed.cautions == ["Budget overruns"]
    assert parsed.verdict == "Invest in transit."
    assert not parsed.is_structured


def test_plain_prose_becomes_the_verdict():
    parsed = parse_synthesis("The council leans towards yes.\nMore text.", "Claude")
    assert parsed.verdict == "The council leans towards yes."
    assert parsed.consensus == []


async def test_a_single_surviving_answer_is_never_presented_as_a_synthesis(council):
    council.script_all(reply="Only me.", fault=Fault.http(401))
    council.fake.script("llama-model", reply="Only me.")
    run = await council.open(members=["Gemini", "Llama"], rounds=1)
    council.presenter.on_event = lambda e: (
        run.resume() if type(e).__name__ == "SessionPaused" else None
    )
    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    assert run.synthesis is None
    assert "Only Llama answered, so there is nothing to synthesise" in session.synthesis_json
    kinds = {r.kind for r in await council.store.replies(session.id)}
    assert ReplyKind.SYNTHESIS not in kinds


async def test_the_summariser_falls_back_to_another_member_when_the_chair_fails(council):
    council.script_all(reply='{"consensus": ["ok"], "verdict": "Fine."}')
    council.fake.script("claude-model", reply=["A chair question?", "x"], faults=[], fault=None)
    run = await council.open(preset="chaired", rounds=1)

    def break_chair(event):
        if type(event).__name__ == "RoundFinished":
            council.fake.script("claude-model", fault=Fault.http(500))

    council.presenter.on_event = break_chair
    await run.run()
    assert run.synthesis is not None
    assert run.synthesis.author == "DeepSeek"
    assert run.synthesis.verdict == "Fine."


def test_json_cut_off_mid_way_keeps_its_complete_items():
    text = '{"consensus": ["Trains good", "Buses \\"too\\""], "disagreements": ["Cost of the ne'
    parsed = parse_synthesis(text, "Claude")
    assert parsed.consensus == ["Trains good", 'Buses "too"']
    assert parsed.disagreements == []
    assert parsed.verdict == ""
    assert not parsed.is_structured
