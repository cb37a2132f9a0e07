"""`council-bot export`: a stored council as Markdown, JSON or HTML, run as a real subprocess."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.council.models import NewReply, NewSession, SessionStatus, VoteValue
from bot.render.export import counts_from_export
from bot.store.store import Store
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
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    # A config that does not exist: exporting must not need one. And a locale that can't
    # encode emoji, as on a bare server.
    env.update(COUNCIL_DB=str(db), COUNCIL_CONFIG=str(tmp_path / "missing.toml"), LC_ALL="C")
    env["PYTHONIOENCODING"] = "ascii"
    return subprocess.run(
        [sys.executable, "-m", "bot", "export", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


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
