"""The bot process killed with SIGKILL mid-round and started again: the store stays
consistent, votes from before and after each count once, and the host resumes the council."""

from __future__ import annotations

import sqlite3

from bot.council.models import GuildSettings, ReplyKind, ReplyStatus, SessionStatus, VoteValue
from bot.discord_ui.views import vote_custom_id
from bot.store.store import Store
from tests.bot_process import BotProcess, poll, write_config
from tests.council.conftest import NAMES
from tests.fakediscord.rules import Kind
from tests.fakediscord.state import Perm


async def test_sigkill_mid_round_loses_nothing_and_the_council_resumes(
    fake_discord, discord_driver, fake_llm, tmp_path
):
    fake, driver = fake_discord, discord_driver
    guild = driver.create_guild("Kill")
    general = driver.create_text_channel(guild, "general")
    host = driver.create_member(guild, "host", permissions=Perm.MANAGE_THREADS)
    bob = driver.create_member(guild, "bob")
    write_config(tmp_path / "council.toml", fake_llm.base_url("openai"))
    db = tmp_path / "council.db"
    async with Store.open(db) as store:
        await store.save_guild_settings(GuildSettings(guild_id=guild.id, pause_between_rounds_s=3))
    for name in NAMES:
        fake_llm.script(f"{name.lower()}-model", reply=f"{name} in round one.")
    bot = BotProcess(fake, guild.id, tmp_path)
    # A killed process can't wind anything down; the next one meets the old buckets.
    fake.expect_violation(Kind.RATE_LIMITED)
    try:
        await bot.start()
        start = await driver.slash(host, general, "council start", topic="Kill -9", rounds=2)
        await start.wait_ack(timeout=10)

        async with Store.open(db) as store:

            async def round_one_done():
                sessions = await store.list_sessions(guild_id=guild.id, limit=1)
                if not sessions:
                    return None
                rounds = await store.rounds(sessions[0].id)
                return sessions[0] if any(r.number == 1 and r.finished_at for r in rounds) else None

            session = await poll(round_one_done)
            for name in NAMES:
                fake_llm.script(f"{name.lower()}-model", reply="never said", first_token_delay_s=60)

            async def first_reply():
                for reply in await store.replies(session.id, round_number=1):
                    if (
                        reply.persona == "Claude"
                        and len(reply.message_ids)
                        and any(
                            m.id == reply.message_ids[-1] and m.buttons
                            for m in driver.read(driver.threads_of(general)[0], as_user=bob)
                        )
                    ):
                        return reply
                return None

            claude = await poll(first_reply)
            message = claude.message_ids[-1]
            click = await driver.click(bob, message, vote_custom_id(claude.id, VoteValue.UP))
            await click.wait_ack(timeout=10)
            await fake.wait_for(lambda: fake_llm.in_flight() == 4, timeout=10, what="round two")
            await bot.kill()

            for name in NAMES:
                fake_llm.script(f"{name.lower()}-model", reply=f"{name} in round two.")
            await bot.start()
            assert (await store.get_session(session.id)).status is SessionStatus.PAUSED
            again = await driver.click(host, message, vote_custom_id(claude.id, VoteValue.UP))
            await again.wait_ack(timeout=10)
            assert await store.votes_for(claude.id) == (2, 0)

            thread = driver.threads_of(general)[0]
            resume = await driver.slash(host, thread, "council resume")
            assert "Resuming at round 2" in (await resume.wait_response(timeout=10)).content

            async def finished():
                stored = await store.get_session(session.id)
                return stored if stored.summary_message_id else None

            ended = await poll(finished, timeout=20)
            assert ended.status is SessionStatus.FINISHED
            answers = [
                (r.round_number, r.persona)
                for r in await store.replies(session.id)
                if r.kind is ReplyKind.ANSWER and r.status is ReplyStatus.OK
            ]
            assert sorted(answers) == sorted((n, p) for n in (1, 2) for p in NAMES)
            votes = await store.votes(session.id)
            assert sorted((v.user_id, v.value) for v in votes) == sorted(
                [(bob.id, VoteValue.UP), (host.id, VoteValue.UP)]
            )
    finally:
        await bot.stop()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
