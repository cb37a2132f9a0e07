"""Where a persona's message came from, read from the store: for "About this reply".

Discord-free: the cog renders what `about_message` returns. Everything comes from the store by
the message's id, so it answers for old councils and after a restart alike.
"""

from __future__ import annotations

from bot.council.blind import is_revealed
from bot.council.models import Moderation, Reply
from bot.render.provenance import ModerationFacts, ModerationState, ReplyFacts
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
    """What moderation decided about `reply`, as the card tells it (None: nothing checked it).

    A reply shown behind a spoiler was flagged but is shown; a released one was withheld,
    then shown by a host.
    """
    if reply.moderation is Moderation.ALLOWED:
        if reply.moderation_source is None:
            return None
        return ModerationFacts("passed", source=reply.moderation_source)
    states: dict[Moderation, ModerationState] = {
        Moderation.WITHHELD: "withheld",
        Moderation.RELEASED: "released",
    }
    state = states.get(reply.moderation, "shown")
    return ModerationFacts(
        "flagged",
        category=reply.moderation_category,
        source=reply.moderation_source,
        state=state,
    )
