"""`council-bot export`: a stored council as Markdown, JSON or HTML, run as a real subprocess."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from bot.council.models import NewReply, NewSession, SessionStatus, VoteValue
from bot.render.export import counts_from_export
from bot.store import bundled_migrations
from bot.store.store import Store
from tests.cli import database_command
from tests.records import Make

VOTER = 1234567890123456789


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "data" / "council.db"


async def _fill(db: Path) -> int:
    """One finished council: Claude and Gemini answered; Claude drew 2 up, Gemini 1 down."""
    async with Store.open(db) as store:
        await store.create_session(NewSession(topic="An earlier council", guild_id=1))
        session = await store.create_session(NewSession(topic="Trains or cars?", guild_id=1))
        await store.add_members(
            session.id,
            [
                Make.member(session.id, i, name, model=f"{name.lower()}-model")
                for i, name in enumerate(("Claude", "Gemini"))
            ],
        )
        await store.start_round(session.id, 1)
        claude, gemini = [
            await store.add_reply(
                NewReply(
                    session_id=session.id, round_number=1, persona=name, text=f"{name}: trains 🚆"
                )
            )
            for name in ("Claude", "Gemini")
        ]
        await store.record_vote(claude.id, VOTER, VoteValue.UP)
        await store.record_vote(claude.id, 2, VoteValue.UP)
        await store.record_vote(gemini.id, VOTER, VoteValue.DOWN)
        await store.set_session_status(session.id, SessionStatus.FINISHED)
        assert await store.vote_counts(session.id) == {claude.id: (2, 0), gemini.id: (0, 1)}
        return session.id


def _cli(tmp_path: Path, db: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return database_command(tmp_path, db, "export", *args)


async def test_json_export_prints_the_council_with_the_stores_vote_counts(tmp_path, db):
    session_id = await _fill(db)

    result = _cli(tmp_path, db, str(session_id), "--format", "json")

    assert result.returncode == 0, result.stderr.decode()
    document = json.loads(result.stdout)
    assert document["session"]["topic"] == "Trains or cars?"
    assert [r["text"] for r in document["replies"]] == ["Claude: trains 🚆", "Gemini: trains 🚆"]
    async with Store.open(db) as store:
        assert counts_from_export(result.stdout) == await store.vote_counts(session_id)
    assert "votes" not in document


async def test_with_votes_the_json_export_says_who_voted_what(tmp_path, db):
    session_id = await _fill(db)

    result = _cli(tmp_path, db, str(session_id), "--format", "json", "--with-votes")

    assert result.returncode == 0, result.stderr.decode()
    votes = json.loads(result.stdout)["votes"]
    assert sorted((v["user_id"], v["value"]) for v in votes) == [
        ("1234567890123456789", "down"),
        ("1234567890123456789", "up"),
        ("2", "up"),
    ]


async def test_markdown_export_is_the_default_and_can_go_to_a_file(tmp_path, db):
    session_id = await _fill(db)
    output = tmp_path / "out" / "council.md"

    printed = _cli(tmp_path, db, str(session_id))
    written = _cli(tmp_path, db, str(session_id), "--output", str(output))

    assert printed.returncode == 0, printed.stderr.decode()
    markdown = printed.stdout.decode()
    assert markdown.startswith(f"# Council #{session_id}: Trains or cars?")
    assert "### Claude — 👍 2 👎 0" in markdown
    assert written.returncode == 0, written.stderr.decode()
    assert output.read_text(encoding="utf-8") == markdown
    assert written.stdout.decode().strip() == f"Council #{session_id} written to {output}"


async def test_an_unknown_council_is_one_clear_line_and_exit_2(tmp_path, db):
    await _fill(db)

    result = _cli(tmp_path, db, "99", "--format", "json")

    assert result.returncode == 2
    assert result.stdout == b""
    assert result.stderr.decode().strip() == f"council-bot: There is no council #99 in {db}."


def test_a_missing_database_is_reported_and_not_created(tmp_path, db):
    result = _cli(tmp_path, db, "1")

    assert result.returncode == 2
    assert result.stderr.decode().strip() == (
        f"council-bot: There is no database at {db}: set COUNCIL_DB to Council's."
    )
    assert not db.exists()


async def test_voters_are_only_for_json(tmp_path, db):
    session_id = await _fill(db)

    result = _cli(tmp_path, db, str(session_id), "--with-votes")

    assert result.returncode == 2
    assert "--with-votes needs --format json" in result.stderr.decode()


async def test_html_export_writes_one_page_with_the_votes_that_loads_nothing(tmp_path, db):
    session_id = await _fill(db)
    output = tmp_path / "site" / f"council-{session_id}.html"

    printed = _cli(tmp_path, db, str(session_id), "--format", "html")
    written = _cli(tmp_path, db, str(session_id), "--format", "html", "--output", str(output))

    assert printed.returncode == 0, printed.stderr.decode()
    page = printed.stdout.decode()
    assert page.startswith("<!doctype html>")
    assert f"<title>Council #{session_id}: Trains or cars?</title>" in page
    claude, gemini = re.findall(r'<span class="votes" data-up="(\d+)" data-down="(\d+)"', page)
    assert (claude, gemini) == (("2", "0"), ("0", "1"))
    assert "Claude: trains 🚆" in page
    assert "🏆 <strong>Claude</strong> wins" in page
    assert 'src="data:image/png;base64,' in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert written.returncode == 0, written.stderr.decode()
    assert output.read_text(encoding="utf-8") == page


async def test_export_reads_beside_the_running_bot_without_changing_a_byte(tmp_path, db):
    session_id = await _fill(db)
    # A backup made with VACUUM INTO is in rollback-journal mode; opening it for writing
    # would switch it to WAL, which rewrites the file's header.
    backup = tmp_path / "backup.db"
    with closing(sqlite3.connect(db)) as raw:
        raw.execute("VACUUM INTO ?", (str(backup),))
    async with Store.open(db) as running:
        # Committed, but only to the write-ahead log while the bot holds the database open.
        await running.set_session_status(session_id, SessionStatus.STOPPED)
        files = (db, db.with_name(f"{db.name}-wal"), backup)
        before = {path: path.read_bytes() for path in files}

        live = _cli(tmp_path, db, str(session_id), "--format", "json")
        copy = _cli(tmp_path, backup, str(session_id), "--format", "json")

        assert {path: path.read_bytes() for path in files} == before
    assert live.returncode == copy.returncode == 0, live.stderr + copy.stderr
    assert json.loads(live.stdout)["session"]["status"] == "stopped"
    assert json.loads(copy.stdout)["session"]["status"] == "finished"


async def test_an_empty_or_older_database_is_left_alone_with_one_line(tmp_path, db):
    empty = tmp_path / "empty.db"
    empty.touch()
    older = len(bundled_migrations()) - 1
    async with Store.open(db) as store:
        await store.create_session(NewSession(topic="Trains?", guild_id=1))
    # Stamped one version back: whatever the newest migration changed, the file reads as older.
    with closing(sqlite3.connect(db)) as raw:
        raw.execute(f"PRAGMA user_version = {older}")
    before = db.read_bytes()

    from_empty = _cli(tmp_path, empty, "1")
    from_older = _cli(tmp_path, db, "1")

    assert from_empty.returncode == from_older.returncode == 2
    assert from_empty.stdout == from_older.stdout == b""
    assert from_empty.stderr.decode().splitlines() == [
        f"council-bot: The database {empty} holds no councils (it is empty, or not Council's): "
        "set COUNCIL_DB to Council's."
    ]
    assert from_older.stderr.decode().splitlines() == [
        f"council-bot: The database {db} has schema version {older}, older than this "
        f"Council's {older + 1}: run `council-bot run` once to upgrade it. "
        "The database was not changed."
    ]
    assert empty.read_bytes() == b""
    assert db.read_bytes() == before
    with closing(sqlite3.connect(db)) as raw:
        assert raw.execute("PRAGMA user_version").fetchone() == (older,)


def test_a_folder_or_a_file_that_is_not_a_database_is_one_line(tmp_path, db):
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"not a database at all " * 100)

    from_folder = _cli(tmp_path, tmp_path, "1")
    from_notes = _cli(tmp_path, notes, "1")

    assert from_folder.returncode == from_notes.returncode == 2
    assert from_folder.stderr.decode().splitlines() == [
        f"council-bot: COUNCIL_DB is a folder ({tmp_path}): set it to a database file, e.g. "
        f"{tmp_path / 'council.db'}."
    ]
    assert from_notes.stderr.decode().splitlines() == [
        f"council-bot: Can't read the database {notes}: file is not a database."
    ]
    assert notes.read_bytes() == b"not a database at all " * 100
