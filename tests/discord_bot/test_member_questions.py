"""Questions between members in the thread: the "asks" line and the answer's jump link."""

from __future__ import annotations

FOOTER = "\n[stance: for | claim: Ban them | confidence: 70% | changed: no | ask: {ask}]"


async def test_a_footer_question_shows_under_the_reply_and_the_answer_links_back_to_it(harness):
    world, driver = harness.world, harness.driver
    ask = "Claude: How do you feel coordinating us?"
    harness.llm.script("deepseek-model", reply=["Cars must go." + FOOTER.format(ask=ask), "Yes."])
    harness.llm.script("claude-model", reply=["Maybe.", "I feel fine."])
    start = await driver.slash(
        world.host, world.general, "council start", topic="Cars?", members="Claude,DeepSeek",
        rounds=2,
    )  # fmt: skip
    await start.wait_ack()
    await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    [asking] = [m for m in seen if m.author_name == "DeepSeek" and "Cars must go." in m.content]
    assert "ask:" not in asking.content
    later = seen[seen.index(asking) + 1 :]
    assert any(
        m.is_bot and "❓ DeepSeek asks Claude: How do you feel coordinating us?" in m.content
        for m in later
    ), driver.render(thread, world.bob)
    [answer] = [m for m in seen if m.author_name == "Claude" and "I feel fine." in m.content]
    link = f"https://discord.com/channels/{world.general.guild_id}/{thread.id}/{asking.id}"
    assert answer.content.startswith(f"↪ [answering DeepSeek]({link})\n")
    [first] = [m for m in seen if m.author_name == "Claude" and "Maybe." in m.content]
    assert "↪" not in first.content
