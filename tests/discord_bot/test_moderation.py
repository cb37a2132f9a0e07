"""Moderation of what the personas post, through the fake Discord: rules, the moderation model,
withheld replies replaced in place, spoilers, the allow list, release by a host, the admin
commands' refusals, and what exports show."""

# ruff: noqa: RUF001  (some expected notes are Russian: Cyrillic letters that look Latin)
from __future__ import annotations

import json

from bot.config import ModerationConfig
from bot.council.models import Moderation, ReplyStatus
from bot.render.export import export_json
from bot.render.html import render_html
from bot.render.transcript import render_markdown
from tests.fakediscord.state import Perm
from tests.fakellm import Fault

EDIT_ROUTE = "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}"
BLOCKED = "forbidden"
SAFE = "Opening words are fine here. " * 12
WITHHELD_NOTE = "🛡️ *Claude's reply was withheld by moderation (blocked word).*"


def _admin(harness, *, locale: str = "en-US"):
    return harness.driver.create_member(
        harness.world.guild, "admin", permissions=Perm.MANAGE_GUILD, locale=locale
    )


async def _admin_says(harness, admin, command: str, **options) -> str:
    handle = await harness.driver.slash(admin, harness.world.general, command, **options)
    answer = await handle.wait_response()
    assert answer.is_ephemeral
    return answer.content


async def _council(harness, *, members: str = "Claude,Gemini", rounds: int = 1):
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic="Dragons", members=members, rounds=rounds
    )
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    return session, thread


def _said_to_discord(harness) -> str:
    """Everything the bot sent Discord for others to see (not private interaction replies)."""
    private = f"/webhooks/{harness.fake.application_id}/"
    return "\n".join(
        json.dumps(e.body, ensure_ascii=False)
        for e in harness.fake.wire
        if e.body and not e.route.startswith("/interactions/") and private not in e.path
    )


def _webhook_messages(harness, thread, name: str):
    return [
        m for m in harness.driver.read(thread, as_user=harness.world.bob) if m.author_name == name
    ]


async def _moderate_with_model(harness, **changes) -> None:
    """Restart the bot with the operator's moderation model on the fake's moderations endpoint."""
    table = {"kind": "openai", "provider": "local", "model": "omni-moderation-latest", **changes}
    harness.config = harness.config.model_copy(update={"moderation": ModerationConfig(**table)})
    await harness.stop()
    await harness.start()


async def test_a_blocked_word_mid_stream_replaces_the_message_and_reaches_no_one(harness):
    admin = _admin(harness)
    said = await _admin_says(harness, admin, "council-admin moderation block", word=BLOCKED)
    assert said == f"Rule #1 added: word `{BLOCKED}` → withhold the reply."
    streamed = f"{SAFE}Then a {BLOCKED} idea follows. " + "More words after it. " * 20
    harness.llm.script(
        "claude-model", reply=[streamed, "Claude's second round.", "Claude sums up."],
        tokens_per_s=40,
    )  # fmt: skip

    session, thread = await _council(harness, rounds=2)

    [withheld, second] = _webhook_messages(harness, thread, "Claude")
    assert withheld.content == WITHHELD_NOTE
    assert withheld.buttons == ()
    assert second.content == "Claude's second round."
    # Replaced in place: the same message first showed the words moderation had passed.
    shown = [
        e.body.get("content", "")
        for e in harness.fake.requests("PATCH", EDIT_ROUTE)
        if e.path.endswith(f"/messages/{withheld.id}") and e.body
    ]
    assert any(text.startswith("Opening words") for text in shown)
    assert shown[-1] == WITHHELD_NOTE
    assert BLOCKED not in _said_to_discord(harness)
    # The model call was cut off, and nobody else's prompt, nor the synthesis, carries the text.
    first, *later = harness.llm.requests_for("claude-model")
    assert first.disconnected
    others = [*later, *harness.llm.requests_for("gemini-model")]
    assert len(others) >= 4  # Gemini's two rounds, Claude's second round and the synthesis
    assert all(BLOCKED not in json.dumps(r.body) for r in others)
    # The store keeps the text for hosts, and why it was withheld.
    replies = await harness.store.replies(session.id)
    kept = next(r for r in replies if r.persona == "Claude" and r.round_number == 1)
    assert kept.status is ReplyStatus.WITHHELD
    assert kept.message_ids == (withheld.id,)
    assert (kept.moderation, kept.moderation_category, kept.moderation_source) == (
        Moderation.WITHHELD,
        "blocked-word",
        "rules",
    )
    assert kept.moderation_rule == f"keyword #1: {BLOCKED}"
    assert BLOCKED in kept.text
    audit = await harness.store.audit_log(harness.world.guild.id, action="reply.withhold")
    assert [(e.user_id, e.session_id) for e in audit] == [(None, session.id)]
    # Exports mark the reply withheld and leave its text out.
    record = await harness.store.session_record(session.id)
    markdown, exported, page = render_markdown(record), export_json(record), render_html(record)
    assert "_Withheld by moderation (blocked word)._" in markdown
    assert "Withheld by moderation (blocked word)." in page
    document = json.loads(exported)
    entry = next(r for r in document["replies"] if r["id"] == kept.id)
    assert entry["text"] == ""
    assert entry["moderation"] == {
        "verdict": "withheld",
        "category": "blocked-word",
        "source": "rules",
    }
    assert all(BLOCKED not in text for text in (markdown, exported, page))


