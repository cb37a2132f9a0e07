"""The migration runner: fresh databases, upgrades, failures and databases from the future."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import pytest

from bot.council.models import NewSession
from bot.store import (
    Migration,
    MigrationError,
    SchemaTooNewError,
    Store,
    bundled_migrations,
    load_migrations,
)
from bot.store.db import connect
from bot.store.migrate import split_statements

EXPECTED_TABLES = {
    "sessions",
    "members",
    "rounds",
    "replies",
    "reply_messages",
    "votes",
    "audience_questions",
    "guild_settings",
    "persona_overrides",
    "audit_log",
}


def user_version(path) -> int:
    with closing(sqlite3.connect(path)) as raw:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])


def tables(path) -> set[str]:
    with closing(sqlite3.connect(path)) as raw:
        found = raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {name for (name,) in found} - {"sqlite_sequence"}


def test_bundled_migrations_start_with_the_initial_schema_and_number_without_gaps():
    migrations = bundled_migrations()
    assert migrations[0].version == 1
    assert migrations[0].name == "initial"
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


async def test_a_fresh_database_gets_every_table_and_the_latest_user_version(db_path):
    async with Store.open(db_path):
        pass

    assert db_path.exists(), "the missing parent folder was created"
    assert user_version(db_path) == len(bundled_migrations())
    assert tables(db_path) >= EXPECTED_TABLES


async def test_the_store_runs_in_wal_mode(db_path):
    async with Store.open(db_path):
        with closing(sqlite3.connect(db_path)) as raw:
            assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_an_old_database_is_upgraded_and_keeps_its_data(db_path, tmp_path):
    bundled = bundled_migrations()
    # Build the database as the very first release would have: only 0001 applied, and a
    # session written with that release's columns (today's code writes newer ones).
    async with Store.open(db_path, migrations=bundled[:1]):
        pass
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute(
            "INSERT INTO sessions (guild_id, topic, format, rounds, language, status, started_at,"
            " stop_reason) VALUES (3, 'Old times', 'parallel', 3, 'English', 'finished',"
            " '2025-01-01T00:00:00.000000+00:00', 'done')"
        )
    assert user_version(db_path) == 1

    # A later release's migrations folder: the real files, then one more written for this test.
    folder = tmp_path / "migrations"
    folder.mkdir()
    for migration in bundled:
        (folder / f"{migration.version:04d}_{migration.name}.sql").write_text(
            migration.sql, encoding="utf-8"
        )
    next_version = len(bundled) + 1
    (folder / f"{next_version:04d}_add_notes.sql").write_text(
        "CREATE TABLE notes (session_id INTEGER NOT NULL REFERENCES sessions (id), body TEXT);\n"
        "-- A semicolon in a comment; and in a string must not split a statement.\n"
        "INSERT INTO notes (session_id, body) SELECT id, 'migrated; kept' FROM sessions;\n",
        encoding="utf-8",
    )
    upgraded = load_migrations(folder)
    assert [m.version for m in upgraded] == list(range(1, next_version + 1))

    async with Store.open(db_path, migrations=upgraded) as store:
        session = await store.get_session(1)
    assert session is not None
    assert (session.topic, session.guild_id, session.status) == ("Old times", 3, "finished")
    assert session.stop_reason == "done"
    assert session.council_id is None
    assert user_version(db_path) == next_version
    with closing(sqlite3.connect(db_path)) as raw:
        assert raw.execute("SELECT session_id, body FROM notes").fetchall() == [
            (session.id, "migrated; kept")
        ]


async def test_a_failing_migration_is_rolled_back_entirely(db_path):
    bundled = bundled_migrations()
    async with Store.open(db_path):
        pass
    broken = Migration(
        len(bundled) + 1,
        "broken",
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);\n",
    )

    with pytest.raises(MigrationError, match="broken failed and was rolled back"):
        async with Store.open(db_path, migrations=[*bundled, broken]):
            pass

    assert user_version(db_path) == len(bundled)
    assert "half_done" not in tables(db_path)


async def test_a_migration_that_breaks_foreign_keys_is_refused(db_path):
    bundled = bundled_migrations()
    orphan = Migration(
        len(bundled) + 1,
        "orphan",
        "INSERT INTO replies (session_id, round_number, persona, kind, status, text, created_at)"
        " VALUES (999, 1, 'Ghost', 'answer', 'ok', '', '2025-01-01T00:00:00.000000+00:00');",
    )

    with pytest.raises(MigrationError, match="breaking foreign keys"):
        async with Store.open(db_path, migrations=[*bundled, orphan]):
            pass

    assert user_version(db_path) == len(bundled)


async def test_a_database_newer_than_the_code_is_refused_and_left_untouched(db_path):
    async with Store.open(db_path) as store:
        await store.create_session(NewSession(topic="From the future"))
    future = len(bundled_migrations()) + 3
    with closing(sqlite3.connect(db_path)) as raw:
        raw.execute(f"PRAGMA user_version = {future}")

    with pytest.raises(SchemaTooNewError) as refused:
        async with Store.open(db_path):
            pass

    message = str(refused.value)
    assert str(db_path) in message
    assert f"schema version {future}" in message
    assert f"up to {len(bundled_migrations())}" in message
    assert "Upgrade Council" in message
    assert user_version(db_path) == future


async def test_two_stores_opening_a_fresh_file_at_once_migrate_it_once(db_path):
    async def open_and_count() -> int:
        async with Store.open(db_path) as store:
            return await store.count_sessions()

    assert await asyncio.gather(open_and_count(), open_and_count()) == [0, 0]
    assert user_version(db_path) == len(bundled_migrations())


async def test_the_switch_to_wal_is_asked_again_when_sqlite_says_locked_at_once(db_path):
    # Of two connections switching a new file to WAL together, SQLite refuses one at once
    # ("database is locked") instead of making it wait. A busy timeout of 0 gets that same
    # answer from a lock another connection holds for a moment.
    db_path.parent.mkdir(parents=True, exist_ok=True)
    holder = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    with closing(holder):
        holder.execute("CREATE TABLE t (x)")
        holder.execute("BEGIN")
        holder.execute("SELECT * FROM t").fetchall()
        asyncio.get_running_loop().call_later(0.1, holder.execute, "COMMIT")
        conn = await connect(db_path, busy_timeout_s=0)
        try:
            [mode] = await conn.execute_fetchall("PRAGMA journal_mode")
            assert tuple(mode) == ("wal",)
        finally:
            await conn.close()


async def test_open_refuses_a_migration_list_with_a_gap(db_path):
    first = bundled_migrations()[0]
    with pytest.raises(MigrationError, match="out of sequence"):
        async with Store.open(db_path, migrations=[first, Migration(3, "skipped", "")]):
            pass


def test_load_migrations_refuses_a_misnamed_sql_file(tmp_path):
    (tmp_path / "0001_initial.sql").write_text("CREATE TABLE a (x);", encoding="utf-8")
    (tmp_path / "2_Second.sql").write_text("CREATE TABLE b (x);", encoding="utf-8")
    with pytest.raises(MigrationError, match=r"2_Second\.sql"):
        load_migrations(tmp_path)


def test_load_migrations_refuses_duplicate_numbers(tmp_path):
    (tmp_path / "0001_initial.sql").write_text("CREATE TABLE a (x);", encoding="utf-8")
    (tmp_path / "0001_again.sql").write_text("CREATE TABLE b (x);", encoding="utf-8")
    with pytest.raises(MigrationError, match="out of sequence"):
        load_migrations(tmp_path)


def test_load_migrations_orders_by_number_and_ignores_other_files(tmp_path):
    (tmp_path / "0002_second.sql").write_text("CREATE TABLE b (x);", encoding="utf-8")
    (tmp_path / "0001_first.sql").write_text("CREATE TABLE a (x);", encoding="utf-8")
    (tmp_path / "README.md").write_text("not a migration", encoding="utf-8")

    assert [(m.version, m.name) for m in load_migrations(tmp_path)] == [
        (1, "first"),
        (2, "second"),
    ]


def test_split_statements_respects_strings_comments_and_trigger_bodies():
    script = """
        -- header; with a semicolon
        CREATE TABLE a (x TEXT DEFAULT 'a;b'); CREATE TABLE b (y);
        CREATE TRIGGER t AFTER INSERT ON a BEGIN
            INSERT INTO b VALUES (1);
            INSERT INTO b VALUES (2);
        END;
        -- trailing comment
    """
    statements = split_statements(script)

    assert len(statements) == 3
    assert statements[0].endswith("DEFAULT 'a;b');")
    assert statements[1] == "CREATE TABLE b (y);"
    assert statements[2].startswith("CREATE TRIGGER")
    assert statements[2].endswith("END;")


def test_split_statements_refuses_an_unterminated_statement():
    with pytest.raises(MigrationError, match="unterminated"):
        split_statements("CREATE TABLE a (x);\nCREATE TABLE b (y)")


async def test_sessions_from_before_0006_have_no_locale_and_new_ones_keep_theirs(db_path):
    before = [m for m in bundled_migrations() if m.version < 6]
    async with Store.open(db_path, migrations=before):
        pass
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute(
            "INSERT INTO sessions (guild_id, topic, format, rounds, language, status, started_at)"
            " VALUES (3, 'Old times', 'parallel', 3, 'ru', 'finished',"
            " '2025-01-01T00:00:00.000000+00:00')"
        )

    async with Store.open(db_path) as store:
        old = await store.get_session(1)
        new = await store.create_session(NewSession(topic="Trains?", language="ru", locale="ru"))
        stored = await store.get_session(new.id)

    assert user_version(db_path) >= 6
    assert old is not None
    assert (old.topic, old.language, old.locale) == ("Old times", "ru", "")
    assert stored is not None
    assert stored.locale == "ru"
