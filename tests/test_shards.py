"""Shard plans, the REST share, the per-shard run lock and council leases between processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main
from bot.database_url import redact
from bot.databases import claim_shards, run_lock
from bot.discord_ui.ratelimits import GlobalPacer
from bot.errors import UserFacingError
from bot.leases import CouncilLeases, is_gone_here, new_owner_id, pid_namespace
from bot.sessions import SessionManager
from bot.shards import ShardPlan, parse_shard_plan, rest_share_per_s, shard_of
from bot.store import Store
from tests.council.conftest import make_config
from tests.records import Make


def test_a_plan_reads_ranges_and_lists_and_owns_the_guilds_of_its_shards():
    plan = parse_shard_plan("0-2, 5", 8)
    assert plan == ShardPlan((0, 1, 2, 5), 8)
    assert plan.describe() == "0-2,5 of 8"
    guild = (5 << 22) | 123
    assert shard_of(guild, 8) == 5
    assert plan.owns(guild)
    assert not plan.owns((6 << 22) | 123)
    # Direct messages and councils of no guild belong to shard 0.
    assert plan.owns(None)
    assert not ShardPlan((1,), 2).owns(None)


def test_no_options_is_no_plan_and_a_count_alone_runs_every_shard():
    assert parse_shard_plan(None, None) is None
    assert parse_shard_plan(None, 3) == ShardPlan((0, 1, 2), 3)


@pytest.mark.parametrize(
    ("shards", "count", "says"),
    [
        ("0-3", None, "--shards needs --shard-count (SHARD_COUNT): how many in all."),
        ("0-3", 0, "--shard-count must be 1 or more, not 0."),
        ("0-8", 8, "--shards 0-8 goes past --shard-count 8: shards are numbered 0 to 7."),
        ("3-1", 8, "--shards: the range 3-1 runs backwards; write 1-3."),
        ("a-b", 8, "--shards must be shard numbers and ranges such as 0-3 or 0,2,5-7, not 'a-b'."),
    ],
)
def test_a_plan_that_makes_no_sense_is_refused_in_one_line(shards, count, says):
    with pytest.raises(UserFacingError) as refused:
        parse_shard_plan(shards, count)
    assert refused.value.message == says


def test_run_refuses_shards_past_the_count_in_one_line_before_anything_else(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SHARDS", raising=False)
    monkeypatch.delenv("SHARD_COUNT", raising=False)
    code = main(["run", "--shards", "0-3", "--shard-count", "2"])
    assert code == 2
    assert capsys.readouterr().err == (
        "council-bot: --shards 0-3 goes past --shard-count 2: shards are numbered 0 to 1.\n"
    )


def test_run_reads_the_shards_from_the_environment_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHARDS", "1")
    monkeypatch.delenv("SHARD_COUNT", raising=False)
    assert main(["run"]) == 2
    assert capsys.readouterr().err == (
        "council-bot: --shards needs --shard-count (SHARD_COUNT): how many in all.\n"
    )


def test_the_rest_share_defaults_to_the_part_of_the_shards_and_can_be_set():
    assert rest_share_per_s(None, None) == 50
    assert rest_share_per_s(None, ShardPlan((0, 1), 8)) == 12.5
    assert rest_share_per_s("5", ShardPlan((0, 1), 8)) == 5
    assert rest_share_per_s("25%", None) == 12.5
    for wrong in ("0", "51", "fast", "-5%"):
        with pytest.raises(UserFacingError, match=r"^REST_SHARE must be"):
            rest_share_per_s(wrong, None)


@pytest.mark.parametrize("share", [2, 5, 12.5, 50])
def test_a_pacer_for_a_share_never_fits_more_than_it_in_a_second(share):
    pacer = GlobalPacer.for_share(share)
    # A full bucket, then the steady rate: at most burst + rate in any second.
    assert pacer._burst >= 1
    assert pacer._burst + pacer._rate <= share


def test_the_whole_limit_paces_as_an_unsharded_bot_always_has():
    pacer = GlobalPacer.for_share(50)
    assert (pacer._rate, pacer._burst) == (35.0, 6)


def test_processes_with_disjoint_shards_share_a_database_and_overlapping_ones_are_refused(
    tmp_path: Path,
):
    db = tmp_path / "council.db"
    with run_lock(db, ShardPlan((0, 1), 4)), run_lock(db, ShardPlan((2, 3), 4)):
        with pytest.raises(UserFacingError) as overlap, run_lock(db, ShardPlan((1, 2), 4)):
            pass
        assert overlap.value.message == (
            f"Another `council-bot run` (process {os.getpid()}) runs shard 1 on the database "
            f"{db}: give each process shards of its own (--shards)."
        )
        with pytest.raises(UserFacingError, match="is using the database"), run_lock(db):
            pass
    with (
        run_lock(db),
        pytest.raises(UserFacingError, match="is using the database"),
        run_lock(db, ShardPlan((0,), 2)),
    ):
        pass


def test_a_process_with_another_shard_count_is_refused_on_a_sqlite_file(tmp_path: Path):
    db = tmp_path / "council.db"
    # Shard 0 of 2 and shard 2 of 4 both own the guilds with (id >> 22) % 4 == 0.
    with run_lock(db, ShardPlan((0,), 2)):
        with pytest.raises(UserFacingError) as refused, run_lock(db, ShardPlan((2,), 4)):
            pass
        assert refused.value.message == (
            f"Another `council-bot run` runs the bot in 2 shards on the database {db}: "
            "give every process of the bot the same --shard-count."
        )
        with run_lock(db, ShardPlan((1,), 2)):
            pass
    with (
        run_lock(db, ShardPlan((2,), 4)),
        pytest.raises(UserFacingError, match="in 4 shards"),
        run_lock(db, ShardPlan((0,), 2)),
    ):
        pass


async def test_processes_on_one_postgresql_database_claim_their_shards_alone(pg_url):
    async with Store.open(pg_url) as first, Store.open(pg_url) as second:
        async with claim_shards(first, pg_url, ShardPlan((0, 1), 4)):
            async with claim_shards(second, pg_url, ShardPlan((2, 3), 4)):
                pass
            with pytest.raises(UserFacingError) as overlap:
                async with claim_shards(second, pg_url, ShardPlan((1, 2), 4)):
                    pass
            assert overlap.value.message == (
                f"Another `council-bot run` runs shard 1 on the database {redact(pg_url)}: "
                "give each process shards of its own (--shards)."
            )
            with pytest.raises(UserFacingError) as unsharded:
                async with claim_shards(second, pg_url, None):
                    pass
            assert unsharded.value.message == (
                f"Another `council-bot run` is using the database {redact(pg_url)}: stop it "
                "first, or set DATABASE_URL to another database."
            )
            # The refused claims let go of what they held: shards 2 and 3 are free.
            async with claim_shards(second, pg_url, ShardPlan((2, 3), 4)):
                pass
        async with claim_shards(first, pg_url, None):
            with pytest.raises(UserFacingError, match="is using the database"):
                async with claim_shards(second, pg_url, ShardPlan((0,), 1)):
                    pass


async def test_a_process_with_another_shard_count_is_refused_on_postgresql(pg_url):
    async with (
        Store.open(pg_url) as first,
        Store.open(pg_url) as second,
        claim_shards(first, pg_url, ShardPlan((0,), 2)),
    ):
        with pytest.raises(UserFacingError) as refused:
            async with claim_shards(second, pg_url, ShardPlan((2,), 4)):
                pass
        assert refused.value.message == (
            f"Another `council-bot run` runs the bot in 2 shards on the database "
            f"{redact(pg_url)}: give every process of the bot the same --shard-count."
        )
        async with claim_shards(second, pg_url, ShardPlan((1,), 2)):
            pass


def _exited_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(child.stdout)


def test_an_owner_is_gone_when_its_process_in_this_pid_namespace_has_exited():
    me = new_owner_id()
    here = f"{socket.gethostname()}:{{pid}}:{pid_namespace()}:{{token}}"
    assert pid_namespace() != "-"  # Linux, where the tests run
    assert is_gone_here(here.format(pid=_exited_pid(), token="abcd"), me)
    assert is_gone_here(here.format(pid=os.getpid(), token="earlier-life"), me)
    assert not is_gone_here(me, me)
    assert not is_gone_here(here.format(pid=os.getppid(), token="alive"), me)
    assert not is_gone_here(f"elsewhere.example:{_exited_pid()}:{pid_namespace()}:abcd", me)


@pytest.mark.parametrize(
    "namespace",
    [
        "{boot}.4026532001",  # another container on this machine, with the same host name
        "00000000-0000-0000-0000-000000000000.4026531836",  # another machine's first namespace
        "-",  # a process that could not tell its namespace
    ],
)
def test_an_owner_in_another_pid_namespace_is_never_judged_gone(namespace):
    me = new_owner_id()
    host = socket.gethostname()
    namespace = namespace.format(boot=pid_namespace().partition(".")[0])
    # Its pid means another process than here: ours, or one that exited here, proves nothing.
    assert not is_gone_here(f"{host}:{os.getpid()}:{namespace}:other", me)
    assert not is_gone_here(f"{host}:{_exited_pid()}:{namespace}:other", me)
    assert not is_gone_here(f"{host}:1:{namespace}:other", me)


def test_an_owner_id_of_another_form_is_never_judged_gone():
    me = new_owner_id()
    host = socket.gethostname()
    # The form before namespaces were recorded: nothing says where its pid lived.
    assert not is_gone_here(f"{host}:{_exited_pid()}:abcd", me)
    assert not is_gone_here(f"{host}:{os.getpid()}:abcd", me)
    assert not is_gone_here(f"{host}:x:{pid_namespace()}:abcd", me)


@pytest.fixture
async def store(tmp_path: Path):
    async with Store.open(tmp_path / "council.db") as opened:
        yield opened


async def test_resume_waits_out_the_lease_of_a_process_on_another_host(store: Store):
    session = await Make(store).session()
    assert await store.take_lease(session.id, "elsewhere.example:1:dead", 0.3)
    leases = CouncilLeases(store, ttl_s=5)
    assert not await leases.take(session.id)
    assert await asyncio.wait_for(leases.wait_for(session.id), 3)
    assert (await store.lease(session.id)).owner == leases.owner


async def test_resume_gives_up_when_the_holder_keeps_renewing(store: Store):
    session = await Make(store).session()
    holder = CouncilLeases(store, ttl_s=0.6, owner="elsewhere.example:1:alive")
    assert await holder.take(session.id)
    keeping = asyncio.create_task(holder.keep(session.id))
    try:
        assert not await asyncio.wait_for(CouncilLeases(store, ttl_s=5).wait_for(session.id), 3)
    finally:
        keeping.cancel()
    assert (await store.lease(session.id)).owner == holder.owner


async def test_keeping_a_lease_ends_when_another_process_took_it_over(store: Store):
    session = await Make(store).session()
    slow = CouncilLeases(store, ttl_s=0.3, owner="here.example:1:slow")
    assert await slow.take(session.id)
    await asyncio.sleep(0.35)
    assert await store.take_lease(session.id, "there.example:2:fast", 30)
    await asyncio.wait_for(slow.keep(session.id), 2)


async def test_looking_for_interrupted_councils_again_replaces_the_watch_on_the_last_look(
    store: Store, fake_llm
):
    session = await Make(store).session()
    assert await store.take_lease(session.id, "elsewhere.example:1:alive", 30)
    manager = SessionManager(config=make_config(fake_llm), providers={}, store=store)

    def watching() -> list[asyncio.Task[object]]:
        return [t for t in asyncio.all_tasks() if t.get_name() == "orphans" and not t.done()]

    try:
        for _ in range(3):  # as each attempt to connect does
            assert await manager.take_over_interrupted(lambda guild_id: True) == []
        assert len(watching()) == 1
    finally:
        await manager.shutdown()
    assert watching() == []
