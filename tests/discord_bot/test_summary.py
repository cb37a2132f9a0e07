"""The closing summary, blind councils and their reveal, and review councils' peer ranking."""

from __future__ import annotations

import io
import json

from PIL import Image

from bot.council.models import ReplyKind
from tests.council.conftest import NAMES


async def test_a_blind_council_posts_aliases_with_a_neutral_look_and_reveals_them(harness):
    world, driver = harness.world, harness.driver
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply="I think so, on balance.")
    harness.llm.script("gemini-model", reply="As Gemini, made by Google, I think yes.")
    start = await driver.slash(
        world.host, world.general, "council start", topic="Blind", rounds=2, blind=True
    )
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    seen = driver.read(thread, as_user=world.bob)
    personas = [m for m in seen if m.is_webhook and m.buttons]
    names = {m.author_name for m in personas}
    assert names == {f"Councillor {c}" for c in "ABCD"}
    assert all("example.org" not in m.author_avatar_url for m in personas)
    members = await harness.store.members(session.id)
    aliases = {m.persona: m.alias for m in members}
    # Models were told the aliases, never each other's names.
    second = harness.llm.requests_for("claude-model")[1]
    sent = repr(second.turns()) + second.system_text()
    assert aliases["Claude"] in second.system_text()
    leaked = [other for other in ("DeepSeek", "Llama") if other in sent]
    assert leaked == [], sent
    summary = seen[-1].embeds[0]
    for persona, alias in aliases.items():
        assert f"{alias} was **{persona}**" in summary["description"]
    flagged = [
        r.persona
        for r in await harness.store.replies(session.id)
        if r.kind is ReplyKind.ANSWER and r.is_flagged
    ]
    assert flagged == ["Gemini", "Gemini"]


async def test_a_six_member_summary_with_a_long_synthesis_stays_within_embed_limits(harness):
    world, driver = harness.world, harness.driver
    long_items = [f"Point {i}: " + "a long and winding consideration " * 6 for i in range(6)]
    synthesis = json.dumps(
        {
            "consensus": long_items,
            "disagreements": long_items,
            "open_questions": long_items,
            "cautions": long_items,
            "verdict": "A verdict. " * 60,
        }
    )
    for name in NAMES:
        harness.llm.script(f"{name.lower()}-model", reply=["An answer.", synthesis])
    extra = {"Orca": "claude", "Heron": "gemini"}
    harness.config = harness.config.model_copy(
        update={
            "personas": [
                *harness.config.personas,
                *(
                    harness.config.personas[0].model_copy(update={"name": n, "model": m})
                    for n, m in extra.items()
                ),
            ]
        }
    )
    await harness.stop()
    await harness.start()
    start = await driver.slash(
        world.host,
        world.general,
        "council start",
        topic="Six",
        members="Claude,DeepSeek,Gemini,Llama,Orca,Heron",
        rounds=1,
    )
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    summary = driver.read(thread, as_user=world.bob)[-1]
    embed = summary.embeds[0]
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(f["name"]) + len(f["value"]) for f in embed["fields"])
    assert total <= 6000
    assert len(embed["fields"]) <= 25
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])
    assert {"Consensus", "Disagreements", "Open questions", "Cautions"} <= {
        f["name"] for f in embed["fields"]
    }
    png = next(a for a in summary.message.attachments if a.filename == "votes.png")
    image = Image.open(io.BytesIO(png.data))
    assert image.format == "PNG"
    assert image.size[1] == 120 + 60 * 6
    assert summary.id == session.summary_message_id


async def test_a_review_council_shows_the_peer_ranking_beside_the_audience(harness):
    world, driver = harness.world, harness.driver
    members = ["Claude", "DeepSeek", "Gemini"]

    def reviewer(name):
        def reply(request):
            prompt = "\n".join(text for _, text in request.turns())
            if "Peer review" not in prompt:
                return f"{name}'s answer."
            labels = [f"Response {c}" for c in "AB"]
            return json.dumps({"ranking": labels, "reasons": "ok"})

        return reply

    for name in members:
        harness.llm.script(f"{name.lower()}-model", reply=reviewer(name))
    start = await driver.slash(
        world.host,
        world.general,
        "council start",
        topic="Review",
        members=",".join(members),
        format="review",
        rounds=1,
    )
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    embed = driver.read(thread, as_user=world.bob)[-1].embeds[0]
    field = next(f for f in embed["fields"] if f["name"] == "Peer review vs audience")
    assert field["value"].startswith("Models: ")
    # Nobody voted: the summary says so rather than correlating the council with nothing.
    assert field["value"].endswith(
        "Agreement: too few votes to compare with the council's ranking (0 of the 3 needed)"
    )
