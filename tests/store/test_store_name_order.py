"""Lists of names come back in one spelled-out order on both databases, whatever collation a
column or the PostgreSQL server's locale would otherwise sort by: ASCII letters regardless of
case, then by code point.

The test server runs under the C locale, where a bare ORDER BY sorts by code point ("B" before
"a"); a server under another locale would sort by its own rules ("É" among the e's). Names
whose order differs between those collations show the order is the store's own.
"""

from __future__ import annotations

from bot.council.challenge import Question
from bot.council.models import PersonaOverride
from tests.store.conftest import START

GUILD = 10
NAMES = ["b", "É", "B", "f", "a", "é"]
ORDERED = ["a", "B", "b", "f", "É", "é"]


async def test_challenge_sets_persona_overrides_and_allowed_keywords_are_listed_in_one_order(
    store,
):
    for name in NAMES:
        await store.save_challenge_set(GUILD, name, (Question("2+2?", "4"),), user_id=5)
        await store.save_persona_override(
            PersonaOverride(guild_id=GUILD, persona=name, style="terse", updated_at=START)
        )
        await store.allow_keyword(GUILD, name)

    assert [info.name for info in await store.challenge_sets(GUILD)] == ORDERED
    assert list(await store.persona_overrides(GUILD)) == ORDERED
    assert list((await store.moderation_policy(GUILD)).allowed) == ORDERED


async def test_councils_are_listed_in_the_same_order(store):
    # Council names are unique regardless of case ("É" and "é" only on PostgreSQL), so "B"
    # stands without "b"; their own collation would put "É" before "f" on PostgreSQL.
    for name in ["f", "É", "B", "a"]:
        await store.create_council(GUILD, name)

    assert [c.name for c in await store.councils(GUILD)] == ["a", "B", "f", "É"]
