"""Store methods for stance tracking: where members stand after each round."""

from __future__ import annotations

from bot.council.models import Stance
from bot.store.base import StoreBase
from bot.store.db import Row


class StanceQueries(StoreBase):
    """Members' stated positions, round by round."""

    async def add_stance(self, stance: Stance) -> Stance:
        """Record a member's stance after a round (a repeat for the same round replaces it)."""
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO stances (session_id, round_number, persona, label, claim,"
                " confidence, is_changed, previous_label, reason) VALUES (:session_id,"
                " :round_number, :persona, :label, :claim, :confidence, :is_changed,"
                " :previous_label, :reason) ON CONFLICT (session_id, round_number, persona)"
                " DO UPDATE SET label = excluded.label, claim = excluded.claim,"
                " confidence = excluded.confidence, is_changed = excluded.is_changed,"
                " previous_label = excluded.previous_label, reason = excluded.reason",
                {**stance.model_dump(), "is_changed": int(stance.is_changed)},
            )
        return stance

    async def stances(self, session_id: int) -> list[Stance]:
        """Every recorded stance of the session, by round then seating."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM stances WHERE session_id = ? ORDER BY round_number, id",
                (session_id,),
            )
        return [_stance(row) for row in found]

    async def mind_changes(
        self, guild_id: int | None = None, *, by_model: bool = False
    ) -> dict[str, tuple[int, int]]:
        """Per persona (or model): (stances stated after round one, how many changed)."""
        who = "m.model" if by_model else "st.persona"
        # `who` is one of two constant column names; every value is a bound parameter.
        sql = (
            f"SELECT {who} AS who, COUNT(*) AS stated, SUM(st.is_changed) AS changed"  # noqa: S608
            " FROM stances AS st JOIN sessions AS s ON s.id = st.session_id"
            " JOIN members AS m ON m.session_id = st.session_id AND m.persona = st.persona"
            " WHERE st.round_number > 1 AND (CAST(:guild AS BIGINT) IS NULL OR s.guild_id = :guild)"
            f" GROUP BY {who}"
        )
        async with self._db.reading() as tx:
            found = await tx.all(sql, {"guild": guild_id})
        return {row["who"]: (int(row["stated"]), int(row["changed"] or 0)) for row in found}


def _stance(row: Row) -> Stance:
    return Stance(
        session_id=row["session_id"],
        round_number=row["round_number"],
        persona=row["persona"],
        label=row["label"],
        claim=row["claim"],
        confidence=row["confidence"],
        is_changed=bool(row["is_changed"]),
        previous_label=row["previous_label"],
        reason=row["reason"],
    )
