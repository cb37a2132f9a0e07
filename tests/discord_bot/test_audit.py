"""/council-admin audit through the fake Discord: who did what, a page at a time, privately."""

from __future__ import annotations

import discord

from bot.council.models import NewSession
from tests.fakediscord.state import Perm

OLDER, NEWER = "Older ▶", "◀ Newer"
MANAGERS_ONLY = "Only members with Manage Server can do that."


def _line(entry) -> str:
    """How one entry reads: time, who (a mention), action, council, detail."""
    who = "automatic" if entry.user_id is None else f"<@{entry.user_id}>"
    council = f" · council #{entry.session_id}" if entry.session_id else ""
    detail = f" · {discord.utils.escape_markdown(entry.detail)}" if entry.detail else ""
    return f"<t:{int(entry.at.timestamp())}:f> · {who} · `{entry.action}`{council}{detail}"


async def _history(harness):
    """23 actions in the harness's guild (by the host, by bob, one automatic) and 2 elsewhere."""
    store, world = harness.store, harness.world
    session = await store.create_session(NewSession(topic="Trams?", guild_id=world.guild.id))
    written = []
    for n in range(22):
        user, action = (world.host.id, "session.next") if n % 4 else (world.bob.id, "session.stop")
        written.append(await store.audit(world.guild.id, user, action, session.id, f"step {n}"))
    written.append(
        await store.audit(world.guild.id, None, "session.autostop", session.id, "Spent.")
    )
    for action in ("session.next", "session.stop"):
        await store.audit(world.guild.id + 1, world.bob.id, action, detail="elsewhere")
    return written[::-1]  # newest first


def _admin(harness):
    return harness.driver.create_member(harness.world.guild, "admin", permissions=Perm.MANAGE_GUILD)


async def _open(harness, who, **options):
    handle = await harness.driver.slash(
        who, harness.world.general, "council-admin audit", **options
    )
    page = await handle.wait_response()
    assert page.is_ephemeral
    return page


async def _click(harness, member, page, label):
    click = await harness.driver.click(member, page, page.button(label).custom_id)
    await click.wait_ack()
    return click.original


async def test_a_manager_pages_through_the_servers_actions_newest_first_without_pings(harness):
    newest_first = await _history(harness)
    admin = _admin(harness)

    first = await _open(harness, admin)
    second = await _click(harness, admin, first, OLDER)
    third = await _click(harness, admin, second, OLDER)
    back = await _click(harness, admin, third, NEWER)

    pages = [first.content, second.content, third.content]
    assert [text.splitlines()[0] for text in pages] == [
        f"**Audit log** — page {n} of 3, 23 in all" for n in (1, 2, 3)
    ]
    assert [line for text in pages for line in text.splitlines()[1:]] == [
        _line(entry) for entry in newest_first
    ]
    assert "elsewhere" not in "".join(pages)
    assert back.content == second.content
    assert [(b.label, b.disabled) for b in first.buttons] == [(NEWER, True), (OLDER, False)]
    assert [(b.label, b.disabled) for b in second.buttons] == [(NEWER, False), (OLDER, False)]
    assert [(b.label, b.disabled) for b in third.buttons] == [(NEWER, False), (OLDER, True)]
    assert f"<@{harness.world.host.id}>" in first.content
    assert not any(page.pings.any for page in (first, second, third, back))
    harness.fake.assert_no_pings()


async def test_a_manager_filters_by_member_and_by_action(harness):
    world = harness.world
    newest_first = await _history(harness)
    admin = _admin(harness)

    by_bob = await _open(harness, admin, member=world.bob)
    stops = await _open(harness, admin, action="session.stop")
    automatic = await _open(harness, admin, action="session.autostop")
    bobs_starts = await _open(harness, admin, member=world.bob, action="session.start")

    bobs = [e for e in newest_first if e.user_id == world.bob.id]
    assert by_bob.content.splitlines() == [
        f"**Audit log** by <@{world.bob.id}> — page 1 of 1, 6 in all",
        *map(_line, bobs),
    ]
    assert stops.content.splitlines()[1:] == [_line(e) for e in bobs]
    assert automatic.content.splitlines()[1:] == [_line(newest_first[0])]
    assert "· automatic · `session.autostop`" in automatic.content
    assert bobs_starts.content == (
        f"**Audit log** by <@{world.bob.id}> `session.start`: nothing recorded."
    )
    assert not any(p.buttons for p in (by_bob, stops, automatic, bobs_starts))
    assert not by_bob.pings.any
    harness.fake.assert_no_pings()


async def test_a_real_settings_change_shows_up_first(harness):
    await _history(harness)
    admin = _admin(harness)
    change = await harness.driver.slash(
        admin, harness.world.general, "council-admin settings", max_sessions=3
    )
    await change.wait_response()

    page = await _open(harness, admin)

    [latest] = await harness.store.audit_log(harness.world.guild.id, 1)
    assert (latest.user_id, latest.action) == (admin.id, "settings")
    assert page.content.splitlines()[1] == _line(latest)


async def test_members_without_manage_server_are_refused_even_when_shown_the_command(harness):
    world, driver = harness.world, harness.driver
    await _history(harness)
    admin = _admin(harness)
    # A server admin lets bob see /council-admin (Server Settings > Integrations): the bot
    # still asks for Manage Server itself.
    driver.permit_command(world.guild, "council-admin", world.bob)

    refused = await _open(harness, world.bob)
    first = await _open(harness, admin)
    # The admin loses Manage Server with the page still open: its buttons stop working.
    [role] = [r for r in world.guild.roles.values() if r.name == "admin-role"]
    driver.set_role_permissions(world.guild, role, 0)
    await harness.fake.wait_for(
        lambda: (
            not harness.bot.get_guild(world.guild.id).get_role(role.id).permissions.manage_guild
        ),
        what="the bot to see the role change",
    )
    click = await driver.click(admin, first, first.button(OLDER).custom_id)
    [reply] = await click.wait_responses()

    assert refused.content == MANAGERS_ONLY
    assert not refused.buttons
    assert reply.is_ephemeral
    assert reply.content == MANAGERS_ONLY
    assert harness.fake.world.messages[first.id].content == first.content
