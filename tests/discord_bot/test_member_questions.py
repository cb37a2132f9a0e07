"""Questions between members in the thread: the "asks" line and the answer's jump link."""

from __future__ import annotations

from bot.render.transcript import render_markdown

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


async def test_an_audience_question_to_one_member_is_answered_first_by_it_next_round(harness):
    world, driver = harness.world, harness.driver
    members = ("Claude", "Gemini", "Llama")
    for name in members:
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=0.4)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Buses", members=",".join(members),
        format="debate", rounds=2,
    )  # fmt: skip
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    refused = await driver.slash(world.bob, thread, "council ask", question="Hi?", to="Grok")
    await refused.wait_response()
    [refusal] = refused.responses
    assert refusal.content == (
        "No one called Grok sits on this council. Ask one of: Claude, Gemini, Llama."
    )
    asked = await driver.slash(
        world.bob, thread, "council ask", question="What about trams?", to="llama"
    )
    await asked.wait_response()
    await harness.wait_ended()

    [question] = await harness.store.questions(session.id)
    assert question.addressee == "Llama"
    replies = await harness.store.replies(session.id)
    second = [r.persona for r in sorted(replies, key=lambda r: r.id) if r.round_number == 2]
    # Round 2 of a debate would open with Gemini; the member asked speaks first.
    assert second[0] == "Llama"
    llama = harness.llm.requests_for("llama-model")[1].last_user_text()
    assert "bob from the audience asked you: What about trams?" in llama
    gemini = harness.llm.requests_for("gemini-model")[1].last_user_text()
    assert "asked you" not in gemini
    seen = driver.render(thread, world.bob)
    assert "❓ A member of the audience, **bob**, asks Llama: What about trams?" in seen
    transcript = render_markdown(await harness.store.session_record(session.id))
    assert "> **A member of the audience, bob, asks Llama:** What about trams?" in transcript


async def test_in_a_blind_council_the_audience_names_a_member_by_its_alias_only(harness):
    world, driver = harness.world, harness.driver
    for name in ("Claude", "Gemini"):
        harness.llm.script(f"{name.lower()}-model", reply="An answer.", first_token_delay_s=0.4)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Tea", members="Claude,Gemini",
        rounds=2, blind=True,
    )  # fmt: skip
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)
    aliases = {m.persona: m.alias for m in await harness.store.members(session.id)}

    refused = await driver.slash(world.bob, thread, "council ask", question="Hi?", to="Claude")
    await refused.wait_response()
    [refusal] = refused.responses
    assert refusal.content.startswith("No one called Claude sits on this council.")
    assert "Claude" not in refusal.content.replace("called Claude", "")
    asked = await driver.slash(
        world.bob, thread, "council ask", question="Why?", to=aliases["Claude"]
    )
    await asked.wait_response()
    await harness.wait_ended()

    [question] = await harness.store.questions(session.id)
    assert question.addressee == "Claude"
