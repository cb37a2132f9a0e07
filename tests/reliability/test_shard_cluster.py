"""Two `council-bot run` processes, shards 0 and 1 of 2, on one fake Discord and one shared
store: each runs the councils of its own guilds, the leaderboard spans both, and a process
killed mid-round comes back and resumes its council, which the other process never touched."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.council.models import GuildSettings, ReplyKind, ReplyStatus, SessionStatus, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.store.store import Store
from tests.bot_process import BotProcess, poll, write_config
from tests.council.conftest import NAMES
from tests.fakediscord import Driver, FakeDiscord
from tests.fakediscord.rules import Kind
from tests.fakediscord.state import Channel, Guild, Perm, User
from tests.fakellm import FakeLLM

LEASE_TTL_S = 2.0


@dataclass
class SharedStore:
    """The store both processes use: how to point a process at it, and how to open it here."""

    env: dict[str, str]
    open: Callable[[], AbstractAsyncContextManager[Store]]


@pytest.fixture(params=["sqlite", "postgresql"])
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> SharedStore:
    """The store both processes use: one SQLite file in WAL mode (processes on one machine
    share it), or one PostgreSQL database named by DATABASE_URL."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return SharedStore(env={"DATABASE_URL": url}, open=lambda: Store.open(url))
    db = tmp_path / "shared.db"
    return SharedStore(env={"COUNCIL_DB": str(db)}, open=lambda: Store.open(db))


@dataclass
class Place:
    """A guild of one shard with #general, a host and an audience member."""

    guild: Guild
    general: Channel
    host: User
    bob: User
    # Its council's members, none shared with the other guild's, so that one council's
    # models can be slowed down without the other's.
    members: tuple[str, str]
    process: BotProcess = field(init=False)


def _place(driver: Driver, shard: int) -> Place:
    guild = driver.create_guild(f"Shard {shard}", shard=(shard, 2))
    general = driver.create_text_channel(guild, "general")
    host = driver.create_member(guild, "host", permissions=Perm.MANAGE_THREADS)
    members = (NAMES[2 * shard], NAMES[2 * shard + 1])
    return Place(guild, general, host, driver.create_member(guild, "bob"), members)


@pytest.fixture
async def cluster(
    fake_discord: FakeDiscord,
    discord_driver: Driver,
    fake_llm: FakeLLM,
    shared_store: SharedStore,
    tmp_path: Path,
) -> AsyncIterator[list[Place]]:
    """Guilds of shards 0 and 1, each served by its own `run --shards N --shard-count 2`."""
    write_config(tmp_path / "council.toml", fake_llm.base_url("openai"))
    places = [_place(discord_driver, shard) for shard in (0, 1)]
    async with shared_store.open() as store:
        for place in places:
            await store.save_guild_settings(
                GuildSettings(guild_id=place.guild.id, pause_between_rounds_s=3)
            )
    for shard, place in enumerate(places):
        place.process = BotProcess(
            fake_discord,
            place.guild.id,
            tmp_path,
            args=("--shards", str(shard), "--shard-count", "2"),
            env={**shared_store.env, "LEASE_TTL_S": str(LEASE_TTL_S)},
            name=f"shard{shard}",
        )
        await place.process.start()
    try:
        yield places
    finally:
        for place in places:
            await place.process.stop()


async def _latest(store: Store, place: Place):
    sessions = await store.list_sessions(guild_id=place.guild.id, limit=1)
    return sessions[0] if sessions else None


async def _vote(driver: Driver, store: Store, place: Place, session_id: int, persona: str) -> int:
    """Bob votes up `persona`'s round-one reply once its buttons show; return its id."""

    async def shown():
        thread = driver.threads_of(place.general)[0]
        seen = {m.id: m for m in driver.read(thread, as_user=place.bob)}
        for reply in await store.replies(session_id, round_number=1):
            if reply.persona == persona and reply.message_ids:
                message = seen.get(reply.message_ids[-1])
                if message is not None and message.buttons:
                    return reply
        return None

    reply = await poll(shown)
    click = await driver.click(
        place.bob, reply.message_ids[-1], vote_custom_id(reply.id, VoteValue.UP)
    )
    await click.wait_ack(timeout=10)
    return reply.id


