"""Muting a council's members as a service: the checks, the store, the live run, the audit."""

from __future__ import annotations

import pytest

from bot.council.models import Member, MemberRole, NewSession
from bot.errors import UserFacingError
from bot.oversight import Mutes
from bot.sessions import SessionManager
from bot.store.store import Store
from tests.council.conftest import make_config

GUILD, HOST = 5, 9


@pytest.fixture
async def store(tmp_path):
    async with Store.open(tmp_path / "council.db") as opened:
        yield opened


@pytest.fixture
def mutes(store, fake_llm) -> Mutes:
    return Mutes(store, SessionManager(config=make_config(fake_llm), providers={}, store=store))


async def _council(store, names, *, format="parallel", chair=None, aliases=None):
    session = await store.create_session(
        NewSession(topic="Tea?", format=format, chair=chair, guild_id=GUILD)
    )
    await store.add_members(
        session.id,
        [
            Member(
                session_id=session.id,
                position=i,
                persona=name,
                model_key=name.lower(),
                model=name,
                provider="local",
                role=MemberRole.CHAIR if name == chair else MemberRole.MEMBER,
                alias=(aliases or {}).get(name),
            )
            for i, name in enumerate(names)
        ],
    )
    return session


async def test_a_mute_that_would_leave_fewer_than_two_speaking_is_refused(store, mutes):
    session = await _council(store, ["Claude", "DeepSeek", "Gemini"])

    await mutes.mute(session, "Claude", user_id=HOST, host="Ann")
    with pytest.raises(UserFacingError) as refused:
        await mutes.mute(session, "Gemini", user_id=HOST, host="Ann")

    assert refused.value.message == (
        f"Muting Gemini would leave fewer than two members speaking in council #{session.id}."
    )
    assert (await store.get_session(session.id)).muted == ("Claude",)


async def test_in_a_chaired_council_the_chair_does_not_count_among_those_speaking(store, mutes):
    session = await _council(
        store, ["Claude", "DeepSeek", "Gemini"], format="chaired", chair="Claude"
    )

    with pytest.raises(UserFacingError) as refused:
        await mutes.mute(session, "Gemini", user_id=HOST, host="Ann")

    assert "fewer than two members speaking" in refused.value.message


async def test_a_blind_councils_members_are_muted_by_alias_and_never_by_their_real_names(
    store, mutes
):
    aliases = {"Claude": "Councillor A", "DeepSeek": "Councillor B", "Gemini": "Councillor C"}
    session = await _council(store, list(aliases), aliases=aliases)

    with pytest.raises(UserFacingError) as refused:
        await mutes.mute(session, "DeepSeek", user_id=HOST, host="Ann")
    note = await mutes.mute(session, "councillor b", user_id=HOST, host="Ann")

    assert refused.value.message == (
        f"DeepSeek doesn't sit on council #{session.id}. Its members: Councillor A, "
        "Councillor B, Councillor C."
    )
    assert str(note) == "Councillor B sits out the following rounds (muted by Ann)."
    assert (await store.get_session(session.id)).muted == ("DeepSeek",)
    [entry] = await store.audit_log(GUILD, action="member.mute")
    assert (entry.user_id, entry.session_id, entry.detail) == (HOST, session.id, "Councillor B")


async def test_unmuting_a_member_who_is_not_muted_is_refused(store, mutes):
    session = await _council(store, ["Claude", "DeepSeek", "Gemini"])

    with pytest.raises(UserFacingError) as refused:
        await mutes.unmute(session, "Claude", user_id=HOST, host="Ann")

    assert refused.value.message == f"Claude is not muted in council #{session.id}."
    assert await store.audit_log(GUILD) == []
