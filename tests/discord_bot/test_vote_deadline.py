"""Voting closes at one deadline: the stored end of the council plus the guild's grace.

From that instant clicks are refused and the buttons are frozen, and no tally refresh still on
its way may open them again.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.council.models import GuildSettings, VoteValue
from bot.discord_ui.views import vote_custom_id

EDIT_ROUTE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"


async def _ended_council(harness, grace_s: int):
    """A one-round council, ended, with its deadline: the stored end plus `grace_s`."""
    world, driver = harness.world, harness.driver
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, vote_grace_s=grace_s)
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Close", rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    replies = {m.author_name: m for m in driver.read(thread, as_user=world.bob) if m.buttons}
    deadline = session.ended_at + timedelta(seconds=grace_s)
    return session, thread, replies, deadline


async def _at(moment: datetime) -> None:
    """Sleep until a wall-clock moment, which must still be ahead."""
    ahead = (moment - datetime.now(UTC)).total_seconds()
    assert ahead > 0, f"the test is {-ahead:.2f}s late for {moment}"
    await asyncio.sleep(ahead)


async def _click(harness, user, message, value=VoteValue.UP):
    reply = await harness.store.reply_for_message(message.id)
    handle = await harness.driver.click(user, message, vote_custom_id(reply.id, value))
    await handle.wait_ack()
    return handle


def _buttons(harness, thread, message):
    shown = next(
        m for m in harness.driver.read(thread, as_user=harness.world.bob) if m.id == message.id
    )
    return shown.buttons


def _closing_edits(harness, message):
    """The persona webhook's edits of this message that disabled its buttons."""
    interactions = f"/webhooks/{harness.fake.application_id}/"
    return [
        e
        for e in harness.fake.requests("PATCH")
        if interactions not in e.path
        and e.path.endswith(f"/messages/{message.id}")
        and any(
            button.get("disabled")
            for row in (e.body or {}).get("components", [])
            for button in row.get("components", [])
        )
    ]


def _tally_edits(harness):
    return [e for e in harness.fake.requests("PATCH") if e.path.endswith("/messages/@original")]


async def test_a_tally_refresh_landing_after_voting_closed_leaves_the_buttons_closed(harness):
    world, fake = harness.world, harness.fake
    _, thread, replies, deadline = await _ended_council(harness, grace_s=6)
    claude = replies["Claude"]
    await _at(deadline - timedelta(seconds=1.5))
    await _click(harness, world.bob, claude)
    await fake.wait_for(lambda: len(_tally_edits(harness)) == 1, what="the first refresh")
    await _at(deadline - timedelta(seconds=0.3))
    # Accepted just before the deadline; its refresh waits for the next interval, past it.
    assert (await _click(harness, world.host, claude)).responses == []

    await fake.wait_for(lambda: _closing_edits(harness, claude), timeout=5, what="the closing")
    await fake.wait_for(lambda: len(_tally_edits(harness)) >= 2, what="the late refresh")
    [closing] = _closing_edits(harness, claude)
    late = _tally_edits(harness)[1]
    assert late.at_s > closing.at_s
    buttons = _buttons(harness, thread, claude)
    assert [(b.label, b.disabled) for b in buttons] == [("👍 2", True), ("👎 0", True)]


async def test_a_tally_edit_held_up_past_the_deadline_is_followed_by_closed_buttons(harness):
    world, fake = harness.world, harness.fake
    _, thread, replies, deadline = await _ended_council(harness, grace_s=6)
    gemini = replies["Gemini"]
    await _at(deadline - timedelta(seconds=0.3))
    # The refresh, decided while voting was open, is answered 429 and retried past the close.
    fake.force_429("PATCH", EDIT_ROUTE, retry_after_s=1.0)
    assert (await _click(harness, world.bob, gemini)).responses == []

    await fake.wait_for(lambda: _closing_edits(harness, gemini), timeout=5, what="the closing")
    [closing] = _closing_edits(harness, gemini)
    await fake.wait_for(
        lambda: [e for e in _tally_edits(harness) if e.status == 200 and e.at_s > closing.at_s],
        timeout=5,
        what="the held-up refresh",
    )
    await fake.wait_for(
        lambda: all(b.disabled for b in _buttons(harness, thread, gemini)),
        timeout=5,
        what="the buttons to be closed again",
    )
    assert [b.label for b in _buttons(harness, thread, gemini)] == ["👍 1", "👎 0"]


async def test_buttons_freeze_at_the_instant_clicks_start_to_be_refused(harness):
    world, fake = harness.world, harness.fake
    # Discord takes the thread's messages slowly, so the summary is posted seconds after the
    # council ended: voting still closes at the end plus the grace, not later.
    fake.rate_limits.set_limit("channel_messages", 1, 1.5)
    session, thread, replies, deadline = await _ended_council(harness, grace_s=8)

    await _at(deadline - timedelta(seconds=0.5))
    assert (await _click(harness, world.bob, replies["Llama"])).responses == []
    await fake.wait_for(lambda: _tally_edits(harness), what="the tally refresh")
    assert not any(b.disabled for m in replies.values() for b in _buttons(harness, thread, m))
    # One reply's closing edit fails, so a member can still click it after the deadline.
    fake.force_status("PATCH", EDIT_ROUTE, 404, code=10008, message="Unknown Message")

    await _at(deadline + timedelta(seconds=0.5))
    shown = {name: _buttons(harness, thread, m) for name, m in replies.items()}
    still_open = [name for name, buttons in shown.items() if not any(b.disabled for b in buttons)]
    assert len(still_open) == 1
    for name, buttons in shown.items():
        if name not in still_open:
            up = 1 if name == "Llama" else 0
            assert [(b.label, b.disabled) for b in buttons] == [(f"👍 {up}", True), ("👎 0", True)]
    reply = await harness.store.reply_for_message(replies[still_open[0]].id)
    counted = await harness.store.votes_for(reply.id)
    refused = await _click(harness, world.host, replies[still_open[0]])
    assert [r.content for r in refused.responses] == [
        f"Voting on council #{session.id} has closed."
    ]
    assert await harness.store.votes_for(reply.id) == counted
