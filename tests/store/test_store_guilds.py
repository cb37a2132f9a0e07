"""Guild settings, persona overrides and the audit log round-trip through a real SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.council.models import GuildSettings, PersonaOverride


async def test_guild_settings_default_until_saved(store):
    assert await store.guild_settings(5) == GuildSettings(guild_id=5)


async def test_guild_settings_round_trip_and_stay_per_guild(store):
    settings = GuildSettings(
        guild_id=5,
        host_role_ids=(1, 2),
        allowed_channel_ids=(3,),
        voter_role_id=4,
        min_account_age_days=7,
        vote_grace_s=30,
        budget_usd=2.5,
        budget_tokens=100_000,
        max_rounds=6,
    )
    await store.save_guild_settings(settings)
    await store.save_guild_settings(GuildSettings(guild_id=6, max_rounds=2))

    assert await store.guild_settings(5) == settings
    assert (await store.guild_settings(6)).max_rounds == 2


async def test_saving_guild_settings_again_replaces_them(store):
    await store.save_guild_settings(GuildSettings(guild_id=5, host_role_ids=(1,), max_rounds=4))
    await store.save_guild_settings(GuildSettings(guild_id=5, voter_role_id=9))

    assert await store.guild_settings(5) == GuildSettings(guild_id=5, voter_role_id=9)


async def test_stored_settings_ignore_keys_a_newer_version_dropped(store, raw_sql):
    await store.save_guild_settings(GuildSettings(guild_id=5, max_rounds=4))
    await raw_sql(
        "UPDATE guild_settings SET settings_json = ? WHERE guild_id = 5",
        ('{"max_rounds": 4, "retired_setting": true}',),
    )

    assert await store.guild_settings(5) == GuildSettings(guild_id=5, max_rounds=4)


def _override(persona: str, **fields: object) -> PersonaOverride:
    values: dict[str, object] = {
        "guild_id": 5,
        "persona": persona,
        "updated_at": datetime(2025, 2, 1, tzinfo=UTC),
    }
    values.update(fields)
    return PersonaOverride.model_validate(values)


async def test_persona_overrides_round_trip_by_persona(store):
    claude = _override(
        "Claude",
        display_name="Claudette",
        avatar_url="https://example.org/c.png",
        color="#D97757",
        style="Terse.",
        updated_by=42,
    )
    gemini = _override("Gemini", style="Verbose.")
    await store.save_persona_override(claude)
    await store.save_persona_override(gemini)
    await store.save_persona_override(_override("Claude", guild_id=6))

    assert await store.persona_overrides(5) == {"Claude": claude, "Gemini": gemini}
    assert list(await store.persona_overrides(6)) == ["Claude"]
    assert await store.persona_overrides(7) == {}


async def test_saving_an_override_again_replaces_every_field(store):
    await store.save_persona_override(_override("Claude", display_name="Old", style="Old."))
    newer = _override("Claude", color="#000000", updated_at=datetime(2025, 3, 1, tzinfo=UTC))
    await store.save_persona_override(newer)

    assert await store.persona_overrides(5) == {"Claude": newer}


async def test_override_times_in_other_zones_come_back_as_the_same_moment_in_utc(store):
    tokyo = timezone(timedelta(hours=9))
    await store.save_persona_override(
        _override("Claude", updated_at=datetime(2025, 2, 1, 9, tzinfo=tokyo))
    )

    stored = (await store.persona_overrides(5))["Claude"].updated_at
    assert stored == datetime(2025, 2, 1, 0, tzinfo=UTC)
    assert stored.tzinfo is UTC


async def test_clear_persona_override_removes_only_that_persona(store):
    await store.save_persona_override(_override("Claude"))
    await store.save_persona_override(_override("Gemini"))

    assert await store.clear_persona_override(5, "Claude") is True
    assert await store.clear_persona_override(5, "Claude") is False
    assert list(await store.persona_overrides(5)) == ["Gemini"]


async def test_audit_log_lists_a_guilds_actions_newest_first(store, make, clock):
    session = await make.session()
    first = await store.audit(5, 42, "session.stop", session_id=session.id, detail="too spicy")
    assert (first.guild_id, first.user_id, first.action) == (5, 42, "session.stop")
    assert (first.session_id, first.detail, first.at) == (session.id, "too spicy", clock.current)
    second = await store.audit(5, 43, "settings.edit")
    await store.audit(6, 42, "settings.edit")

    assert await store.audit_log(5) == [second, first]
    assert await store.audit_log(5, limit=1) == [second]
    assert second.session_id is None
    assert second.detail == ""


async def test_audit_log_rejects_a_limit_below_one(store):
    with pytest.raises(ValueError, match="limit"):
        await store.audit_log(5, limit=0)


async def _audit_trail(store, session_id):
    """Guild 5: 12 actions by members 42 and 43 and one automatic stop; guild 6: two more."""
    written = []
    for n in range(12):
        user, action = (42, "session.next") if n % 3 else (43, "session.stop")
        written.append(await store.audit(5, user, action, session_id=session_id, detail=str(n)))
    written.append(await store.audit(5, None, "session.autostop", session_id, "Budget spent."))
    await store.audit(6, 42, "session.next", session_id=session_id)
    await store.audit(6, 42, "session.stop")
    return written[::-1]  # newest first


async def test_audit_log_filters_by_member_and_action_within_the_guild(store, make):
    session = await make.session()
    newest_first = await _audit_trail(store, session.id)

    by_42 = await store.audit_log(5, user_id=42)
    stops = await store.audit_log(5, action="session.stop")
    stops_by_42 = await store.audit_log(5, user_id=42, action="session.stop")

    assert by_42 == [e for e in newest_first if e.user_id == 42]
    assert len(by_42) == 8
    assert stops == [e for e in newest_first if e.action == "session.stop"]
    assert {e.user_id for e in stops} == {43}
    assert stops_by_42 == []
    assert await store.audit_log(5, action="session.autostop") == [newest_first[0]]
    assert all(e.guild_id == 5 for e in (*by_42, *stops))
    assert await store.count_audit(5) == 13
    assert await store.count_audit(5, user_id=42) == 8
    assert await store.count_audit(5, action="session.stop") == 4
    assert await store.count_audit(5, user_id=43, action="session.next") == 0
    assert await store.count_audit(7) == 0


async def test_audit_log_pages_newest_first_without_gaps_or_repeats(store, make):
    session = await make.session()
    newest_first = await _audit_trail(store, session.id)

    pages = [await store.audit_log(5, 5, offset=offset) for offset in (0, 5, 10, 15)]

    assert [len(page) for page in pages] == [5, 5, 3, 0]
    assert [e for page in pages for e in page] == newest_first
    assert (
        await store.audit_log(5, 2, user_id=42, offset=2)
        == [e for e in newest_first if e.user_id == 42][2:4]
    )


async def test_audit_log_for_every_guild_is_the_operators_view(store, make):
    session = await make.session()
    await _audit_trail(store, session.id)

    everything = await store.audit_log(None, 100)

    assert [e.guild_id for e in everything[:2]] == [6, 6]
    assert len(everything) == await store.count_audit(None) == 15
    assert [e.id for e in everything] == sorted((e.id for e in everything), reverse=True)
    assert len(await store.audit_log(None, 100, user_id=42, action="session.stop")) == 1


async def test_audit_log_rejects_a_negative_offset(store):
    with pytest.raises(ValueError, match="offset"):
        await store.audit_log(5, offset=-1)
