"""Every format against the fake providers: who is sent what, and when."""

from __future__ import annotations

import time

from bot.council.events import RoundFinished, RoundStarted, SessionEnded
from bot.council.models import MemberRole, ReplyKind, ReplyStatus, SessionStatus
from tests.council.conftest import NAMES


def _answer(name: str, round_number: int) -> str:
    return f"{name} says thing {round_number}."


def _script_rounds(council, rounds: int = 3) -> None:
    for name in NAMES:
        council.fake.script(
            f"{name.lower()}-model", reply=[_answer(name, r) for r in range(1, rounds + 1)]
        )


async def test_parallel_round_one_sees_only_the_topic_and_round_two_sees_the_others(council):
    _script_rounds(council)
    run = await council.open(rounds=2)
    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    for name in NAMES:
        first, second = council.requests(name)[:2]
        assert "Should cities ban cars?" in first.turns()[0][1]
        assert all(_answer(other, 1) not in first.body["messages"].__repr__() for other in NAMES)
        sent = repr(second.turns())
        for other in NAMES:
            if other == name:
                assert ("assistant", _answer(name, 1)) in second.turns()
            else:
                assert f"{other}: {_answer(other, 1)}" in sent
            assert _answer(other, 2) not in sent  # nobody sees this round's answers
        assert f"You are {name}" in second.system_text()


async def test_a_parallel_round_takes_as_long_as_its_slowest_member(council):
    for name, delay in zip(NAMES[:3], (0.3, 0.6, 0.9), strict=True):
        council.fake.script(
            f"{name.lower()}-model", reply="Short answer.", first_token_delay_s=delay
        )
    run = await council.open(members=list(NAMES[:3]), rounds=1)
    finished_at: dict[int, float] = {}
    started_at: dict[int, float] = {}

    def clock(event):
        if isinstance(event, RoundStarted):
            started_at[event.number] = time.monotonic()
        if isinstance(event, RoundFinished):
            finished_at[event.number] = time.monotonic()

    council.presenter.on_event = clock
    await run.run()
    assert finished_at[1] - started_at[1] < 1.1


async def test_debate_speakers_see_this_rounds_earlier_speakers_and_the_order_rotates(council):
    _script_rounds(council)
    run = await council.open(members=["Claude", "Gemini", "Llama"], format="debate", rounds=2)
    await run.run()

    order = council.presenter.started_names()
    assert order[:3] == ["Claude", "Gemini", "Llama"]
    assert order[3:6] == ["Gemini", "Llama", "Claude"]
    llama_round_1 = repr(council.requests("Llama")[0].turns())
    assert f"Claude: {_answer('Claude', 1)}" in llama_round_1
    assert f"Gemini: {_answer('Gemini', 1)}" in llama_round_1
    claude_round_1 = repr(council.requests("Claude")[0].turns())
    assert "Gemini" not in claude_round_1


async def test_chaired_rounds_open_with_the_chairs_question_and_the_chair_does_not_compete(
    council,
):
    council.fake.script("claude-model", reply=["Chair asks: is it fair?", "Chair asks more?"])
    council.fake.script("deepseek-model", reply="I think so. Gemini, what would you cut first?")
    council.fake.script("gemini-model", reply="Parking, mostly.")
    council.fake.script("llama-model", reply="Governance first.")
    run = await council.open(preset="chaired", rounds=2)
    await run.run()

    members = await council.store.members(run.session.id)
    roles = {m.persona: m.role for m in members}
    assert roles["Claude"] is MemberRole.CHAIR
    assert run.competing == ["DeepSeek", "Gemini", "Llama"]
    order = council.presenter.started_names()
    assert order[0] == "Claude"
    round_two = order[4:]
    # Gemini was asked a question by DeepSeek, so it is seated first after the chair.
    assert round_two[:2] == ["Claude", "Gemini"]
    gemini_second = council.requests("Gemini")[1].last_user_text()
    assert "DeepSeek asked: Gemini, what would you cut first?" in gemini_second
    for name in ("DeepSeek", "Gemini", "Llama"):
        assert "Claude (chair): Chair asks: is it fair?" in repr(council.requests(name)[0].turns())
    answers = [r for r in await council.store.replies(run.session.id) if r.kind is ReplyKind.ANSWER]
    assert {r.persona for r in answers} == {"DeepSeek", "Gemini", "Llama"}


async def test_review_excludes_the_reviewer_shuffles_per_reviewer_and_aggregates_by_borda(council):
    answers = {name: f"The answer of {name}, unique text {i}." for i, name in enumerate(NAMES[:3])}

    def reviewer(name):
        def reply(request):
            prompt = "\n".join(text for _, text in request.turns())
            if "Peer review" not in prompt:
                return answers[name]
            # Rank by the answer's index: lower index is better for everyone.
            labelled = {
                label: owner
                for owner, text in answers.items()
                for label in ("Response A", "Response B")
                if f"{label}:\n{text}" in prompt
            }
            ranked = sorted(labelled, key=lambda lbl: list(answers).index(labelled[lbl]))
            if name == "Gemini" and len(request.turns()) < 4:
                return "I like them all, really."  # unreadable: forces one retry
            return '{"ranking": ' + str(ranked).replace("'", '"') + ', "reasons": "x"}'

        return reply

    for name in NAMES[:3]:
        council.fake.script(f"{name.lower()}-model", reply=reviewer(name))
    run = await council.open(members=list(NAMES[:3]), format="review", rounds=1)
    await run.run()

    for name in NAMES[:3]:
        review_prompts = [
            r.last_user_text() for r in council.requests(name) if "Peer review" in repr(r.turns())
        ]
        assert review_prompts, name
        # Each reviewer ranks the two others' answers, never its own.
        shown = [owner for owner, text in answers.items() if text in review_prompts[0]]
        assert shown == [owner for owner in NAMES[:3] if owner != name]
    assert len(council.requests("Gemini")) == 3  # answer, unreadable review, retry
    assert [s.candidate for s in run.ranking] == ["Claude", "DeepSeek", "Gemini"]
    assert [s.points for s in run.ranking] == [2.0, 1.0, 0.0]
    reviews = [r for r in await council.store.replies(run.session.id) if r.kind is ReplyKind.REVIEW]
    assert len(reviews) == 4
    assert run.synthesis is not None
    assert run.synthesis.ranking[0].startswith("Claude")


async def test_a_session_ends_with_its_replies_and_rounds_in_the_store(council):
    _script_rounds(council)
    run = await council.open(rounds=2)
    await run.run()
    record = await council.store.session_record(run.session.id)
    assert [r.number for r in record.rounds] == [1, 2]
    assert all(r.finished_at is not None for r in record.rounds)
    answers = [r for r in record.replies if r.kind is ReplyKind.ANSWER]
    assert len(answers) == 8
    assert all(r.status is ReplyStatus.OK and r.output_tokens > 0 for r in answers)
    assert council.presenter.of(SessionEnded)[0].session.status is SessionStatus.FINISHED
