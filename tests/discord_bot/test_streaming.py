"""What the audience sees while models speak: live edits, long replies split, failures."""

from __future__ import annotations

import asyncio

from tests.council.conftest import NAMES
from tests.fakellm import Fault

EDIT_ROUTE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"


async def test_replies_stream_in_by_edits_and_end_with_the_full_text_and_vote_buttons(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    text = " ".join(f"word{i}" for i in range(60))
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=text, tokens_per_s=25)
    start = await driver.slash(world.host, world.general, "council start", topic="Stream", rounds=1)
    await start.wait_ack()
    await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    edits = [e for e in fake.requests("PATCH", EDIT_ROUTE) if e.status == 200]
    partial = [e for e in edits if "▍" in (e.body or {}).get("content", "")]
    assert len(partial) >= 4  # every member was seen mid-reply at least once
    final = [m for m in driver.read(thread, as_user=world.bob) if m.is_webhook]
    assert [m.content for m in final] == [text] * 4
    assert all(m.is_edited for m in final)
    assert all([b.label for b in m.buttons] == ["👍 0", "👎 0"] for m in final)


async def test_a_long_reply_is_split_into_marked_messages_with_buttons_on_the_last(harness):
    world, driver = harness.world, harness.driver
    paragraph = "This is a sentence about trains and buses that goes on. " * 10
    long = "\n\n".join([paragraph] * 7)  # about 3,900 characters: three paragraphs a message
    harness.llm.script("claude-model", reply=long)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Long", members="Claude,Gemini", rounds=1
    )
    await start.wait_ack()
    await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    claude = [m for m in driver.read(thread, as_user=world.bob) if m.author_name == "Claude"]
    assert len(claude) == 3
    assert [m.content.endswith(f"*({i}/3)*") for i, m in enumerate(claude, 1)] == [True] * 3
    assert all(len(m.content) <= 2000 for m in claude)
    assert [bool(m.buttons) for m in claude] == [False, False, True]
    joined = "".join(m.content.rsplit(" *(", 1)[0] for m in claude)
    assert joined.replace(" ", "").replace("\n", "") == long.replace(" ", "").replace("\n", "")


async def test_a_failed_member_says_so_briefly_and_the_round_goes_on(harness):
    world, driver = harness.world, harness.driver
    harness.llm.script("gemini-model", reply="x", fault=Fault.http(401, echo_key=True))
    start = await driver.slash(world.host, world.general, "council start", topic="Keys", rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    gemini = [m for m in driver.read(thread, as_user=world.bob) if m.author_name == "Gemini"]
    assert [m.content for m in gemini] == ["⚠️ *Gemini had its API key rejected.*"]
    assert gemini[0].buttons == ()
    summary = driver.read(thread, as_user=world.bob)[-1].embeds[0]
    assert "3/4 members answered every round" in summary["description"]
    assert session.status == "finished"


async def test_every_member_shows_thinking_before_its_first_words(harness):
    world, driver = harness.world, harness.driver
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="Considered view.", first_token_delay_s=6)
    start = await driver.slash(world.host, world.general, "council start", topic="Slow", rounds=1)
    await start.wait_ack()

    async def four_placeholders() -> list[str]:
        while True:
            for thread in driver.threads_of(world.general):
                shown = [m for m in driver.read(thread, as_user=world.bob) if m.is_webhook]
                if len(shown) == 4:
                    return [f"{m.author_name}: {m.content}" for m in shown]
            await asyncio.sleep(0.05)

    # Only part of the webhook's rate window may go to placeholders; the rest follow before
    # the window resets (2 s), well before any model says a word.
    shown = await asyncio.wait_for(four_placeholders(), timeout=5)
    assert shown == [f"{name}: *thinking…*" for name in NAMES]
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    final = [m.content for m in driver.read(thread, as_user=world.bob) if m.is_webhook]
    assert final == ["Considered view."] * 4
