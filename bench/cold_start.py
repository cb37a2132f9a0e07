"""Cold start: ``council-bot run`` from process start to ready, with 10,000 stored councils.

The database is filled in bulk through the store's own connection and migrations (one
transaction of executemany calls), with every council as the bot leaves one: four members, two
rounds, eight replies with their messages and some votes; a few were still running, so start-up
has councils to mark as interrupted. Then the real ``council-bot run`` is started against the
fake Discord; it is ready when the fake has sent it its guild after IDENTIFY. Each start uses a
fresh copy of the same database; the median of the starts must be within 3 s.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.report import Metric, at_most
from bench.world import PERSONAS, BotProcess, Fakes, Preset, model_of, reply_text
from bot.council.models import ReplyKind, ReplyStatus, SessionStatus, VoteValue
from bot.store.db import SqliteDatabase, connect, enforce_foreign_keys
from bot.store.migrate import bundled_migrations, migrate
from bot.store.rows import to_db_time
from bot.store.store import Store

NAME = "cold_start"
FULL = {"sessions": 10_000, "starts": 3}
QUICK = {"sessions": 300, "starts": 1}
MEMBERS = PERSONAS[:4]
ROUNDS = 2
VOTES_PER_REPLY = 3
# One council in this many was still running when the bot last stopped.
RUNNING_EVERY = 100


async def fill_store(path: Path, sessions: int, guild_id: int) -> None:
    """Create the database at `path` with `sessions` finished councils, in one transaction."""
    conn = await connect(path)
    try:
        await migrate(conn, bundled_migrations(), path=str(path))
        await enforce_foreign_keys(conn)
        db = SqliteDatabase(conn)
        began = datetime.now(UTC) - timedelta(days=30)
        text = reply_text(120)
        message_ids = itertools.count(10**17)
        session_rows, member_rows, round_rows, reply_rows, message_rows, vote_rows = (
            [],
            [],
            [],
            [],
            [],
            [],
        )
        reply_id = 0
        for session_id in range(1, sessions + 1):
            started = began + timedelta(minutes=4 * session_id)
            is_running = session_id % RUNNING_EVERY == 0
            session_rows.append(
                (
                    session_id,
                    guild_id,
                    1000 + session_id % 50,
                    10**15 + session_id,
                    42,
                    f"Stored council {session_id}",
                    "parallel",
                    ROUNDS,
                    "en",
                    SessionStatus.RUNNING if is_running else SessionStatus.FINISHED,
                    to_db_time(started),
                    None if is_running else to_db_time(started + timedelta(minutes=3)),
                )
            )
            for position, persona in enumerate(MEMBERS):
                member_rows.append(
                    (session_id, position, persona, persona.lower(), model_of(persona), "fake")
                )
            for number in range(1, ROUNDS + 1):
                at = to_db_time(started + timedelta(minutes=number))
                round_rows.append((session_id, number, at, at))
                for persona in MEMBERS:
                    reply_id += 1
                    reply_rows.append(
                        (
                            reply_id,
                            session_id,
                            number,
                            persona,
                            ReplyKind.ANSWER,
                            ReplyStatus.OK,
                            text,
                            400,
                            150,
                            0.0,
                            5.3,
                            1.0,
                            at,
                        )
                    )
                    message_rows.append((reply_id, 0, next(message_ids)))
                    vote_rows += [
                        (
                            reply_id,
                            10**16 + voter,
                            VoteValue.UP if voter % 3 else VoteValue.DOWN,
                            at,
                        )
                        for voter in range(VOTES_PER_REPLY)
                    ]
        async with db.writing() as tx:
            await tx.run_many(
                "INSERT INTO sessions (id, guild_id, channel_id, thread_id, host_id, topic,"
                " format, rounds, language, status, started_at, ended_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                session_rows,
            )
            await tx.run_many(
                "INSERT INTO members (session_id, position, persona, model_key, model, provider,"
                " role, color) VALUES (?, ?, ?, ?, ?, ?, 'member', '#5865F2')",
                member_rows,
            )
            await tx.run_many(
                "INSERT INTO rounds (session_id, number, started_at, finished_at)"
                " VALUES (?, ?, ?, ?)",
                round_rows,
            )
            await tx.run_many(
                "INSERT INTO replies (id, session_id, round_number, persona, kind, status, text,"
                " input_tokens, output_tokens, cost_usd, latency_s, first_token_s, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                reply_rows,
            )
            await tx.run_many(
                "INSERT INTO reply_messages (reply_id, position, message_id) VALUES (?, ?, ?)",
                message_rows,
            )
            await tx.run_many(
                "INSERT INTO votes (reply_id, user_id, value, updated_at) VALUES (?, ?, ?, ?)",
                vote_rows,
            )
    finally:
        await conn.close()


def _replace_database(source: Path, target: Path) -> None:
    """Make `target` a fresh copy of `source`, without the old copy's WAL files."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)


async def _check_store(path: Path, sessions: int) -> None:
    """Read the filled database back through the Store, as the bot will."""
    async with Store.open(path) as store:
        if await store.count_sessions() != sessions:
            raise RuntimeError("the filled database does not hold every council")
        record = await store.session_record(sessions // 2)
        if len(record.replies) != len(MEMBERS) * ROUNDS:
            raise RuntimeError("a filled council does not read back whole")


async def run(quick: bool, workdir: Path) -> list[Metric]:
    """Fill the database, then start the bot on copies of it and time each start."""
    size = QUICK if quick else FULL
    sessions, starts = int(size["sessions"]), int(size["starts"])
    async with Fakes() as fakes:
        place = fakes.add_place("Cold start")
        pristine = workdir / "pristine.db"
        filled_at = time.monotonic()
        await fill_store(pristine, sessions, place.guild.id)
        fill_s = time.monotonic() - filled_at
        await _check_store(pristine, sessions)
        (workdir / "council.toml").write_text(
            fakes.config({"four": Preset(MEMBERS)}), encoding="utf-8"
        )
        empty = BotProcess(fakes, workdir, dev_guild_id=None, is_probed=False, name="empty")
        try:
            empty_s = await empty.start()
        finally:
            await empty.stop()
        timings = []
        for attempt in range(starts):
            bot = BotProcess(
                fakes, workdir, dev_guild_id=None, is_probed=False, name=f"start-{attempt}"
            )
            await asyncio.to_thread(_replace_database, pristine, bot.db)
            try:
                timings.append(await bot.start())
            finally:
                await bot.stop()
    spread = ", ".join(f"{t:.2f}" for t in timings)
    return [
        Metric(
            NAME,
            "process start → ready (median)",
            statistics.median(timings),
            "s",
            at_most(3.0),
            detail=f"{sessions} stored councils; starts: {spread} s",
        ),
        Metric(NAME, "process start → ready, empty store", empty_s, "s"),
        Metric(NAME, "councils stored", sessions, detail=f"filled in {fill_s:.1f} s"),
    ]
