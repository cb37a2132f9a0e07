"""Audience votes through the buttons: one per member, switch, withdraw, refusals, bursts."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from bot.council.models import GuildSettings, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.discord_ui.votes import DOUBLE_CLICK_S, REFRESH_INTERVAL_S
from tests.council.conftest import NAMES


async def _council(harness, **settings):
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, **settings)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Votes", rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    replies = {m.author_name: m for m in driver.read(thread, as_user=world.bob) if m.buttons}
    return session, thread, replies


async def _click(harness, user, message, value):
    reply = await harness.store.reply_for_message(message.id)
    handle = await harness.driver.click(user, message, vote_custom_id(reply.id, value))
    await handle.wait_ack()
    return handle, reply


async def test_clicking_again_withdraws_and_the_other_button_switches(harness):
    _, thread, replies = await _council(harness)
    bob, claude = harness.world.bob, replies["Claude"]
    _, reply = await _click(harness, bob, claude, VoteValue.UP)
    assert await harness.store.votes_for(reply.id) == (1, 0)
    await _click(harness, bob, claude, VoteValue.DOWN)
    assert await harness.store.votes_for(reply.id) == (0, 1)
    await asyncio.sleep(DOUBLE_CLICK_S)  # a deliberate second click, not a double click
    await _click(harness, bob, claude, VoteValue.DOWN)
    assert await harness.store.votes_for(reply.id) == (0, 0)
    await _click(harness, harness.world.host, claude, VoteValue.UP)

    def labels():
        message = next(m for m in harness.driver.read(thread, as_user=bob) if m.id == claude.id)
        shown = [b.label for b in message.buttons]
        return shown if shown == ["👍 1", "👎 0"] else None

    assert await harness.fake.wait_for(labels, timeout=6, what="the counts on the buttons")


async def test_bots_members_without_the_voter_role_and_new_accounts_are_refused(harness):
    world, driver = harness.world, harness.driver
    role = driver.create_role(world.guild, "Voters")
    _, _, replies = await _council(harness, voter_role_id=role.id, min_account_age_days=0)
    robot = driver.create_user("robot", bot=True)
    driver.add_member(world.guild, robot, roles=[role])
    handle, reply = await _click(harness, robot, replies["Gemini"], VoteValue.UP)
    assert handle.responses[0].content == "Bots can't vote."
    handle, _ = await _click(harness, world.bob, replies["Gemini"], VoteValue.UP)
    assert handle.responses[0].is_ephemeral
    assert handle.responses[0].content == f"Only members with the <@&{role.id}> role can vote here."
    voter = driver.create_member(world.guild, "voter", roles=[role])
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, voter_role_id=role.id, min_account_age_days=30)
    )
    handle, _ = await _click(harness, voter, replies["Gemini"], VoteValue.UP)
    assert "at least 30 days old" in handle.responses[0].content
    assert await harness.store.votes_for(reply.id) == (0, 0)


async def test_voting_closes_after_the_grace_period(harness):
    world = harness.world
    session, _, replies = await _council(harness, vote_grace_s=3600)
    handle, reply = await _click(harness, world.bob, replies["Llama"], VoteValue.UP)
    assert handle.responses == []  # accepted silently, counted
    await harness.store.save_guild_settings(GuildSettings(guild_id=world.guild.id, vote_grace_s=0))
    handle, _ = await _click(harness, world.host, replies["Llama"], VoteValue.UP)
    assert handle.responses[0].content == f"Voting on council #{session.id} has closed."
    assert await harness.store.votes_for(reply.id) == (1, 0)


async def test_when_voting_closes_every_button_is_disabled_with_its_final_count(harness):
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, vote_grace_s=0)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Close", rounds=1)
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)

    def closed():
        buttons = [b for m in driver.read(thread, as_user=world.bob) for b in m.buttons]
        return buttons if len(buttons) == 8 and all(b.disabled for b in buttons) else None

    buttons = await harness.fake.wait_for(closed, timeout=8, what="the buttons to be disabled")
    assert {b.label for b in buttons} == {"👍 0", "👎 0"}


async def test_a_burst_of_clicks_is_counted_exactly_with_few_edits(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    _, thread, replies = await _council(harness)
    voters = [driver.create_member(world.guild, f"fan{i}") for i in range(100)]
    targets = [replies[name] for name in NAMES[:3]]
    expected: dict[int, dict[int, VoteValue | None]] = {}
    reply_ids = {m.id: (await harness.store.reply_for_message(m.id)).id for m in targets}
    handles = []
    started = time.monotonic()
    for i in range(300):
        voter, message = voters[i % 100], targets[(i // 100) % 3]
        value = VoteValue.UP if (i * 7) % 3 else VoteValue.DOWN
        reply_id = reply_ids[message.id]
        current = expected.setdefault(reply_id, {}).get(voter.id)
        expected[reply_id][voter.id] = None if current == value else value
        handles.append(await driver.click(voter, message, vote_custom_id(reply_id, value)))
    await asyncio.gather(*(h.wait_ack(timeout=10) for h in handles))
    acked_within = time.monotonic() - started
    assert all(h.responses == [] for h in handles)
    for reply_id, votes in expected.items():
        up = sum(1 for v in votes.values() if v is VoteValue.UP)
        down = sum(1 for v in votes.values() if v is VoteValue.DOWN)
        assert await harness.store.votes_for(reply_id) == (up, down)
    await asyncio.sleep(2.5)  # the last coalesced refresh
    edits = [e for e in fake.requests("PATCH") if e.path.endswith("/messages/@original")]
    assert len(edits) <= 3 * (acked_within / 2 + 2)
    for message in targets:
        shown = next(m for m in driver.read(thread, as_user=world.bob) if m.id == message.id)
        up, down = await harness.store.votes_for(reply_ids[message.id])
        assert [b.label for b in shown.buttons] == [f"👍 {up}", f"👎 {down}"]


async def test_a_click_just_after_a_refresh_waits_for_the_next_interval(harness):
    world, fake = harness.world, harness.fake
    _, _, replies = await _council(harness)
    claude = replies["Claude"]

    def tally_edits():
        return [e for e in fake.requests("PATCH") if e.path.endswith("/messages/@original")]

    await _click(harness, world.bob, claude, VoteValue.UP)
    await fake.wait_for(lambda: len(tally_edits()) == 1, timeout=5, what="the first refresh")
    await _click(harness, world.host, claude, VoteValue.UP)
    first, second = await fake.wait_for(
        lambda: tally_edits() if len(tally_edits()) == 2 else None,
        timeout=5,
        what="the second refresh",
    )
    # Edits reach the fake a few milliseconds after the bot sends them, with some jitter.
    assert second.at_s - first.at_s >= REFRESH_INTERVAL_S - 0.05


async def test_a_vote_the_store_fails_to_save_is_reported_and_can_be_clicked_again(
    harness, monkeypatch
):
    world = harness.world
    _, _, replies = await _council(harness)
    save = harness.store.record_votes

    async def locked(clicks):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(harness.store, "record_votes", locked)
    handle, reply = await _click(harness, world.bob, replies["Claude"], VoteValue.UP)
    [told] = await handle.wait_responses()
    assert told.is_ephemeral
    assert told.content == "Your vote could not be saved. Please click again."
    assert await harness.store.votes_for(reply.id) == (0, 0)

    monkeypatch.setattr(harness.store, "record_votes", save)
    # At once: the click that was not saved is no double click to drop.
    handle, _ = await _click(harness, world.bob, replies["Claude"], VoteValue.UP)
    assert await harness.store.votes_for(reply.id) == (1, 0)
    assert handle.responses == []


async def test_a_click_is_acknowledged_only_once_its_vote_is_stored(harness, monkeypatch):
    world = harness.world
    _, _, replies = await _council(harness)
    save = harness.store.record_votes
    written = asyncio.Event()

    async def slow(clicks):
        await written.wait()
        return await save(clicks)

    monkeypatch.setattr(harness.store, "record_votes", slow)
    message = replies["Claude"]
    reply = await harness.store.reply_for_message(message.id)
    handle = await harness.driver.click(world.bob, message, vote_custom_id(reply.id, VoteValue.UP))
    # A crash now would lose the vote, so the member must not have seen it accepted.
    await asyncio.sleep(0.5)
    assert not handle.is_acknowledged
    written.set()
    await handle.wait_ack()
    assert await harness.store.votes_for(reply.id) == (1, 0)
    assert handle.responses == []
