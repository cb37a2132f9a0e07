"""`council-bot halt` and `resume-all` from the shell: what they write, and their refusals."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from tests.cli import database_command

GUILD = 111111111111111111


async def _database(db: Path) -> None:
    async with Store.open(db):
        pass


async def test_halt_and_resume_all_write_the_halt_and_audit_the_operator(tmp_path):
    db = tmp_path / "council.db"
    await _database(db)

    halted = database_command(tmp_path, db, "halt", "--guild", str(GUILD), "--reason", " Raid\n")
    async with Store.open(db) as store:
        halt = await store.guild_halt(GUILD)
    resumed = database_command(tmp_path, db, "resume-all", "--guild", str(GUILD))
    again = database_command(tmp_path, db, "resume-all", "--guild", str(GUILD))

    assert halted.returncode == 0, halted.stderr.decode()
    assert halted.stdout.decode() == (
        f"Halted every council in server {GUILD}: a running bot stops them within a few seconds, "
        f"and none starts until `council-bot resume-all --guild {GUILD}`.\n"
    )
    assert (halt.reason, halt.halted_by, halt.by_name) == ("Raid", None, "")
    assert resumed.returncode == 0
    assert again.returncode == 2
    assert again.stderr.decode() == (
        f"council-bot: Server {GUILD} is not halted: there is nothing to resume.\n"
    )
    async with Store.open(db) as store:
        assert await store.guild_halt(GUILD) is None
        log = await store.audit_log(GUILD)
    assert [(e.user_id, e.action, e.detail) for e in reversed(log)] == [
        (None, "guild.halt", "operator (council-bot halt): Raid"),
        (None, "guild.resume", "operator (council-bot resume-all)"),
    ]


def test_a_bad_server_id_is_refused_in_one_line(tmp_path):
    result = database_command(tmp_path, tmp_path / "council.db", "halt", "--guild", "abc")

    assert result.returncode == 2
    assert result.stderr.decode() == (
        "council-bot: --guild must be a server id, a whole number above 0, not 'abc'.\n"
    )


def test_a_missing_database_is_refused_and_not_created(tmp_path):
    db = tmp_path / "nowhere" / "council.db"

    result = database_command(tmp_path, db, "halt", "--guild", str(GUILD))

    assert result.returncode == 2
    assert result.stderr.decode() == (
        f"council-bot: There is no database at {db}: set COUNCIL_DB to Council's.\n"
    )
    assert not db.parent.exists()


def test_a_reason_longer_than_discords_is_refused(tmp_path):
    result = database_command(
        tmp_path, tmp_path / "council.db", "halt", "--guild", str(GUILD), "--reason", "x" * 301
    )

    assert result.returncode == 2
    assert result.stderr.decode() == "council-bot: --reason must be at most 300 characters.\n"
