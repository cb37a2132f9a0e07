"""`council-bot audit`: hosts' recorded actions as a table, read without touching the database."""

from __future__ import annotations

import sqlite3
import subprocess
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.council.models import NewSession
from bot.store import Store, bundled_migrations
from tests.cli import database_command

GUILD, OTHER_GUILD = 111111111111111111, 222222222222222222
HOST, ADMIN = 1234567890123456789, 42
START = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "council.db"


def _clock():
    moments = (START + timedelta(minutes=n) for n in range(1000))
    return lambda: next(moments)


async def _fill(db: Path) -> int:
    """Two servers' actions, a minute apart; returns the council they are about."""
    async with Store.open(db, now=_clock()) as store:
        session = await store.create_session(NewSession(topic="Trains?", guild_id=GUILD))
        await store.audit(GUILD, HOST, "session.start", session.id)
        await store.audit(OTHER_GUILD, HOST, "session.start")
        await store.audit(GUILD, ADMIN, "settings", detail="budget_usd,\nmax_sessions")
        await store.audit(GUILD, HOST, "session.pause", session.id)
        await store.audit(GUILD, None, "session.autostop", session.id, "Budget spent 🚆")
        return session.id


def _cli(tmp_path: Path, db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return database_command(tmp_path, db, "audit", *args)


def _lines(result: subprocess.CompletedProcess[bytes]) -> list[str]:
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    return result.stdout.decode().splitlines()


async def test_audit_prints_one_servers_actions_newest_first_as_a_table(tmp_path, db):
    session_id = await _fill(db)

    lines = _lines(_cli(tmp_path, db, "--guild", str(GUILD)))

    assert lines == [
        "time (UTC)           server              member               action"
        "            council  detail",
        f"2025-03-01 09:35:00  {GUILD}  automatic            session.autostop  #{session_id}"
        "       Budget spent 🚆",
        f"2025-03-01 09:34:00  {GUILD}  {HOST}  session.pause     #{session_id}",
        f"2025-03-01 09:33:00  {GUILD}  42                   settings          -        "
        "budget_usd, max_sessions",
        f"2025-03-01 09:31:00  {GUILD}  {HOST}  session.start     #{session_id}",
    ]


async def test_audit_filters_by_member_and_action_and_limits_across_servers(tmp_path, db):
    await _fill(db)

    by_host = _lines(_cli(tmp_path, db, "--member", str(HOST)))
    starts = _lines(_cli(tmp_path, db, "--action", "session.start", "--limit", "1"))
    nothing = _lines(_cli(tmp_path, db, "--guild", str(GUILD), "--member", "7"))

    assert [line.split()[2:5] for line in by_host[1:]] == [
        [str(GUILD), str(HOST), "session.pause"],
        [str(OTHER_GUILD), str(HOST), "session.start"],
        [str(GUILD), str(HOST), "session.start"],
    ]
    assert len(starts) == 2
    assert starts[1].split()[2:6] == [str(OTHER_GUILD), str(HOST), "session.start", "-"]
    assert nothing == ["No recorded actions match."]


async def test_audit_reads_beside_the_running_bot_without_changing_a_byte(tmp_path, db):
    await _fill(db)
    # A backup made with VACUUM INTO is in rollback-journal mode; opening it for writing
    # would switch it to WAL, which rewrites the file's header.
    backup = tmp_path / "backup.db"
    with closing(sqlite3.connect(db)) as raw:
        raw.execute("VACUUM INTO ?", (str(backup),))
    async with Store.open(db) as running:
        # Committed, but only to the write-ahead log while the bot holds the database open.
        await running.audit(GUILD, HOST, "session.resume")
        files = (db, db.with_name(f"{db.name}-wal"), backup)
        before = {path: path.read_bytes() for path in files}

        live, copy = _cli(tmp_path, db), _cli(tmp_path, backup)

        assert {path: path.read_bytes() for path in files} == before
    assert len(_lines(live)) == 7
    assert _lines(live)[1].split()[2:5] == [str(GUILD), str(HOST), "session.resume"]
    assert _lines(copy) == [_lines(live)[0], *_lines(live)[2:]]


async def test_an_older_database_is_left_alone_with_one_line_saying_to_run_the_bot(tmp_path, db):
    older = len(bundled_migrations()) - 1
    async with Store.open(db, migrations=bundled_migrations()[:older]) as store:
        await store.audit(GUILD, HOST, "session.start")
    before = db.read_bytes()

    result = _cli(tmp_path, db, "--guild", str(GUILD))

    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        f"council-bot: The database {db} has schema version {older}, older than this "
        f"Council's {older + 1}: run `council-bot run` once to upgrade it. "
        "The database was not changed."
    ]
    assert db.read_bytes() == before
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (older,)


def test_a_missing_database_is_one_line_and_is_not_created(tmp_path, db):
    result = _cli(tmp_path, db)

    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"council-bot: There is no database at {db}: set COUNCIL_DB to Council's."
    ]
    assert not db.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--guild", "my-server"), "--guild must be a server id, a whole number above 0, "),
        (("--member", "@bob"), "--member must be a user id, a whole number above 0, "),
        (("--limit", "0"), "--limit must be a count, a whole number above 0, "),
        (("--guild", str(2**63)), "--guild must be a server id, a whole number above 0, "),
    ],
)
async def test_bad_input_is_one_clear_line_and_exit_2(tmp_path, db, args, message):
    await _fill(db)

    result = _cli(tmp_path, db, *args)

    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().splitlines() == [f"council-bot: {message}not {args[1]!r}."]


def test_a_file_that_is_not_a_database_is_one_line(tmp_path, db):
    db.parent.mkdir()
    db.write_bytes(b"not a database at all " * 100)

    result = _cli(tmp_path, db)

    assert result.returncode == 2
    assert result.stderr.decode().splitlines() == [
        f"council-bot: Can't read the database {db}: file is not a database."
    ]
