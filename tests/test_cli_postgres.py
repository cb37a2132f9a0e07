"""`DATABASE_URL` and `council-bot migrate-store` from the shell: PostgreSQL as the operator
meets it, every mistake in one line."""

from __future__ import annotations

import re
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

from bot.council.models import NewReply, NewSession, VoteValue
from bot.store import Store
from tests.cli import council_bot as run_council_bot
from tests.pg import PgServer
from tests.ports import free_port

GUILD = 111111111111111111


def council_bot(
    tmp_path: Path, *args: str, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    """`council-bot ARGS` with no config, DATABASE_URL as given and no COUNCIL_DB."""
    env = {} if database_url is None else {"DATABASE_URL": database_url}
    done = run_council_bot(tmp_path, *args, **env)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


async def _installation(db: Path) -> tuple[int, int]:
    """A SQLite installation with a council, replies, votes and an audit entry; the ids of its
    session and of its last reply."""
    async with Store.open(db) as store:
        session = await store.create_session(NewSession(topic="Move me", guild_id=GUILD))
        await store.create_council(GUILD, "Elders", members=["Claude"])
        replies = [
            await store.add_reply(NewReply(session_id=session.id, round_number=1, persona="A"))
            for _ in range(3)
        ]
        await store.set_reply_messages(replies[0].id, [900, 901])
        await store.record_vote(replies[0].id, 7, VoteValue.UP)
        await store.audit(GUILD, 42, "session.start", session_id=session.id)
        return session.id, replies[-1].id


async def test_migrate_store_copies_every_table_with_its_ids_and_counts(tmp_path, pg: PgServer):
    db = tmp_path / "council.db"
    session_id, last_reply = await _installation(db)
    async with Store.open_read_only(db) as source:
        before = await source.session_record(session_id)
    async with pg.empty_database() as url:
        done = council_bot(tmp_path, "migrate-store", "--from", f"sqlite:///{db.name}", "--to", url)

        assert done.returncode == 0, done.stderr
        *table_lines, summary = done.stdout.splitlines()
        counts = {
            found[1]: (int(found[2]), int(found[3]))
            for found in (re.fullmatch(r"(\w+) +(\d+) -> +(\d+)", line) for line in table_lines)
            if found
        }
        assert len(counts) == len(table_lines)
        assert counts["sessions"] == (1, 1)
        assert counts["replies"] == (3, 3)
        assert counts["reply_messages"] == (2, 2)
        assert counts["votes"] == (1, 1)
        assert counts["audit_log"] == (1, 1)
        assert summary.startswith("Copied 9 rows in ")
        assert "every count matches" in summary
        async with Store.open(url) as target:
            assert await target.session_record(session_id) == before
            assert (await target.council_named(GUILD, "elders")).name == "Elders"
            # The identities go on after the copied ids.
            reply = await target.add_reply(
                NewReply(session_id=session_id, round_number=2, persona="A")
            )
            assert reply.id == last_reply + 1

        again = council_bot(tmp_path, "migrate-store", "--from", str(db), "--to", url)
        assert again.returncode == 2
        assert again.stderr.count("\n") == 1, again.stderr
        assert "already holds councils' data" in again.stderr
        assert "Traceback" not in again.stderr


async def test_commands_read_and_write_the_database_named_by_database_url(tmp_path, pg: PgServer):
    url = await pg.emptied()
    halted = council_bot(tmp_path, "halt", "--guild", str(GUILD), database_url=url)
    listed = council_bot(tmp_path, "audit", database_url=url)

    assert halted.returncode == 0, halted.stderr
    assert "guild.halt" in listed.stdout
    assert not (tmp_path / "data").exists(), "no SQLite file was made beside"
    async with Store.open(url) as store:
        assert (await store.guild_halt(GUILD)) is not None


@pytest.mark.parametrize(
    ("make_url", "expected"),
    [
        (lambda pg: "mysql://council@localhost/council", "DATABASE_URL must be a PostgreSQL URL"),
        (
            lambda pg: f"postgresql://council:hunter2@127.0.0.1:{free_port()}/council",
            "Can't reach the PostgreSQL server of postgresql://council:***@127.0.0.1",
        ),
        (
            lambda pg: pg.url("no_such_database").replace("council@", "council:hunter2@"),
            "The PostgreSQL server has no such database",
        ),
        (
            lambda pg: pg.url().replace("council@", "nobody:hunter2@"),
            "PostgreSQL refused the login to postgresql://nobody:***@",
        ),
        (lambda pg: "postgresql://council@127.0.0.1:notaport/x", "not a usable PostgreSQL URL"),
        (
            lambda pg: "postgresql://council@127.0.0.1:70000/x",
            "not a usable PostgreSQL URL (postgresql://council@127.0.0.1:70000/x): connect(): "
            "port must be 0-65535. E.g. postgresql://",
        ),
    ],
    ids=["not-postgres", "unreachable", "no-database", "unknown-role", "bad-port", "port-range"],
)
def test_a_database_url_that_cannot_be_used_is_one_line(tmp_path, pg, make_url, expected):
    done = council_bot(tmp_path, "audit", database_url=make_url(pg))

    assert done.returncode == 2
    assert done.stderr.startswith("council-bot: ")
    assert expected in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "hunter2" not in done.stderr
    assert done.stdout == ""


def test_a_database_url_with_no_council_schema_is_refused_by_read_only_commands(tmp_path, pg):
    done = council_bot(tmp_path, "audit", database_url=pg.url())

    assert done.returncode == 2
    assert "holds no councils" in done.stderr
    assert done.stderr.count("\n") == 1


def test_migrate_store_refuses_a_target_that_is_not_postgresql(tmp_path):
    done = council_bot(tmp_path, "migrate-store", "--from", "x.db", "--to", "sqlite:///y.db")

    assert done.returncode == 2
    assert done.stderr == "council-bot: --to must be a postgresql:// URL, not 'sqlite:///y.db'.\n"


def test_migrate_store_names_a_missing_source_by_its_option(tmp_path, pg: PgServer):
    done = council_bot(
        tmp_path, "migrate-store", "--from", "sqlite:///nope.db", "--to", pg.url("postgres")
    )

    assert done.returncode != 0
    assert done.stderr == (
        "council-bot: There is no SQLite database at nope.db: give --from the file of the "
        "installation to copy, as sqlite:///path/to/council.db.\n"
    )


async def test_migrate_store_says_which_table_postgresql_refused_a_row_of(tmp_path, pg: PgServer):
    db = tmp_path / "council.db"
    await _installation(db)
    # An orphan vote, left while foreign keys were off: SQLite holds it, PostgreSQL refuses it.
    with closing(sqlite3.connect(db)) as conn, conn:
        conn.execute("INSERT INTO votes VALUES (404, 7, 'up', '2025-01-31T12:00:00+00:00')")
    async with pg.empty_database() as url:
        done = council_bot(tmp_path, "migrate-store", "--from", str(db), "--to", url)

        assert done.returncode == 2
        # The lines before it are the target's migrations, logged as it is brought up to date.
        error = done.stderr.splitlines()[-1]
        assert error.startswith(f"council-bot: Can't copy {db} into {url}: "), done.stderr
        assert "PostgreSQL refused a row of table votes (" in error
        assert "(reply_id)=(404) is not present" in error
        assert error.endswith("nothing was written.")
        assert "Can't open" not in done.stderr
        assert "Traceback" not in done.stderr
        async with Store.open(url) as target:
            assert await target.count_sessions() == 0
