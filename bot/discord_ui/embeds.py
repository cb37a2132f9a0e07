"""Discord embeds for the opening of a session and its closing summary."""

from __future__ import annotations

import discord

from bot import graphemes
from bot.config import CouncilConfig
from bot.council.formats import format_name
from bot.council.spec import SessionSpec
from bot.i18n import Text, localize, t, tn
from bot.render.messages import safe_reply_text
from bot.render.summary import SummaryDoc

COUNCIL_COLOR = 0x5865F2
TITLE_MAX = 256
FIELD_VALUE_MAX = 1024


def color_int(hex_color: str) -> int:
    """`#RRGGBB` as an int; Discord's blurple when it isn't one."""
    try:
        return int(hex_color.removeprefix("#"), 16)
    except ValueError:
        return COUNCIL_COLOR


def opening_embed(
    spec: SessionSpec,
    config: CouncilConfig,
    *,
    host: str,
    locale: str | None = None,
    checks: Text | None = None,
) -> discord.Embed:
    """Topic, members with their models, format, rounds, how to take part and, given `checks`,
    what moderates the replies, in `locale`."""

    def say(text: Text) -> str:
        return localize(text, locale)

    topic = safe_reply_text(spec.topic)
    about = t(
        "council.opening.about",
        format=format_name(spec.format),
        members=tn("council.opening.members", len(spec.members)),
        rounds=tn("council.rounds", spec.rounds),
        host=host,
    )
    embed = discord.Embed(
        title=_clip(f"🏛️ {topic}", TITLE_MAX),
        description="\n".join(
            say(line) for line in (about, t("council.opening.how"), checks) if line is not None
        ),
        color=COUNCIL_COLOR,
    )
    if spec.topic != topic or len(spec.topic) > TITLE_MAX - 4:
        embed.add_field(
            name=say(t("council.topic")), value=_clip(topic, FIELD_VALUE_MAX), inline=False
        )
    for seat in spec.members:
        model = config.models[seat.model_key]
        name = say(t("council.blind.unknown")) if spec.is_blind else seat.name
        value = say(t("council.opening.hidden")) if spec.is_blind else f"`{model.model}`"
        embed.add_field(name=name, value=value, inline=True)
    if spec.chair is not None:
        # A blind council's chair posts under an alias too: its name would give it away.
        chair = say(t("council.blind.unknown")) if spec.is_blind else spec.chair.name
        embed.add_field(name=say(t("council.chair")), value=chair, inline=True)
    if spec.charter:
        charter = _clip(safe_reply_text(spec.charter), FIELD_VALUE_MAX)
        embed.add_field(name=say(t("council.opening.charter")), value=charter, inline=False)
    return embed


def summary_embed(doc: SummaryDoc) -> discord.Embed:
    """The summary document as an embed (the document already fits the limits)."""
    embed = discord.Embed(title=doc.title, description=doc.description, color=COUNCIL_COLOR)
    for field in doc.fields:
        embed.add_field(name=field.name, value=field.value, inline=field.is_inline)
    embed.set_footer(text=doc.footer)
    return embed


def _clip(text: str, limit: int) -> str:
    return graphemes.ellipsize(text, limit)
