"""A persona whose provider's key is not set: the bot runs, and a council that asks for the
persona is refused privately, saying whom and what the operator must set."""

from __future__ import annotations

from bot.config import parse_config
from tests.council.conftest import make_config

REFUSAL = (
    "Persona Gemini can't be seated: SOLO_API_KEY is not set. The bot's operator must set "
    "SOLO_API_KEY in .env or the environment and restart the bot."
)


async def _restart_without_gemini_key(harness) -> None:
    raw = make_config(harness.llm, max_tokens=2000).model_dump()
    raw["providers"]["solo"] = {**raw["providers"]["local"], "api_key_env": "SOLO_API_KEY"}
    raw["models"]["gemini"]["provider"] = "solo"
    harness.config = parse_config(raw, "council.toml", {})
    await harness.stop()
    await harness.start()


async def test_start_create_and_convene_refuse_a_keyless_persona_privately(harness):
    await _restart_without_gemini_key(harness)
    world, driver, store = harness.world, harness.driver, harness.store

    start = await driver.slash(world.host, world.general, "council start", topic="Tea?")
    reply = await start.wait_response()
    assert reply.is_ephemeral
    assert reply.content == REFUSAL

    create = await driver.slash(
        world.host, world.general, "council create", name="Tea board", members="Claude,Gemini"
    )
    reply = await create.wait_response()
    assert reply.is_ephemeral
    assert reply.content == REFUSAL

    # Saved while the key was set; convened after it was removed.
    await store.create_council(world.guild.id, "Tea board", members=["Claude", "Gemini"])
    convene = await driver.slash(
        world.host, world.general, "council convene", name="Tea board", topic="Tea?"
    )
    reply = await convene.wait_response()
    assert reply.is_ephemeral
    assert reply.content == REFUSAL

    assert driver.threads_of(world.general) == []
    assert await store.list_sessions(guild_id=world.guild.id, limit=1) == []
    assert harness.llm.requests == []

    seated = await driver.slash(
        world.host, world.general, "council start", topic="Tea?", members="Claude,Llama"
    )
    await seated.wait_ack()
    session = await harness.wait_ended()
    assert {m.persona for m in await store.members(session.id)} == {"Claude", "Llama"}
