"""Muted members in the engine: who sits out which rounds, in every format, and after a restart."""

from __future__ import annotations

import asyncio

from bot.council.events import MemberStarted, RoundStarted
from bot.council.models import ReplyKind, ReplyStatus, SessionStatus
from tests.council.conftest import NAMES
from tests.fakellm.scripts import Fault


def _turns(council, kind: ReplyKind = ReplyKind.ANSWER) -> list[tuple[int, str]]:
    return [
        (e.turn.round_number, e.turn.persona)
        for e in council.presenter.of(MemberStarted)
        if e.turn.kind is kind
    ]


async def test_a_member_muted_mid_round_finishes_it_and_sits_out_the_rounds_after(council):
    council.script_all(reply="A view.", first_token_delay_s=0.2)
    run = await council.open(rounds=3)
    council.presenter.on_event = lambda e: (
        run.mute("Gemini") if isinstance(e, MemberStarted) and e.turn.round_number == 1 else None
    )

    session = await run.run()

    assert session.status is SessionStatus.FINISHED
    answered = sorted(
        (r.round_number, r.persona)
        for r in await council.store.replies(session.id)
        if r.kind is ReplyKind.ANSWER
    )
    assert answered == sorted(
        [(1, name) for name in NAMES]
        + [(n, name) for n in (2, 3) for name in NAMES if name != "Gemini"]
    )


async def test_in_a_debate_a_muted_member_loses_its_turns_and_the_others_keep_their_order(
    council,
):
    council.script_all(reply="A view.")
    run = await council.open(rounds=2, format="debate")
    run.mute("DeepSeek")

    await run.run()

    assert _turns(council) == [
        (1, "Claude"),
        (1, "Gemini"),
        (1, "Llama"),
        (2, "Gemini"),
        (2, "Llama"),
        (2, "Claude"),
    ]


async def test_a_muted_member_neither_reviews_nor_writes_the_synthesis(council):
    council.script_all(reply="A view.")
    run = await council.open(rounds=1, format="review")
    run.mute("Claude")

    session = await run.run()

    assert council.requests("Claude") == []
    reviewers = {persona for _, persona in _turns(council, ReplyKind.REVIEW)}
    assert reviewers == {"DeepSeek", "Gemini", "Llama"}
    [synthesis] = _turns(council, ReplyKind.SYNTHESIS)
    assert synthesis == (1, "DeepSeek")
    assert session.status is SessionStatus.FINISHED


async def test_the_quorum_counts_only_members_who_are_not_muted(council):
    council.script_all(reply="A view.")
    council.fake.script("gemini-model", reply="x", fault=Fault.http(status=500))
    run = await council.open(rounds=1)
    run.mute("Claude")
    run.mute("DeepSeek")

    # One of the two who speak answers: a quorum of them. Counted among all four it is not,
    # and the council would pause for a host to resume it.
    session = await asyncio.wait_for(run.run(), timeout=10)

    assert session.status is SessionStatus.FINISHED
    replies = await council.store.replies(session.id)
    answers = {(r.persona, r.status) for r in replies if r.kind is ReplyKind.ANSWER}
    assert answers == {("Gemini", ReplyStatus.FAILED), ("Llama", ReplyStatus.OK)}


async def test_a_session_restored_from_the_store_keeps_its_muted_members(council):
    council.script_all(reply="A view.")
    run = await council.open(rounds=2)
    await council.store.set_muted(run.session.id, ["Llama"])
    await council.kill_after_round(run, 1)

    resumed = await council.restore(run.session.id)
    council.presenter.events.clear()
    await resumed.run()

    assert resumed.muted == frozenset({"Llama"})
    assert [n for n, _ in _turns(council)] == [2, 2, 2]
    assert "Llama" not in {persona for _, persona in _turns(council)}
    assert council.presenter.of(RoundStarted)[0].number == 2
