"""Store methods for moderation: each guild's rules and allow list, and withheld replies."""

from __future__ import annotations

from bot.council.models import Moderation, Reply, ReplyStatus
from bot.council.moderation import ModerationPolicy, ModerationRule, RuleAction, RuleKind
from bot.store import rows
from bot.store.base import StoreBase, load_reply
from bot.store.db import Row, ordered_by_text
from bot.store.errors import RecordNotFoundError


class ModerationQueries(StoreBase):
    """Guilds' moderation rules, and the replies moderation withheld."""

    async def moderation_policy(self, guild_id: int) -> ModerationPolicy:
        """The guild's rules (oldest first) and allow list (alphabetical)."""
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM moderation_rules WHERE guild_id = ? ORDER BY id", (guild_id,)
            )
            allowed = await tx.all(
                ordered_by_text(
                    "SELECT keyword FROM moderation_allowed WHERE guild_id = ?", "keyword"
                ),
                (guild_id,),
            )
        return ModerationPolicy(
            rules=tuple(_rule_from_row(row) for row in found),
            allowed=tuple(row["keyword"] for row in allowed),
        )

    async def add_moderation_rule(
        self,
        guild_id: int,
        kind: RuleKind,
        pattern: str,
        action: RuleAction,
        *,
        category: str | None = None,
        created_by: int | None = None,
    ) -> ModerationRule:
        """Add a rule to the guild's policy, as given (the caller validated it).

        Raises:
            ConstraintError: the guild has this rule already.
        """
        async with self._db.writing() as tx:
            rule_id = await tx.insert(
                "INSERT INTO moderation_rules (guild_id, kind, pattern, action, category,"
                " created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (guild_id, kind, pattern, action, category, created_by, self._stamp()),
            )
            row = await tx.one("SELECT * FROM moderation_rules WHERE id = ?", (rule_id,))
        if row is None:
            raise RecordNotFoundError("moderation rule", rule_id)
        return _rule_from_row(row)

    async def remove_moderation_rule(self, guild_id: int, rule_id: int) -> ModerationRule:
        """Remove one of the guild's rules; return it.

        Raises:
            RecordNotFoundError: the guild has no rule with this number.
        """
        async with self._db.writing() as tx:
            row = await tx.one(
                "SELECT * FROM moderation_rules WHERE id = ? AND guild_id = ?", (rule_id, guild_id)
            )
            if row is None:
                raise RecordNotFoundError("moderation rule", rule_id)
            await tx.run("DELETE FROM moderation_rules WHERE id = ?", (rule_id,))
        return _rule_from_row(row)

    async def allow_keyword(
        self, guild_id: int, keyword: str, *, created_by: int | None = None
    ) -> None:
        """Add a keyword to the guild's allow list (no change if it is there)."""
        async with self._db.writing() as tx:
            await tx.run(
                "INSERT INTO moderation_allowed (guild_id, keyword, created_by, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (guild_id, keyword) DO NOTHING",
                (guild_id, keyword, created_by, self._stamp()),
            )

    async def unallow_keyword(self, guild_id: int, keyword: str) -> str | None:
        """Take a keyword (compared ignoring case) off the guild's allow list; return it as it
        was stored, or None when it was not there."""
        async with self._db.writing() as tx:
            found = await tx.all(
                "SELECT keyword FROM moderation_allowed WHERE guild_id = ?", (guild_id,)
            )
            stored = next(
                (r["keyword"] for r in found if r["keyword"].casefold() == keyword.casefold()),
                None,
            )
            if stored is not None:
                await tx.run(
                    "DELETE FROM moderation_allowed WHERE guild_id = ? AND keyword = ?",
                    (guild_id, stored),
                )
        return stored

    async def withheld_replies(
        self, guild_id: int, *, session_id: int | None = None, limit: int = 10
    ) -> list[Reply]:
        """The guild's withheld replies (one council's, given `session_id`), newest first."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT r.* FROM replies AS r JOIN sessions AS s ON s.id = r.session_id"
                " WHERE r.status = :withheld AND s.guild_id = :guild"
                " AND (CAST(:session AS BIGINT) IS NULL OR r.session_id = :session)"
                " ORDER BY r.id DESC LIMIT :limit",
                {
                    "withheld": ReplyStatus.WITHHELD,
                    "guild": guild_id,
                    "session": session_id,
                    "limit": limit,
                },
            )
            messages = {
                row["id"]: [
                    m["message_id"]
                    for m in await tx.all(
                        "SELECT message_id FROM reply_messages WHERE reply_id = ?"
                        " ORDER BY position",
                        (row["id"],),
                    )
                ]
                for row in found
            }
        return [rows.reply_from_row(row, messages[row["id"]]) for row in found]

    async def count_withheld(self, guild_id: int, *, session_id: int | None = None) -> int:
        """How many replies `withheld_replies` could list."""
        async with self._db.reading() as tx:
            row = await tx.one(
                "SELECT COUNT(*) FROM replies AS r JOIN sessions AS s ON s.id = r.session_id"
                " WHERE r.status = :withheld AND s.guild_id = :guild"
                " AND (CAST(:session AS BIGINT) IS NULL OR r.session_id = :session)",
                {"withheld": ReplyStatus.WITHHELD, "guild": guild_id, "session": session_id},
            )
        return 0 if row is None else int(row[0])

    async def release_reply(self, reply_id: int) -> Reply:
        """Mark a withheld reply shown: an ordinary reply again, its verdict kept as released.

        Raises:
            RecordNotFoundError: no such reply.
            ValueError: the reply is not withheld (never was, or was released already).
        """
        async with self._db.writing() as tx:
            changed = await tx.run(
                "UPDATE replies SET status = :ok, moderation = :released, error_kind = NULL"
                " WHERE id = :id AND status = :withheld",
                {
                    "ok": ReplyStatus.OK,
                    "released": Moderation.RELEASED,
                    "id": reply_id,
                    "withheld": ReplyStatus.WITHHELD,
                },
            )
            reply = await load_reply(tx, reply_id)
        if not changed:
            raise ValueError(f"reply {reply_id} is not withheld")
        return reply


def _rule_from_row(row: Row) -> ModerationRule:
    return ModerationRule(
        id=row["id"],
        guild_id=row["guild_id"],
        kind=row["kind"],
        pattern=row["pattern"],
        action=row["action"],
        category=row["category"],
        created_by=row["created_by"],
        created_at=rows.from_db_time(row["created_at"]),
    )