async def test_a_moderation_endpoint_that_flags_a_reply_withholds_it_with_its_category(harness):
    await _moderate_with_model(harness)
    harness.llm.script_moderation(flags={"plutonium": "illicit/violent"})
    harness.llm.script("gemini-model", reply="Here is how to enrich plutonium at home.")

    session, thread = await _council(harness)

    opening = harness.driver.read(harness.world.general, as_user=harness.world.bob)[0]
    assert opening.embeds[0]["description"].splitlines()[-1] == (
        "Replies are checked by: the moderation model omni-moderation-latest."
    )
    [gemini] = _webhook_messages(harness, thread, "Gemini")
    assert gemini.content == ("🛡️ *Gemini's reply was withheld by moderation (illicit/violent).*")
    [claude] = _webhook_messages(harness, thread, "Claude")
    assert claude.content == "Claude thinks carefully. " * 2 + "Claude thinks carefully."
    replies = await harness.store.replies(session.id)
    kept = next(r for r in replies if r.persona == "Gemini")
    assert (kept.status, kept.moderation_category, kept.moderation_source) == (
        ReplyStatus.WITHHELD,
        "illicit/violent",
        "omni-moderation-latest",
    )
    asked = [r for r in harness.llm.requests if r.path == "/v1/moderations"]
    assert {r.body["model"] for r in asked} == {"omni-moderation-latest"}
    assert any("plutonium" in r.body["input"] for r in asked)
    assert "plutonium" not in _said_to_discord(harness)


async def test_a_moderation_endpoint_that_is_down_withholds_replies_by_default(harness):
    await _moderate_with_model(harness)
    harness.llm.script_moderation(fault=Fault.http(503))
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic="Trams", members="Claude,Gemini",
        rounds=1,
    )  # fmt: skip
    await start.wait_ack()
    session = await harness.wait_running()

    def notes() -> list[str] | None:
        threads = driver.threads_of(world.general)
        if not threads:
            return None
        shown = [m.content for m in driver.read(threads[0], as_user=world.bob) if m.is_webhook]
        settled = len(shown) >= 2 and all(text.startswith("🛡️") for text in shown[:2])
        return shown if settled else None

    # Nobody's reply could be checked, so nobody answered: the council waits for its hosts.
    shown = await harness.fake.wait_for(notes, timeout=10, what="both notes")
    assert shown == [
        f"🛡️ *{name}'s reply was withheld by moderation (could not be checked).*"
        for name in ("Claude", "Gemini")
    ]
    replies = await harness.store.replies(session.id)
    assert {(r.status, r.moderation_category) for r in replies} == {
        (ReplyStatus.WITHHELD, "unchecked")
    }
    assert "thinks carefully" not in _said_to_discord(harness)
    harness.bot.manager.run_for(session.id).stop()
    await harness.wait_ended()


