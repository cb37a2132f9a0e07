"""Where a persona's message came from, read from the store: for "About this reply".

Discord-free: the cog renders what `about_message` returns. Everything comes from the store by
the message's id, so it answers for old councils and after a restart alike.
"""

from __future__ import annotations

from bot.council.blind import is_revealed
from bot.council.models import Reply
from bot.render.provenance import ModerationFacts, ReplyFacts
from bot.store.store import Store


async def about_message(store: Store, message_id: int, guild_id: int | None) -> ReplyFacts | None:
    """The facts about the reply posted as this message (any part of it), or None when the
    message carries no council reply of this guild (a member's message, the bot's own notes)."""
    reply = await store.reply_for_message(message_id)
    if reply is None:
        return None
    session = await store.get_session(reply.session_id)
    if session is None or session.guild_id != guild_id:
        return None
    members = await store.members(session.id)
    member = next((m for m in members if m.persona == reply.persona), None)
    up, down = await store.votes_for(reply.id)
    return ReplyFacts(
        session=session,
        member=member,
        reply=reply,
        message_id=message_id,
        up=up,
        down=down,
        is_revealed=is_revealed(session),
        moderation=moderation_of(reply),
    )


def moderation_of(reply: Reply) -> ModerationFacts | None:
    """What moderation decided about `reply`: the one place the card learns it.

    Only mentions are defused so far, so there is nothing more to tell (None: "not checked
    beyond mentions"). Once replies carry a moderation verdict, category, source and
    withheld/released state, map them here.
    """
    del reply  # nothing to read yet
    return None
