"""Store methods for the council's replies and the Discord messages that carry them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.council.models import NewReply, Reply
from bot.store import rows
from bot.store.base import StoreBase, find_reply, load_reply


class ReplyQueries(StoreBase):
    """Replies and their message ids."""

    async def add_reply(self, new: NewReply, asks: Sequence[tuple[str, str]] = ()) -> Reply:
        """Store a reply (or a member's failure to reply), created now, with the questions
        it puts to other members (addressee persona, question) in the same transaction, so that
        a restart never keeps the one without the other.

        Raises:
            ConstraintError: the session does not exist.
        """
        async with self._db.writing() as tx:
            reply_id = await tx.insert(
                "INSERT INTO replies (session_id, round_number, persona, kind, status, text,"
                " error_kind, error_message, input_tokens, output_tokens, tokens_estimated,"
                " cost_usd, latency_s, first_token_s, created_at, moderation,"
                " moderation_category, moderation_source, moderation_rule) VALUES (:session_id,"
                " :round_number, :persona, :kind, :status, :text, :error_kind, :error_message,"
                " :input_tokens, :output_tokens, :tokens_estimated, :cost_usd, :latency_s,"
                " :first_token_s, :created_at, :moderation, :moderation_category,"
                " :moderation_source, :moderation_rule)",
                {
                    "session_id": new.session_id,
                    "round_number": new.round_number,
                    "persona": new.persona,
                    "kind": new.kind,
                    "status": new.status,
                    "text": new.text,
                    "error_kind": new.error_kind,
                    "error_message": new.error_message,
                    "input_tokens": new.input_tokens,
                    "output_tokens": new.output_tokens,
                    "tokens_estimated": int(new.tokens_estimated),
                    "cost_usd": new.cost_usd,
                    "latency_s": new.latency_s,
                    "first_token_s": new.first_token_s,
                    "created_at": self._stamp(),
                    "moderation": new.moderation,
                    "moderation_category": new.moderation_category,
                    "moderation_source": new.moderation_source,
                    "moderation_rule": new.moderation_rule,
                },
            )
            if asks:
                await tx.run_many(
                    "INSERT INTO member_questions (session_id, asker, addressee, text, round_asked,"
                    " asked_in_reply) VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (new.session_id, new.persona, addressee, text, new.round_number, reply_id)
                        for addressee, text in asks
                    ],
                )
            return await load_reply(tx, reply_id)

    async def set_reply_messages(self, reply_id: int, message_ids: Sequence[int]) -> Reply:
        """Replace the Discord messages a reply was posted as, in posting order.

        Raises:
            RecordNotFoundError: no such reply.
            ConstraintError: a message id already belongs to another reply.
        """
        async with self._db.writing() as tx:
            await load_reply(tx, reply_id)
            await tx.run("DELETE FROM reply_messages WHERE reply_id = ?", (reply_id,))
            await tx.run_many(
                "INSERT INTO reply_messages (reply_id, position, message_id) VALUES (?, ?, ?)",
                [
                    (reply_id, position, message_id)
                    for position, message_id in enumerate(message_ids)
                ],
            )
            return await load_reply(tx, reply_id)

    async def get_reply(self, reply_id: int) -> Reply | None:
        """The reply with this id, if any."""
        async with self._db.reading() as tx:
            return await find_reply(tx, reply_id)

    async def reply_for_message(self, message_id: int) -> Reply | None:
        """The reply posted as this Discord message (any part of it), if any."""
        async with self._db.reading() as tx:
            row = await tx.one(
                "SELECT reply_id FROM reply_messages WHERE message_id = ?", (message_id,)
            )
            return None if row is None else await find_reply(tx, row["reply_id"])

    async def replies(self, session_id: int, round_number: int | None = None) -> list[Reply]:
        """The session's replies in the order they were stored, optionally of one round only."""
        # One pair of static statements for both cases: the index on (session_id, round_number)
        # still narrows to the session, and a session holds only tens of replies. (The CAST
        # tells PostgreSQL the type of a parameter it would otherwise first meet in IS NULL.)
        async with self._db.reading() as tx:
            found = await tx.all(
                "SELECT * FROM replies WHERE session_id = :session"
                " AND (CAST(:round AS BIGINT) IS NULL OR round_number = :round) ORDER BY id",
                {"session": session_id, "round": round_number},
            )
            messages = await tx.all(
                "SELECT m.reply_id, m.message_id FROM reply_messages AS m"
                " JOIN replies AS r ON r.id = m.reply_id WHERE r.session_id = :session"
                " AND (CAST(:round AS BIGINT) IS NULL OR r.round_number = :round)"
                " ORDER BY m.reply_id, m.position",
                {"session": session_id, "round": round_number},
            )
        by_reply: defaultdict[int, list[int]] = defaultdict(list)
        for message in messages:
            by_reply[message["reply_id"]].append(message["message_id"])
        return [rows.reply_from_row(row, by_reply[row["id"]]) for row in found]

    async def flag_reply(self, reply_id: int, *, is_flagged: bool = True) -> Reply:
        """Flag a reply for moderators (or clear the flag).

        Raises:
            RecordNotFoundError: no such reply.
        """
        async with self._db.writing() as tx:
            await tx.run(
                "UPDATE replies SET is_flagged = ? WHERE id = ?", (int(is_flagged), reply_id)
            )
            return await load_reply(tx, reply_id)
