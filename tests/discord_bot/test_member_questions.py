"""Questions between members in the thread: the "asks" line and the answer's jump link."""

from __future__ import annotations

from bot.council.models import SessionStatus
from bot.render.summary import render_summary
from bot.render.transcript import render_markdown
from tests.fakediscord.rules import Kind

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
    session = await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    [asking] = [m for m in seen if m.author_name == "DeepSeek" and "Cars must go." in m.content]
    assert "ask:" not in asking.content
    # The line is part of the asking reply's message, under its text, before anything else.
    assert asking.content.endswith(
        "Cars must go.\n\n❓ DeepSeek asks Claude: How do you feel coordinating us?"
    )
    assert sum("❓ DeepSeek asks" in m.content for m in seen) == 1
    [answer] = [m for m in seen if m.author_name == "Claude" and "I feel fine." in m.content]
    link = f"https://discord.com/channels/{world.general.guild_id}/{thread.id}/{asking.id}"
    assert answer.content.startswith(f"↪ [answering DeepSeek]({link})\n")
    [first] = [m for m in seen if m.author_name == "Claude" and "Maybe." in m.content]
    assert "↪" not in first.content
    [question] = await harness.store.member_questions(session.id)
    assert question.message_id == asking.id


async def test_a_question_under_a_full_message_follows_it_at_once_and_is_linked(harness):
    world, driver = harness.world, harness.driver
    long = " ".join(["Cars must go, and soon."] * 81)  # 1,943 characters: no room for the line
    ask = "Claude: How do you feel coordinating us?"
    harness.llm.script("deepseek-model", reply=[long + FOOTER.format(ask=ask), "Yes."])
    harness.llm.script("claude-model", reply=["Maybe.", "I feel fine."])
    start = await driver.slash(
        world.host, world.general, "council start", topic="Cars?", members="DeepSeek,Claude",
        format="debate", rounds=2,
    )  # fmt: skip
    await start.wait_ack()
    await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    [asking] = [m for m in seen if m.author_name == "DeepSeek" and long[:40] in m.content]
    assert "❓" not in asking.content
    line = seen[seen.index(asking) + 1]
    assert line.content == "❓ DeepSeek asks Claude: How do you feel coordinating us?"
    assert line.is_bot
    assert seen[seen.index(asking) + 2].author_name == "Claude"
    [answer] = [m for m in seen if m.author_name == "Claude" and "I feel fine." in m.content]
    link = f"https://discord.com/channels/{world.general.guild_id}/{thread.id}/{line.id}"
    assert answer.content.startswith(f"↪ [answering DeepSeek]({link})\n")


async def test_a_question_put_just_before_a_restart_mid_round_is_answered_after_it(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    asked = "DeepSeek asks Claude: Why now?"
    footer = FOOTER.format(ask="Claude: Why now?")
    harness.llm.script("deepseek-model", reply="Cars must go." + footer)
    harness.llm.script("claude-model", reply="late", first_token_delay_s=30)
    start = await driver.slash(
        world.host, world.general, "council start", topic="Cars?", members="DeepSeek,Claude",
        format="debate", rounds=2,
    )  # fmt: skip
    await start.wait_ack()
    session = await harness.wait_running()
    [thread] = driver.threads_of(world.general)

    def shown():
        return [m for m in driver.read(thread, as_user=world.bob) if asked in m.content] or None

    [asking] = await fake.wait_for(shown, what="the question under DeepSeek's reply")
    await fake.wait_for(lambda: harness.llm.in_flight() == 1, what="Claude to be asked")
    # Stopped after DeepSeek's reply was stored, before round one ended.
    await harness.stop()
    fake.expect_violation(Kind.RATE_LIMITED)  # the new process starts with no rate budget known
    harness.llm.script("claude-model", reply=["Round one.", "Because it is time."])
    harness.llm.script("deepseek-model", reply="Fine.")
    await harness.start()
    resume = await driver.slash(world.host, thread, "council resume")
    assert "Resuming at round 1" in (await resume.wait_response()).content
    ended = await harness.wait_ended()

    assert ended.status is SessionStatus.FINISHED
    answers = [r for r in harness.llm.requests_for("claude-model") if r.last_user_text()]
    assert "DeepSeek asked: Why now?" in answers[-1].last_user_text()
    seen = driver.read(thread, as_user=world.bob)
    [answer] = [m for m in seen if m.author_name == "Claude" and "Because it is time." in m.content]
    link = f"https://discord.com/channels/{world.general.guild_id}/{thread.id}/{asking.id}"
    assert answer.content.startswith(f"↪ [answering DeepSeek]({link})\n")
    assert sum(asked in m.content for m in seen) == 1
    record = await harness.store.session_record(session.id)
    field = next(f for f in render_summary(record).fields if f.name == "Questions put and answered")
    assert "DeepSeek asked Claude: Why now? — answered in round 2" in field.value


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
