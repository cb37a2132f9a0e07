"""Audience questions through the fake Discord: who may ask, how many, and which round."""

from __future__ import annotations

from bot.audience import MAX_PENDING_QUESTIONS_PER_MEMBER
from bot.council.models import GuildSettings, SessionStatus
from tests.council.conftest import NAMES


def _ephemeral_text(handle) -> str:
    [reply] = handle.responses
    assert reply.is_ephemeral
    return reply.content


async def _running(harness, *, rounds: int, delay_s: float = 0.6, **settings):
    """A council whose every answer waits `delay_s`, running in its thread."""
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, **settings)
    )
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=delay_s)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Buses", rounds=rounds
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    return session, thread


async def _ask(harness, user, thread, question: str) -> str:
    handle = await harness.driver.slash(user, thread, "council ask", question=question)
    await handle.wait_response()
    return _ephemeral_text(handle)


def _saw_question(harness, round_index: int, text: str) -> list[str]:
    """The members whose request at `round_index` (0-based) carried the audience's question."""
    return [
        name
        for name in NAMES
        if len(harness.llm.requests_for(f"{name.lower()}-model")) > round_index
        and text in repr(harness.llm.requests_for(f"{name.lower()}-model")[round_index].turns())
    ]


async def test_a_question_in_the_last_round_promises_no_round_and_waits_for_one_a_host_adds(
    harness,
):
    world, driver = harness.world, harness.driver
    session, thread = await _running(harness, rounds=1)
    reply = await _ask(harness, world.bob, thread, "What about trams?")
    assert "round 2" not in reply
    assert reply.startswith("The council is in its last round; your question will be put to it")
    assert "only if a host adds a round with `/council next`" in reply

    added = await driver.slash(world.host, thread, "council next")
    assert "Round 2 starts" in (await added.wait_response()).content
    ended = await harness.wait_ended()

    assert [r.number for r in await harness.store.rounds(ended.id)] == [1, 2]
    assert _saw_question(harness, 1, "bob, asks: What about trams?") == list(NAMES)
    [question] = await harness.store.questions(session.id)
    assert question.answered_in_round == 2


async def test_a_question_no_round_takes_stays_unanswered_and_status_counts_it(harness):
    world, driver = harness.world, harness.driver
    session, thread = await _running(harness, rounds=1)
    reply = await _ask(harness, world.bob, thread, "What about trams?")
    assert "If none is added, it stays unanswered." in reply
    ended = await harness.wait_ended()

    assert ended.status is SessionStatus.FINISHED
    assert _saw_question(harness, 0, "What about trams?") == []
    [question] = await harness.store.pending_questions(session.id)
    assert question.text == "What about trams?"
    status = await driver.slash(world.bob, thread, "council status")
    assert "Questions waiting: 1" in (await status.wait_response()).content


async def test_next_cannot_add_a_round_past_the_servers_maximum(harness):
    world, driver = harness.world, harness.driver
    session, thread = await _running(harness, rounds=2, max_rounds=2)
    await harness.wait_round_finished(session.id, 1)

    refused = await driver.slash(world.host, thread, "council next", question="And trains?")
    await refused.wait_response()
    assert _ephemeral_text(refused) == (
        f"This server allows at most 2 rounds and council #{session.id} has reached them; "
        "`/council end` goes on to the synthesis."
    )
    asked = await _ask(harness, world.bob, thread, "What about trams?")
    assert asked == (
        f"Council #{session.id} is in its last round and this server allows no more than 2, "
        "so no round is left to put your question to."
    )
    ended = await harness.wait_ended()

    assert [r.number for r in await harness.store.rounds(ended.id)] == [1, 2]
    assert await harness.store.questions(session.id) == []


async def test_asking_follows_the_voter_role_and_the_minimum_account_age(harness):
    world, driver = harness.world, harness.driver
    role = driver.create_role(world.guild, "Voters")
    session, thread = await _running(harness, rounds=2, delay_s=1.0, voter_role_id=role.id)

    refused = await _ask(harness, world.bob, thread, "What about trams?")
    assert (
        refused == f"Only members with the <@&{role.id}> role can ask the council questions here."
    )
    voter = driver.create_member(world.guild, "voter", roles=[role])
    await harness.store.save_guild_settings(
        GuildSettings(
            guild_id=world.guild.id,
            pause_between_rounds_s=0,
            voter_role_id=role.id,
            min_account_age_days=30,
        )
    )
    too_new = await _ask(harness, voter, thread, "What about trams?")
    assert too_new == "Your account must be at least 30 days old to ask the council questions here."
    assert await harness.store.questions(session.id) == []

    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, voter_role_id=role.id)
    )
    assert await _ask(harness, voter, thread, "What about trams?") == (
        "Your question is queued for round 2."
    )
    await harness.wait_ended()


async def test_a_member_may_have_only_a_few_questions_waiting(harness):
    world = harness.world
    session, thread = await _running(harness, rounds=2, delay_s=1.0)
    for n in range(MAX_PENDING_QUESTIONS_PER_MEMBER):
        reply = await _ask(harness, world.bob, thread, f"Question {n}?")
        assert reply == "Your question is queued for round 2."

    refused = await _ask(harness, world.bob, thread, "One more?")
    assert refused == (
        f"You already have {MAX_PENDING_QUESTIONS_PER_MEMBER} questions waiting for council "
        f"#{session.id}, the most one member may have. Ask again once the council has taken them."
    )
    assert (
        await _ask(harness, world.host, thread, "Mine?") == "Your question is queued for round 2."
    )
    await harness.wait_ended()

    questions = await harness.store.questions(session.id)
    assert [q.text for q in questions] == [
        *(f"Question {n}?" for n in range(MAX_PENDING_QUESTIONS_PER_MEMBER)),
        "Mine?",
    ]
    assert all(q.answered_in_round == 2 for q in questions)
