"""Who in a server's audience may take part in its councils, and how much.

Voting and asking questions follow the same guild rules: the voter role, when one is set, and
the minimum account age. The core stays free of Discord, so a member arrives as its role ids
and the time its account was made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.council.models import GuildSettings
from bot.i18n import Text, t, tn

# Questions a member may have waiting in one council at a time: enough to follow up, too few
# for one member to fill the next round's questions alone.
MAX_PENDING_QUESTIONS_PER_MEMBER = 3

AudienceAction = Literal["vote", "ask"]
"""What a member of the audience does: vote on replies, or ask the council questions."""

# Whole sentences per action: the verb phrase can't be spliced into another language's sentence.
_NEEDS_ROLE = {"vote": "replies.audience.role-to-vote", "ask": "replies.audience.role-to-ask"}
_TOO_NEW = {"vote": "replies.audience.age-to-vote", "ask": "replies.audience.age-to-ask"}


def audience_refusal(
    settings: GuildSettings,
    role_ids: Iterable[int],
    created_at: datetime,
    action: AudienceAction,
) -> Text | None:
    """Why the guild's rules keep this member from `action`, or None.

    Args:
        settings: The guild's settings (voter role, minimum account age).
        role_ids: The member's role ids in the guild.
        created_at: When the member's Discord account was made (timezone-aware).
        action: What the member tried.
    """
    if settings.voter_role_id is not None and settings.voter_role_id not in set(role_ids):
        return t(_NEEDS_ROLE[action], role=settings.voter_role_id)
    if settings.min_account_age_days:
        age = datetime.now(UTC) - created_at
        if age < timedelta(days=settings.min_account_age_days):
            return tn(_TOO_NEW[action], settings.min_account_age_days)
    return None
