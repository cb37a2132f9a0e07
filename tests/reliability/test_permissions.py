"""Permissions and isolation: who may steer a council, restyle personas or vote, and that
nothing in one server (not even a guessed id in a button) reaches a council in another.
"""

from __future__ import annotations

import asyncio

from bot.council.models import GuildSettings, ReplyKind, SessionStatus, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.discord_ui.votes import DOUBLE_CLICK_S
from tests.fakediscord import actions
from tests.fakediscord.state import Channel, Perm

STEERING = ("council next", "council end", "council stop", "council resume")
NOT_A_HOST = "Only hosts can do that. Hosts are members with Manage Threads."


def _private(handle) -> str:
    [reply] = handle.responses
    assert reply.is_ephemeral
    return reply.content


async def _waiting_council(harness):
    """A two-round council in the harness's guild, waiting after round 1 for `/council next`."""
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Bus", rounds=2)
    await start.wait_ack()
    session = await harness.wait_running()
    await harness.wait_round_finished(session.id, 1)
    [thread] = driver.threads_of(world.general)
    return session, thread


async def _assert_still_waiting(harness, session) -> None:
    """The council was not touched: live, still running, round 2 not begun."""
    assert harness.bot.manager.run_for(session.id) is not None
    current = await harness.store.get_session(session.id)
    assert current.status is SessionStatus.RUNNING
    assert [r.number for r in await harness.store.rounds(session.id)] == [1]


async def _stop(harness, thread) -> None:
    stop = await harness.driver.slash(harness.world.host, thread, "council stop")
    await stop.wait_response()
    session = await harness.wait_ended()
    assert session.status is SessionStatus.STOPPED


def _post_with_button(harness, channel: Channel, custom_id: str):
    """A message carrying a vote button, as if the bot's application had posted it.

    The driver clicks only buttons that exist, so a forged custom_id needs a message to sit on.
    """
    fake = harness.fake
    body = {
        "content": "Vote here",
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "style": 2, "label": "👍 0", "custom_id": custom_id}],
            }
        ],
    }
    message = actions.new_message(fake, channel, fake.bot_user, body, [])
    return actions.store_message(fake, message)


async def test_a_member_who_is_not_a_host_cannot_start_or_steer_a_council(harness):
    world, driver = harness.world, harness.driver
    session, thread = await _waiting_council(harness)

    start = await driver.slash(world.bob, world.general, "council start", topic="Mine now")
    await start.wait_response()
    assert _private(start) == NOT_A_HOST
    for command in STEERING:
        handle = await driver.slash(world.bob, thread, command)
        await handle.wait_response()
        assert _private(handle) == NOT_A_HOST, command
    await _assert_still_waiting(harness, session)
    assert await harness.store.count_sessions() == 1
    await _stop(harness, thread)


async def test_only_members_with_manage_server_can_restyle_a_persona(harness):
    world, driver = harness.world, harness.driver
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    # default_permissions is ignored on subcommands, so Discord shows /persona edit to everyone:
    # the bot's own check is what refuses.
    for member in (world.bob, world.host):
        handle = await driver.slash(
            member, world.general, "persona edit", name="Claude", style="Obey me."
        )
        await handle.wait_response()
        assert _private(handle) == "Only members with Manage Server can do that."
    assert await harness.store.persona_overrides(world.guild.id) == {}
    handle = await driver.slash(admin, world.general, "persona edit", name="Claude", style="Calm.")
    await handle.wait_response()
    assert _private(handle) == "**Claude** updated for this server."
    assert (await harness.store.persona_overrides(world.guild.id))["Claude"].style == "Calm."


async def test_a_host_in_one_server_cannot_touch_a_council_in_another(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    session, thread = await _waiting_council(harness)
    [reply, *_] = [r for r in await harness.store.replies(session.id) if r.kind is ReplyKind.ANSWER]

    other = driver.create_guild("Other Guild")
    lobby = driver.create_text_channel(other, "lobby")
    rival = driver.create_member(other, "rival", permissions=Perm.MANAGE_THREADS)
    mallory = driver.create_member(other, "mallory")
    driver.add_member(world.guild, rival)  # a plain member here, a host over there
    await fake.wait_for(lambda: harness.bot.get_guild(other.id), what="the second guild")
    await harness.bot.sync_commands(other.id)

    # Hosting rights in the other server count for nothing in this one.
    for command in STEERING:
        handle = await driver.slash(rival, thread, command)
        await handle.wait_response()
        assert _private(handle) == NOT_A_HOST, command
    # From the other server, the council can't be found: not by thread, not by its number.
    their_thread = driver.create_thread(lobby, "a thread", owner=rival)
    stop = await driver.slash(rival, their_thread, "council stop")
    await stop.wait_response()
    assert _private(stop) == ("There is no council in this thread. Use this in a council's thread.")
    export = await driver.slash(rival, lobby, "council export", session=session.id)
    await export.wait_response()
    assert _private(export) == (
        f"There is no council #{session.id} in this server. "
        "`/council history` lists this server's councils."
    )
    # A button in the other server carrying a guessed reply id of this server's council.
    forged = _post_with_button(harness, lobby, vote_custom_id(reply.id, VoteValue.UP))
    click = await driver.click(mallory, forged, vote_custom_id(reply.id, VoteValue.UP))
    await click.wait_response()
    assert _private(click) == "This button belongs to a council in another server."
    assert await harness.store.votes_for(reply.id) == (0, 0)

    await _assert_still_waiting(harness, session)
    fake.assert_no_pings()
    await _stop(harness, thread)


async def test_a_stale_or_forged_vote_button_is_refused_clearly(harness):
    world, driver = harness.world, harness.driver
    custom_id = vote_custom_id(9_999_999, VoteValue.DOWN)
    message = _post_with_button(harness, world.general, custom_id)
    click = await driver.click(world.bob, message, custom_id)
    await click.wait_response()
    assert _private(click) == "This vote button is no longer valid: its reply is gone."
    assert await harness.store.votes_for(9_999_999) == (0, 0)


async def test_a_double_click_counts_once_and_a_later_click_still_withdraws(harness):
    world, driver = harness.world, harness.driver
    start = await driver.slash(world.host, world.general, "council start", topic="Two", rounds=1)
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    claude = next(
        m for m in driver.read(thread, as_user=world.bob) if m.author_name == "Claude" and m.buttons
    )
    reply = await harness.store.reply_for_message(claude.id)
    up = vote_custom_id(reply.id, VoteValue.UP)

    # Both clicks are in flight before the bot has answered either.
    first = await driver.click(world.bob, claude, up)
    second = await driver.click(world.bob, claude, up)
    assert not first.is_acknowledged
    assert not second.is_acknowledged
    await asyncio.gather(first.wait_ack(), second.wait_ack())
    assert first.responses == second.responses == []
    assert await harness.store.votes_for(reply.id) == (1, 0)

    await asyncio.sleep(DOUBLE_CLICK_S)
    again = await driver.click(world.bob, claude, up)
    await again.wait_ack()
    assert await harness.store.votes_for(reply.id) == (0, 0)
