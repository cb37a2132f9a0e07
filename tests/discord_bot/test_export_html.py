"""/council export format:html: the council as one web page, attached through the fake Discord."""

from __future__ import annotations

from bot.council.models import NewReply, NewSession, SessionStatus, VoteValue
from tests.records import Make
from tests.render.test_html import PageParser


async def test_export_as_html_attaches_one_self_contained_page_with_the_votes(harness):
    store, world = harness.store, harness.world
    session = await store.create_session(
        NewSession(topic="Bikes <or> buses?", guild_id=world.guild.id)
    )
    await store.add_members(
        session.id,
        [
            Make.member(
                session.id,
                i,
                name,
                model=f"{name.lower()}-model",
                color=color,
                avatar_url="https://cdn.example/face.png",
            )
            for i, (name, color) in enumerate((("Claude", "#D97757"), ("Gemini", "#1A73E8")))
        ],
    )
    await store.start_round(session.id, 1)
    claude = await store.add_reply(
        NewReply(session_id=session.id, round_number=1, persona="Claude", text="**Bikes.**")
    )
    await store.add_reply(
        NewReply(
            session_id=session.id,
            round_number=1,
            persona="Gemini",
            text="<script>alert(1)</script> [x](javascript:alert(1))",
        )
    )
    await store.record_vote(claude.id, world.bob.id, VoteValue.UP)
    await store.set_session_status(session.id, SessionStatus.FINISHED)

    handle = await harness.driver.slash(
        world.bob, world.general, "council export", session=session.id, format="html"
    )
    message = await handle.wait_response(timeout=10)

    assert message.is_ephemeral
    assert message.attachments == (f"council-{session.id}.html",)
    [attachment] = message.message.attachments
    html = attachment.data.decode()
    page = PageParser(html)
    assert page.mismatches == []
    assert f"Council #{session.id}: Bikes <or> buses?" in page.all_text
    assert "<strong>Bikes.</strong>" in html
    assert "<script>alert(1)</script> [x](javascript:alert(1))" in page.all_text
    assert not [tag for tag, _ in page.tags if tag == "script"]
    votes = [(a["data-up"], a["data-down"]) for a in page.find("span", **{"class": "votes"})]
    assert votes == [("1", "0"), ("0", "0")]
    sources, links = page.attrs("src"), page.attrs("href")
    assert sources
    assert all(src.startswith("data:image/png;base64,") for src in sources)
    assert links
    assert all(href.startswith("#") for href in links)
    assert "cdn.example" not in html