async def _ended(store: Store, session_id: int):
    session = await store.get_session(session_id)
    return session if session.summary_message_id else None


def _councils_counted(description: str) -> int:
    return int(re.search(r"of (\d+) councils?", description.splitlines()[0])[1])


async def test_two_shard_processes_run_their_own_guilds_and_a_killed_one_resumes_its_council(
    fake_discord: FakeDiscord,
    discord_driver: Driver,
    fake_llm: FakeLLM,
    shared_store: SharedStore,
    cluster: list[Place],
):
    fake, driver = fake_discord, discord_driver
    zero, one = cluster
    # A killed process can't wind anything down; the next one meets the old buckets.
    fake.expect_violation(Kind.RATE_LIMITED)
    for name in NAMES:
        fake_llm.script(f"{name.lower()}-model", reply=f"{name} in round one.")
    # Each guild's interactions reach only the process of its shard.
    for place in cluster:
        start = await driver.slash(
            place.host,
            place.general,
            "council start",
            topic="Shards",
            rounds=2,
            members=",".join(place.members),
        )
        await start.wait_ack(timeout=10)

    async with shared_store.open() as store:

        async def round_one_done():
            sessions = [await _latest(store, place) for place in cluster]
            if None in sessions:
                return None
            for session in sessions:
                rounds = await store.rounds(session.id)
                if not any(r.number == 1 and r.finished_at for r in rounds):
                    return None
            return sessions

        council_zero, council_one = await poll(round_one_done, timeout=20)
        assert council_zero.guild_id == zero.guild.id
        assert council_one.guild_id == one.guild.id
        for name in zero.members:
            fake_llm.script(f"{name.lower()}-model", reply="never said", first_token_delay_s=60)
        await _vote(driver, store, zero, council_zero.id, zero.members[0])
        await _vote(driver, store, one, council_one.id, one.members[0])
        await fake.wait_for(
            lambda: sum(fake_llm.in_flight(f"{n.lower()}-model") for n in zero.members) == 2,
            timeout=10,
            what="round two of shard 0's council",
        )
        one_ended = await poll(lambda: _ended(store, council_one.id), timeout=20)
        assert one_ended.status is SessionStatus.FINISHED
        killed_pid = zero.process.process.pid
        await zero.process.kill()

        # Shard 1's process, started again once the dead one's lease has expired, leaves shard
        # 0's council alone: only the process that owns a guild's shard takes its councils over.
        await asyncio.sleep(LEASE_TTL_S * 1.5)
        await one.process.stop()
        await one.process.start()
        await asyncio.sleep(LEASE_TTL_S)
        assert (await store.get_session(council_zero.id)).status is SessionStatus.RUNNING
        assert (await store.lease(council_zero.id)).owner.split(":")[1] == str(killed_pid)

        for name in zero.members:
            fake_llm.script(f"{name.lower()}-model", reply=f"{name} in round two.")
        await zero.process.start()

        async def interrupted():
            session = await store.get_session(council_zero.id)
            return session if session.status is SessionStatus.PAUSED else None

        assert (await poll(interrupted)).stop_reason == "interrupted by a restart"
        thread = driver.threads_of(zero.general)[0]
        resume = await driver.slash(zero.host, thread, "council resume")
        assert "Resuming at round 2" in (await resume.wait_response(timeout=15)).content

        zero_ended = await poll(lambda: _ended(store, council_zero.id), timeout=20)
        assert zero_ended.status is SessionStatus.FINISHED
        answers = [
            (r.round_number, r.persona)
            for r in await store.replies(council_zero.id)
            if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
        ]
        assert sorted(answers) == sorted((n, p) for n in (1, 2) for p in zero.members)
        # Each process gave its leases up as its council ended.
        assert await store.lease(council_zero.id) is None
        assert await store.lease(council_one.id) is None

    # History and leaderboards read the shared store: shard 1's process ranks both councils.
    everywhere = await driver.slash(one.host, one.general, "council leaderboard", scope="all")
    board = (await everywhere.wait_response(timeout=15)).embeds[0]["description"]
    here = await driver.slash(one.host, one.general, "council leaderboard")
    board_here = (await here.wait_response(timeout=15)).embeds[0]["description"]
    assert (_councils_counted(board), _councils_counted(board_here)) == (2, 1)
    assert "2 votes" in board.splitlines()[0]
