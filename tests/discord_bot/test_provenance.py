""" "About this reply": where a persona's message came from, privately, from the store."""

# ruff: noqa: RUF001  (the expected Russian card: Cyrillic letters that look Latin)

from __future__ import annotations

import re

from bot.council.models import GuildSettings, VoteValue
from bot.discord_ui.views import vote_custom_id
from tests.council.conftest import NAMES, make_config

ABOUT = "About this reply"
NOT_A_REPLY = "That message isn't a council member's reply, so there is nothing to tell about it."


async def _about(harness, user, message, name: str = ABOUT) -> str:
    handle = await harness.driver.context_menu(user, message, name)
    [card] = await handle.wait_responses()
    assert card.is_ephemeral
    return card.content


async def _council(harness, topic: str, **options):
    """Run a council to its summary; return it, its thread and the persona messages by name."""
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic=topic, rounds=1, **options
    )
    await start.wait_ack()
    session = await harness.wait_ended()
    thread = driver.threads_of(world.general)[-1]
    personas = {m.author_name: m for m in driver.read(thread, as_user=world.bob) if m.buttons}
    return session, thread, personas


async def _vote(harness, user, message, value: VoteValue) -> None:
    reply = await harness.store.reply_for_message(message.id)
    click = await harness.driver.click(user, message, vote_custom_id(reply.id, value))
    await click.wait_ack()
    assert click.responses == []


async def test_the_card_names_the_persona_model_council_round_tokens_cost_and_votes(harness):
    world = harness.world
    await harness.stop()  # priced models, so the card has a cost to tell
    harness.config = make_config(harness.llm, prices=(3.0, 15.0), max_tokens=2000)
    await harness.start()
    harness.llm.script("claude-model", reply="Claude weighs it up.", usage=(1200, 300))
    harness.llm.script("deepseek-model", reply="DeepSeek weighs it up.", send_usage=False)

    session, _, personas = await _council(harness, "Trains *or* cars?")
    await _vote(harness, world.bob, personas["Claude"], VoteValue.UP)
    card = await _about(harness, world.bob, personas["Claude"])
    reply = await harness.store.reply_for_message(personas["Claude"].id)

    lines = card.splitlines()
    assert lines[:3] == [
        "**About this reply**",
        "By **Claude** · model `claude-model` via `local`",
        f"Council #{session.id}, round 1: Trains \\*or\\* cars?",
    ]
    assert f"Finished <t:{int(reply.created_at.timestamp())}:f>" in lines
    assert "Tokens: 1,200 in · 300 out" in lines
    assert "Cost: $0.0081" in lines  # (1,200 tokens at $3 + 300 at $15) per million
    assert any(re.fullmatch(r"Took \d+\.\d s · first token after \d+\.\d s", x) for x in lines)
    assert lines[-3:] == [
        "Moderation: not checked beyond mentions",
        "Votes: 👍 1 · 👎 0",
        "Not edited since it was posted.",
    ]
    guessed = await _about(harness, world.bob, personas["DeepSeek"])
    assert "out (estimated: the provider reported none)" in guessed
    assert "Votes: 👍 0 · 👎 0" in guessed


async def test_the_card_still_answers_after_the_bot_restarts(harness):
    world = harness.world
    _, _, personas = await _council(harness, "Restarted")
    await _vote(harness, world.host, personas["Llama"], VoteValue.DOWN)
    before = await _about(harness, world.bob, personas["Llama"])

    await harness.stop()
    await harness.start()
    after = await _about(harness, world.bob, personas["Llama"])

    assert after == before
    assert "By **Llama** · model `llama-model` via `local`" in after
    assert "Votes: 👍 0 · 👎 1" in after


async def test_a_blind_councils_card_shows_only_the_alias_until_the_reveal(harness):
    world, driver, fake = harness.world, harness.driver, harness.fake
    await harness.store.save_guild_settings(
        GuildSettings(guild_id=world.guild.id, pause_between_rounds_s=0, auto_advance=False)
    )
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="On balance, yes.", usage=(500, 50))
    start = await driver.slash(
        world.host, world.general, "council start", topic="Masked", rounds=2, blind=True
    )
    await start.wait_ack()
    session = await harness.wait_running()
    await harness.wait_round_finished(session.id, 1)
    [thread] = driver.threads_of(world.general)

    def round_one():
        shown = [m for m in driver.read(thread, as_user=world.bob) if m.buttons]
        return shown if len(shown) == len(NAMES) else None

    message = (await fake.wait_for(round_one, what="round one's replies"))[0]
    alias = message.author_name
    await _vote(harness, world.bob, message, VoteValue.UP)
    hidden = await _about(harness, world.bob, message)

    assert hidden.splitlines()[1] == (
        f"By **{alias}** in a blind council: who speaks behind the alias stays hidden until "
        "the council ends."
    )
    assert f"Council #{session.id}, round 1: Masked" in hidden
    assert "Votes: 👍 1 · 👎 0" in hidden
    leaks = ("-model", "`local`", "Tokens", "500", "Cost", "Took", "chair", *NAMES)
    assert [word for word in leaks if word in hidden] == []

    advance = await driver.slash(world.host, thread, "council next")
    await advance.wait_ack()
    await harness.wait_ended()
    revealed = await _about(harness, world.bob, message)

    persona = (await harness.store.reply_for_message(message.id)).persona
    assert revealed.splitlines()[1] == (
        f"By **{persona}**, who spoke as {alias} in this blind council · "
        f"model `{persona.lower()}-model` via `local`"
    )
    assert "Tokens: 500 in · 50 out" in revealed


async def test_a_message_that_is_no_persona_reply_is_refused_in_one_line(harness):
    world, driver = harness.world, harness.driver
    session, thread, _ = await _council(harness, "Buses")
    own = await driver.send_message(world.bob, thread, "What about buses?")
    seen = driver.read(thread, as_user=world.bob)
    header = next(m for m in seen if "Round 1" in m.content and not m.is_webhook)
    [summary] = [m for m in seen if m.id == session.summary_message_id]

    for message in (own, header, summary):
        assert await _about(harness, world.bob, message) == NOT_A_REPLY


async def test_a_russian_member_reads_the_card_in_russian(harness):
    world, driver = harness.world, harness.driver
    ivan = driver.create_member(world.guild, "ivan", locale="ru")
    harness.llm.script("gemini-model", reply="Gemini weighs it up.", usage=(1234, 56))
    session, thread, personas = await _council(harness, "Поезда или машины?")
    await _vote(harness, ivan, personas["Gemini"], VoteValue.DOWN)

    card = await _about(harness, ivan, personas["Gemini"], "Об этом ответе")
    own = await driver.send_message(ivan, thread, "А автобусы?")
    refusal = await _about(harness, ivan, own, "Об этом ответе")

    lines = card.splitlines()
    assert lines[:3] == [
        "**Об этом ответе**",
        "Автор — **Gemini** · модель `gemini-model` через `local`",
        f"Совет #{session.id}, раунд 1: Поезда или машины?",
    ]
    assert "Токены: 1\N{NO-BREAK SPACE}234 на входе · 56 на выходе" in lines
    assert "Стоимость: 0,0000\N{NO-BREAK SPACE}$" in lines
    assert lines[-3:] == [
        "Модерация: ничего не проверялось, кроме упоминаний",
        "Голоса: 👍 0 · 👎 1",
        "После публикации не изменялся.",
    ]
    assert refusal == "Это сообщение не ответ участника совета, рассказать о нём нечего."
