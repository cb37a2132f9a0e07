"""/council mute and /council unmute through the fake Discord, as a host uses them."""

from __future__ import annotations

from bot.council.models import GuildSettings, SessionStatus
from tests.council.conftest import NAMES


def _asked_in_round(harness, name: str, number: int) -> int:
    """How many answers the model behind `name` was asked for in round `number`."""
    return sum(
        f"Round {number}." in r.last_user_text()
        for r in harness.llm.requests_for(f"{name.lower()}-model")
    )


async def _actions(harness, session_id: int) -> list[tuple[int | None, str, str]]:
    log = await harness.store.audit_log(harness.world.guild.id)
    return [(e.user_id, e.action, e.detail) for e in reversed(log) if e.session_id == session_id]


async def _hosts_advance(harness) -> None:
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=harness.world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )


async def test_a_muted_member_sits_out_the_next_round_and_unmuting_brings_it_back(harness):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    # Claude is still thinking in round 1 when the host mutes it: it finishes that round.
    harness.llm.script("claude-model", reply="Claude's view.", first_token_delay_s=1.0)
    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=3)
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    muted = await driver.slash(world.host, thread, "council mute", member="claude")
    note = await muted.wait_response()
    stored = await harness.store.get_session(session.id)
    status = await (await driver.slash(world.bob, thread, "council status")).wait_response()
    await harness.wait_round_finished(session.id, 1)
    await (await driver.slash(world.host, thread, "council next")).wait_response()
    await harness.wait_round_finished(session.id, 2)
    in_round_2 = {name: _asked_in_round(harness, name, 2) for name in NAMES}
    unmuted = await driver.slash(world.host, thread, "council unmute", member="Claude")
    back = await unmuted.wait_response()
    await (await driver.slash(world.host, thread, "council next")).wait_response()
    ended = await harness.wait_ended()

    assert not note.is_ephemeral
    assert note.content == "🔇 Claude sits out the following rounds (muted by host)."
    assert stored.muted == ("Claude",)
    assert "Muted: Claude (sitting out the following rounds)." in status.content.splitlines()
    assert _asked_in_round(harness, "Claude", 1) == 1
    assert in_round_2 == {"Claude": 0, "DeepSeek": 1, "Gemini": 1, "Llama": 1}
    assert back.content == "🔊 Claude speaks again from the next round (unmuted by host)."
    assert _asked_in_round(harness, "Claude", 3) == 1
    assert ended.status is SessionStatus.FINISHED
    assert ended.muted == ()
    seen = [m.content for m in driver.read(thread, as_user=world.bob)]
    assert note.content in seen
    assert await _actions(harness, session.id) == [
        (world.host.id, "session.start", ""),
        (world.host.id, "member.mute", "Claude"),
        (world.host.id, "session.next", ""),
        (world.host.id, "member.unmute", "Claude"),
        (world.host.id, "session.next", ""),
    ]
    harness.fake.assert_no_pings()


async def test_a_chaired_councils_chair_cannot_be_muted_and_the_refusal_is_private(harness):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Tea", preset="chaired", rounds=2
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    chair = await (
        await driver.slash(world.host, thread, "council mute", member="Claude")
    ).wait_response()
    nobody = await (
        await driver.slash(world.host, thread, "council mute", member="Zed")
    ).wait_response()
    refused = await (
        await driver.slash(world.bob, thread, "council mute", member="Gemini")
    ).wait_response()
    await driver.slash(world.host, thread, "council end")
    await harness.wait_ended()

    assert chair.is_ephemeral
    assert chair.content == (
        f"Claude chairs council #{session.id}, and a chaired council can't go on without its "
        "chair: `/council end` or `/council stop` ends it instead."
    )
    assert nobody.content == (
        f"Zed doesn't sit on council #{session.id}. Its members: Claude, DeepSeek, Gemini, Llama."
    )
    assert refused.content.startswith("Only hosts can do that.")
    assert (await harness.store.get_session(session.id)).muted == ()
    assert [a for _, a, _ in await _actions(harness, session.id) if a.startswith("member.")] == []


async def test_a_russian_host_is_refused_in_russian_and_the_thread_note_follows_the_council(
    harness,
):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    from tests.fakediscord.state import Perm

    ivan = driver.create_member(world.guild, "ivan", permissions=Perm.MANAGE_THREADS, locale="ru")
    start = await driver.slash(
        world.host, world.general, "council start", topic="Чай", rounds=2, language="ru"
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    muted = await (
        await driver.slash(world.host, thread, "council mute", member="Llama")
    ).wait_response()
    again = await (await driver.slash(ivan, thread, "council mute", member="Llama")).wait_response()
    await driver.slash(world.host, thread, "council end")
    await harness.wait_ended()

    assert muted.content == (
        "🔇 Участник Llama пропускает следующие раунды (отключён по решению host)."
    )
    assert again.is_ephemeral
    assert again.content == f"Участник Llama уже отключён в совете #{session.id}."


async def test_status_names_a_blind_councils_muted_member_by_its_alias(harness):
    world, driver = harness.world, harness.driver
    await _hosts_advance(harness)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Tea", rounds=3, blind=True
    )
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    aliases = {m.persona: m.alias for m in await harness.store.members(session.id)}

    muted = await driver.slash(world.host, thread, "council mute", member=aliases["Claude"])
    await muted.wait_response()
    status = await (await driver.slash(world.bob, thread, "council status")).wait_response()

    line = f"Muted: {aliases['Claude']} (sitting out the following rounds)."
    assert line in status.content.splitlines()
    assert "Claude" not in status.content.replace(aliases["Claude"], "")
    await (await driver.slash(world.host, thread, "council stop")).wait_response()