async def test_a_spoiler_rule_shows_the_reply_behind_spoilers_with_a_content_note(harness):
    admin = _admin(harness)
    await _admin_says(
        harness, admin, "council-admin moderation block", word="dragon*", action="spoiler",
        note="finale",
    )  # fmt: skip
    harness.llm.script("claude-model", reply="The dragons win in the end.\n\n```\nx = a | b\n```")

    _, thread = await _council(harness)

    [claude] = _webhook_messages(harness, thread, "Claude")
    assert claude.content == (
        "⚠️ *Content note: finale*\n||The dragons win in the end.\n\nx = a \\| b||"
    )
    assert [b.label for b in claude.buttons] == ["👍 0", "👎 0"]


async def test_an_allowed_keyword_exempts_the_text_it_covers_and_nothing_else(harness):
    admin = _admin(harness)
    await _admin_says(harness, admin, "council-admin moderation block", word="*cat*")
    said = await _admin_says(harness, admin, "council-admin moderation allow", word="location")
    assert said == "`location` is allowed now: text it covers breaks no rule."
    harness.llm.script("claude-model", reply="The location of the meeting matters.")
    harness.llm.script("gemini-model", reply="A cat sat in the location.")

    _, thread = await _council(harness)

    [claude] = _webhook_messages(harness, thread, "Claude")
    [gemini] = _webhook_messages(harness, thread, "Gemini")
    assert claude.content == "The location of the meeting matters."
    assert gemini.content == "🛡️ *Gemini's reply was withheld by moderation (blocked word).*"


async def test_a_host_reviews_and_releases_a_withheld_reply_in_place_with_its_buttons(harness):
    world, driver = harness.world, harness.driver
    await _admin_says(harness, _admin(harness), "council-admin moderation block", word=BLOCKED)
    text = f"A {BLOCKED} thought, worth a second look."
    harness.llm.script("claude-model", reply=text)
    session, thread = await _council(harness)
    [kept] = [r for r in await harness.store.replies(session.id) if r.persona == "Claude"]

    listing = await driver.slash(world.host, thread, "council withheld")
    listed = await listing.wait_response()
    assert listed.is_ephemeral
    assert listed.content.splitlines() == [
        f"**1 withheld reply in council #{session.id}:**",
        f"**#{kept.id}** · council #{session.id} · Claude · round 1 · blocked word (rules)",
        f"> {text}",
    ]
    full = await driver.slash(world.host, thread, "council withheld", reply=kept.id)
    assert (await full.wait_response()).content.splitlines()[1:] == [
        f"-# keyword #1: {BLOCKED}",
        f"> {text}",
        f"To show it: `/council release reply:{kept.id}`",
    ]
    server_wide = await driver.slash(world.bob, world.general, "council withheld", scope="server")
    assert (await server_wide.wait_response()).content.startswith("Only moderators")
    moderator = driver.create_member(world.guild, "mod", permissions=Perm.MANAGE_MESSAGES)
    server_wide = await driver.slash(moderator, world.general, "council withheld", scope="server")
    assert (await server_wide.wait_response()).content.splitlines()[0] == (
        "**1 withheld reply in this server:**"
    )
    refused = await driver.slash(world.bob, thread, "council release", reply=kept.id)
    assert (await refused.wait_response()).content.startswith("Only hosts can do that.")

    release = await driver.slash(world.host, thread, "council release", reply=kept.id)
    await release.wait_ack()
    [answer] = await release.wait_responses()
    assert answer.content == f"Reply #{kept.id} is shown again in <#{thread.id}>."

    [claude] = _webhook_messages(harness, thread, "Claude")
    assert claude.content == text
    assert [b.label for b in claude.buttons] == ["👍 0", "👎 0"]
    released = await harness.store.get_reply(kept.id)
    assert (released.status, released.moderation) == (ReplyStatus.OK, Moderation.RELEASED)
    [entry] = await harness.store.audit_log(world.guild.id, action="reply.release")
    assert (entry.user_id, entry.session_id) == (world.host.id, session.id)
    log = await _admin_says(harness, _admin(harness), "council-admin audit", action="reply.release")
    assert f"<@{world.host.id}> · `reply.release` · council #{session.id}" in log
    again = await driver.slash(world.host, thread, "council release", reply=kept.id)
    assert (await again.wait_response()).content == f"Reply #{kept.id} is not withheld."
    harness.fake.assert_no_pings()


