"""Per-member limits from /council-admin settings: questions per council, councils per day."""
# ruff: noqa: RUF001  (Russian questions and replies: Cyrillic letters that look Latin)

from __future__ import annotations

import math
from datetime import timedelta

from tests.council.conftest import NAMES
from tests.fakediscord.state import Perm


async def _private(harness, user, channel, command: str, **options) -> str:
    handle = await harness.driver.slash(user, channel, command, **options)
    reply = await handle.wait_response()
    assert reply.is_ephemeral
    return reply.content


async def _limit(harness, **options) -> str:
    world = harness.world
    admin = harness.driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    return await _private(harness, admin, world.general, "council-admin settings", **options)


async def test_a_member_may_ask_one_council_only_as_many_questions_as_the_server_allows(harness):
    world, driver = harness.world, harness.driver
    ivan = driver.create_member(world.guild, "ivan", locale="ru")
    settings = await _limit(harness, questions_per_member=1)
    # Slow enough that the questions wait for round 2.
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=2.0)
    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=2)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    first = await _private(harness, world.bob, thread, "council ask", question="And coffee?")
    second = await _private(harness, world.bob, thread, "council ask", question="And cocoa?")
    russian = await _private(harness, ivan, thread, "council ask", question="Квас?")
    russian_again = await _private(harness, ivan, thread, "council ask", question="Морс?")
    host_question = await driver.slash(world.host, thread, "council next", question="And milk?")
    await host_question.wait_response()
    await harness.wait_ended()

    assert "Limits per member: questions per council: 1 · councils per day: none" in settings
    assert first == "Your question is queued for round 2."
    assert second == (
        f"You have asked council #{session.id} 1 question, as many as this server allows each "
        "member in one council; you can ask again in the next council."
    )
    assert russian == "Ваш вопрос поставлен в очередь на раунд 2."
    assert russian_again == (
        f"Вы уже задали совету #{session.id} 1 вопрос — столько этот сервер разрешает одному "
        "участнику в одном совете; снова спросить можно будет в следующем совете."
    )
    asked = [q.text for q in await harness.store.questions(session.id)]
    assert asked == ["And coffee?", "Квас?", "And milk?"]


async def test_a_member_may_start_only_as_many_councils_a_day_as_the_server_allows(harness):
    world, driver = harness.world, harness.driver
    await _limit(harness, councils_per_day=1)
    created = await driver.slash(
        world.host, world.general, "council create", name="Board", members="Claude,Gemini"
    )
    await created.wait_response()
    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=1)
    await start.wait_ack()
    first = await harness.wait_ended()

    again = await _private(harness, world.host, world.general, "council start", topic="Coffee")
    convene = await _private(
        harness, world.host, world.general, "council convene", name="Board", topic="Cocoa"
    )
    cleared = await _limit(harness, councils_per_day=0)
    allowed = await driver.slash(world.host, world.general, "council start", topic="Milk", rounds=1)
    await allowed.wait_ack()
    await harness.wait_ended(after=first.id)

    frees_up = math.ceil((first.started_at + timedelta(days=1)).timestamp())
    assert again == (
        "You have started 1 council in the last 24 hours, as many as this server allows each "
        f"member in a day; you can start another <t:{frees_up}:R>."
    )
    assert convene == again
    assert "councils per day: none" in cleared
    assert await harness.store.count_sessions() == 2
    actions = [e.detail for e in await harness.store.audit_log(world.guild.id, action="settings")]
    assert actions == ["max_councils_per_member_per_day"] * 2
