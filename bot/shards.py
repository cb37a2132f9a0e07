"""Which shards this process runs, which guilds they own, and its share of the REST limit.

Discord sends a guild's events to shard ``(guild_id >> 22) % shard_count`` and events of no
guild (DMs) to shard 0 (https://discord.com/developers/docs/events/gateway#sharding). A
`council-bot run --shards 0-3 --shard-count 8` process owns the guilds of its shards: their
councils, votes, resumes and webhooks. Discord-free, so the session service can ask it too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.errors import UserFacingError

GLOBAL_LIMIT_PER_S = 50.0
"""Discord's global limit on requests made with one bot token, shared by all its processes:
https://discord.com/developers/docs/topics/rate-limits#global-rate-limit"""

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


@dataclass(frozen=True)
class ShardPlan:
    """The shards one process runs (`ids`, ascending) out of `count` for the whole bot."""

    ids: tuple[int, ...]
    count: int

    def owns(self, guild_id: int | None) -> bool:
        """Whether this process receives the guild's events (None: a DM or no guild)."""
        return shard_of(guild_id, self.count) in self.ids

    def describe(self) -> str:
        """The shards as an operator writes them, e.g. ``0-3 of 8``."""
        return f"{format_shards(self.ids)} of {self.count}"


def shard_of(guild_id: int | None, shard_count: int) -> int:
    """The shard that receives a guild's events; shard 0 for events of no guild."""
    return 0 if guild_id is None else (guild_id >> 22) % shard_count


def parse_shard_plan(shards: str | None, shard_count: int | None) -> ShardPlan | None:
    """`--shards` / `SHARDS` (e.g. ``0-3`` or ``0,2,5-7``) with `--shard-count` as a plan;
    None when neither is given (the bot runs unsharded, as one process).

    Raises:
        UserFacingError: one of them is missing or malformed, or a shard is outside the count.
    """
    if shards is None and shard_count is None:
        return None
    if shard_count is None:
        raise UserFacingError("--shards needs --shard-count (SHARD_COUNT): how many in all.")
    if shard_count < 1:
        raise UserFacingError(f"--shard-count must be 1 or more, not {shard_count}.")
    if shards is None:
        # Every shard in this one process.
        return ShardPlan(tuple(range(shard_count)), shard_count)
    ids: set[int] = set()
    for part in shards.replace(" ", "").split(","):
        match = _RANGE.match(part)
        if match is None:
            raise UserFacingError(
                f"--shards must be shard numbers and ranges such as 0-3 or 0,2,5-7, not {shards!r}."
            )
        first = int(match[1])
        last = int(match[2]) if match[2] is not None else first
        if last < first:
            raise UserFacingError(
                f"--shards: the range {part} runs backwards; write {last}-{first}."
            )
        if last >= shard_count:
            raise UserFacingError(
                f"--shards {shards} goes past --shard-count {shard_count}: shards are numbered "
                f"0 to {shard_count - 1}."
            )
        ids.update(range(first, last + 1))
    return ShardPlan(tuple(sorted(ids)), shard_count)


def format_shards(ids: tuple[int, ...]) -> str:
    """Shard numbers as ranges, e.g. (0, 1, 2, 5) as ``0-2,5``."""
    parts: list[str] = []
    start = previous = ids[0] if ids else 0
    for number in ids[1:]:
        if number != previous + 1:
            parts.append(_span(start, previous))
            start = number
        previous = number
    if ids:
        parts.append(_span(start, previous))
    return ",".join(parts)


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def rest_share_per_s(share: str | None, plan: ShardPlan | None) -> float:
    """The requests a second this process may make with the bot token.

    `share` (`REST_SHARE`) is requests a second (``12.5``) or a part of the global limit
    (``25%``). Without it, a sharded process takes the part its shards are of all shards (the
    processes of one bot then add up to the limit), and an unsharded one the whole limit.

    Raises:
        UserFacingError: `share` is malformed, or not above 0 and at most the global limit.
    """
    if share is None:
        if plan is None:
            return GLOBAL_LIMIT_PER_S
        return GLOBAL_LIMIT_PER_S * len(plan.ids) / plan.count
    text = share.strip()
    try:
        value = float(text.removesuffix("%"))
    except ValueError:
        value = -1.0
    rate = GLOBAL_LIMIT_PER_S * value / 100 if text.endswith("%") else value
    if not 0 < rate <= GLOBAL_LIMIT_PER_S:
        raise UserFacingError(
            f"REST_SHARE must be requests a second above 0 and at most "
            f"{GLOBAL_LIMIT_PER_S:g} (e.g. 12.5), or a percentage of them (e.g. 25%), "
            f"not {share!r}."
        )
    return rate