async def test_the_admin_commands_refuse_what_cannot_be_a_rule_in_one_clear_line(harness):
    admin = _admin(harness)

    async def refusal(command: str, **options) -> str:
        return await _admin_says(harness, admin, f"council-admin moderation {command}", **options)

    assert await refusal("pattern", regex="(a|aa)+b") == (
        "That pattern takes too long on ordinary text; simplify it "
        "(nested repeats such as (a+)+ are the usual cause)."
    )
    invalid = await refusal("pattern", regex="([")
    assert invalid.startswith("That is not a valid regular expression: ")
    assert len(invalid.splitlines()) == 1
    assert await refusal("pattern", regex="a*") == (
        "That pattern matches empty text, so it would catch every reply."
    )
    assert await refusal("block", word="ca*t") == (
        "“ca*t” has a * inside it: as in AutoMod, a * may only start or end a keyword."
    )
    assert await refusal("remove", rule=99) == (
        "This server has no rule #99; see `/council-admin moderation list`."
    )
    assert await refusal("unallow", word="nothing") == "`nothing` is not on the allow list."
    await refusal("block", word="spam")
    assert await refusal("block", word="SPAM") == "“SPAM” is already a rule here."
    assert await refusal("list") == (
        "**Moderation in this server:** 1 blocked word, 0 patterns, 0 allowed keywords. "
        "The operator has set no moderation model.\n"
        "`#1` word `spam` → withhold the reply"
    )
    harness.driver.permit_command(harness.world.guild, "council-admin", harness.world.bob)
    bob = await harness.driver.slash(
        harness.world.bob, harness.world.general, "council-admin moderation block", word="x"
    )
    assert (await bob.wait_response()).content == "Only members with Manage Server can do that."
    assert (await harness.store.moderation_policy(harness.world.guild.id)).keyword_count == 1


async def test_a_russian_moderator_is_refused_in_russian_and_the_thread_notes_follow_the_council(
    harness,
):
    admin = _admin(harness, locale="ru")
    refused = await _admin_says(harness, admin, "council-admin moderation pattern", regex="a*")
    assert refused == "Этот шаблон совпадает с пустым текстом, а значит — с любым ответом."
    await _admin_says(harness, admin, "council-admin moderation block", word=BLOCKED)
    harness.llm.script("claude-model", reply=f"A {BLOCKED} word.")
    world, driver = harness.world, harness.driver
    start = await driver.slash(
        world.host, world.general, "council start", topic="Драконы", members="Claude,Gemini",
        rounds=1, language="ru",
    )  # fmt: skip
    await start.wait_ack()
    await harness.wait_ended()
    [thread] = driver.threads_of(world.general)

    opening = driver.read(world.general, as_user=world.bob)[0]
    assert opening.embeds[0]["description"].splitlines()[-1] == (
        "Ответы проверяются по правилам сервера: 1 запрещённое слово."
    )
    [claude] = _webhook_messages(harness, thread, "Claude")
    assert claude.content == "🛡️ *Ответ участника Claude скрыт модерацией (запрещённое слово).*"


async def test_about_this_reply_tells_the_moderation_verdict_and_the_release(harness):
    world, driver = harness.world, harness.driver
    await _admin_says(harness, _admin(harness), "council-admin moderation block", word=BLOCKED)
    harness.llm.script("claude-model", reply=f"A {BLOCKED} thought, worth a second look.")
    session, thread = await _council(harness)
    [kept] = [r for r in await harness.store.replies(session.id) if r.persona == "Claude"]

    async def about(name: str) -> list[str]:
        [message] = _webhook_messages(harness, thread, name)
        handle = await driver.context_menu(world.bob, message, "About this reply")
        [card] = await handle.wait_responses()
        return card.content.splitlines()

    withheld = await about("Claude")
    assert "Moderation: flagged (blocked word), by rules" in withheld
    assert "Withheld by moderation: its text was never shown." in withheld
    passed = await about("Gemini")
    assert "Moderation: passed, by rules" in passed
    assert "Not edited since it was posted." in passed

    release = await driver.slash(world.host, thread, "council release", reply=kept.id)
    await release.wait_ack()
    await release.wait_responses()
    released = await about("Claude")
    assert "Moderation: flagged (blocked word), by rules" in released
    assert "Edited after it was posted: withheld by moderation, then released by a host." in (
        released
    )
