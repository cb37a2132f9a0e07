"""/persona list: every persona's model and style, each within one embed field."""

from __future__ import annotations

from bot.graphemes import boundaries

# A flag is two code points: cutting between them would leave half a flag.
FLAG = "\N{REGIONAL INDICATOR SYMBOL LETTER F}\N{REGIONAL INDICATOR SYMBOL LETTER R}"


async def test_a_style_too_long_for_a_field_is_cut_between_whole_characters(harness):
    world, driver = harness.world, harness.driver
    claude = harness.config.persona("Claude")
    shown_start = f"`{harness.config.models[claude.model].model}`\n"
    # The operator's style is not bounded; the field's 1024 characters fall inside a flag.
    style = "x" * (1023 - len(shown_start)) + FLAG * 10
    harness.config = harness.config.model_copy(
        update={
            "personas": [
                p.model_copy(update={"style": style}) if p.name == "Claude" else p
                for p in harness.config.personas
            ]
        }
    )
    await harness.stop()
    await harness.start()

    handle = await driver.slash(world.bob, world.general, "persona list")
    reply = await handle.wait_response()

    [field] = [f for f in reply.embeds[0]["fields"] if f["name"] == "Claude"]
    value = field["value"]
    shown = shown_start + style
    assert len(value) <= 1024
    assert value.endswith("…")
    kept = value.removesuffix("…")
    assert shown.startswith(kept)
    assert len(kept) in boundaries(shown)
