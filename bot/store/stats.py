"""Store methods for statistics across sessions: the votes behind the leaderboards."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from bot.council.models import MemberRole, ReplyKind, ReplyStatus, VoteValue
from bot.council.standings import EntryVotes, RoundVotes
from bot.store import rows
from bot.store.base import StoreBase
from bot.store.db import Row, SqlValue

# Each counted answer with its votes summed, in one pass over the history: every join is an
# index lookup, and grouping by the reply follows the scan, so SQLite needs no sort. Two
# statements rather than "(:guild IS NULL OR ...)", so that one guild's history is read
# through the sessions' guild index instead of a scan of every reply. The member's columns are
# grouped too, as PostgreSQL wants (each reply has one member, so the groups stay the same).
_TALLY_COLUMNS = """SELECT r.session_id, r.round_number, r.persona, m.model, m.position,
       COALESCE(SUM(CASE WHEN v.value = :up THEN 1 ELSE 0 END), 0) AS up,
       COALESCE(SUM(CASE WHEN v.value = :down THEN 1 ELSE 0 END), 0) AS down"""
_TALLY_REST = """JOIN members AS m ON m.session_id = r.session_id AND m.persona = r.persona
LEFT JOIN votes AS v ON v.reply_id = r.id
WHERE {guild}(CAST(:since AS TEXT) IS NULL OR s.started_at >= :since)
  AND r.kind = :answer AND r.status = :ok AND r.is_flagged = 0 AND m.role = :member
GROUP BY r.id, m.model, m.position"""

_ANSWER_TALLIES = f"""{_TALLY_COLUMNS}
FROM replies AS r
JOIN sessions AS s ON s.id = r.session_id
{_TALLY_REST.format(guild="")}"""

_GUILD_ANSWER_TALLIES = f"""{_TALLY_COLUMNS}
FROM sessions AS s
JOIN replies AS r ON r.session_id = s.id
{_TALLY_REST.format(guild="s.guild_id = :guild AND ")}"""

# One counted answer: its member's seat position, persona and model, and its up and down votes.
_Tally = tuple[int, str, str, int, int]


class StatsQueries(StoreBase):
    """Aggregates over many sessions."""

    async def round_votes(
        self, guild_id: int | None = None, since: datetime | None = None
    ) -> list[RoundVotes]:
        """Every voted round's votes per competing member, by session then round number.

        Counts the members' answers that were produced (not failures, chair turns, reviews or
        syntheses) and were not flagged: a flagged answer (in a blind council, one that gave
        away who wrote it) drops out, as Chatbot Arena drops votes once identities show. Should
        a member have two counted answers in one round, their votes count together. A round
        in which none of the counted answers drew a vote is left out, as `tally.round_nets`
        leaves it out.

        Args:
            guild_id: Only this guild's sessions.
            since: Only sessions started at or after this moment.
        """
        params: dict[str, SqlValue] = {
            "since": None if since is None else rows.to_db_time(since),
            "up": VoteValue.UP,
            "down": VoteValue.DOWN,
            "answer": ReplyKind.ANSWER,
            "ok": ReplyStatus.OK,
            "member": MemberRole.MEMBER,
        }
        if guild_id is None:
            sql = _ANSWER_TALLIES
        else:
            sql, params["guild"] = _GUILD_ANSWER_TALLIES, guild_id
        async with self._db.reading() as tx:
            found = await tx.all(sql, params)
        # A long history is 100,000 rows or more: grouping them is kept off the event loop.
        return await asyncio.to_thread(_group_rounds, found)


def _group_rounds(found: Sequence[Row]) -> list[RoundVotes]:
    """The tally rows (session, round, persona, model, position, up, down) as voted rounds."""
    by_round: dict[tuple[int, int], list[_Tally]] = defaultdict(list)
    # Plain tuples: unpacking Row is slow.
    for session_id, number, persona, model, position, up, down in map(tuple, found):
        by_round[session_id, number].append((position, persona, model, up, down))
    voted: list[RoundVotes] = []
    for (session_id, number), tallies in sorted(by_round.items()):
        if not any(up or down for *_, up, down in tallies):
            continue
        tallies.sort()
        entries: list[EntryVotes] = []
        for _, persona, model, up, down in tallies:
            if entries and entries[-1].persona == persona:
                earlier = entries.pop()
                entries.append(EntryVotes(persona, model, earlier.up + up, earlier.down + down))
            else:
                entries.append(EntryVotes(persona, model, up, down))
        voted.append(RoundVotes(session_id, number, tuple(entries)))
    return voted
