"""Personas as a guild sees them: the operator's personas with the guild's restyling applied.

A guild may change a persona's avatar, colour and style, never its model, URL or key.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from bot.config import CouncilConfig, PersonaConfig
from bot.council.models import PersonaOverride, utcnow
from bot.council.spec import clean_text
from bot.errors import UserFacingError
from bot.i18n import t, tn
from bot.store.store import Store

STYLE_MAX_CHARS = 500
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".webp")
_COLOR_RE = re.compile(r"^#?([0-9a-fA-F]{6})$")


class PersonaBook:
    """Looks up and restyles personas per guild."""

    def __init__(self, config: CouncilConfig, store: Store) -> None:
        self.config = config
        self.store = store

    async def overrides(self, guild_id: int | None) -> dict[str, PersonaConfig]:
        """The guild's restyled personas, by name (only those it changed)."""
        if guild_id is None:
            return {}
        changes = await self.store.persona_overrides(guild_id)
        result = {}
        for persona in self.config.personas:
            change = changes.get(persona.name)
            if change is not None:
                result[persona.name] = persona.model_copy(
                    update={
                        "avatar_url": change.avatar_url or persona.avatar_url,
                        "color": change.color or persona.color,
                        "style": change.style if change.style is not None else persona.style,
                    }
                )
        return result

    async def personas(self, guild_id: int | None) -> list[PersonaConfig]:
        """Every persona as this guild sees it."""
        changed = await self.overrides(guild_id)
        return [changed.get(p.name, p) for p in self.config.personas]

    def find(self, name: str) -> PersonaConfig:
        """The operator's persona by name, or a refusal listing the names."""
        persona = self.config.persona(name)
        if persona is None:
            known = ", ".join(p.name for p in self.config.personas)
            raise UserFacingError(t("replies.persona.unknown", name=name, known=known))
        return persona

    async def edit(
        self,
        guild_id: int,
        user_id: int,
        name: str,
        *,
        avatar_url: str | None = None,
        style: str | None = None,
        color: str | None = None,
    ) -> PersonaConfig:
        """Restyle a persona for this guild; every value is checked first."""
        persona = self.find(name)
        if avatar_url is None and style is None and color is None:
            raise UserFacingError(t("replies.persona.nothing-to-change"))
        current = (await self.store.persona_overrides(guild_id)).get(persona.name)
        override = PersonaOverride(
            guild_id=guild_id,
            persona=persona.name,
            avatar_url=_avatar(avatar_url)
            if avatar_url is not None
            else _keep(current, "avatar_url"),
            color=_color(color) if color is not None else _keep(current, "color"),
            style=_style(style) if style is not None else _keep(current, "style"),
            updated_by=user_id,
            updated_at=utcnow(),
        )
        await self.store.save_persona_override(override)
        await self.store.audit(guild_id, user_id, "persona.edit", detail=persona.name)
        return (await self.overrides(guild_id))[persona.name]


def _keep(current: PersonaOverride | None, field: str) -> str | None:
    return None if current is None else getattr(current, field)


def _avatar(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.netloc:
        raise UserFacingError(t("replies.persona.avatar-not-https"))
    if not parts.path.lower().endswith(IMAGE_SUFFIXES):
        raise UserFacingError(t("replies.persona.avatar-not-an-image"))
    return url


def _color(value: str) -> str:
    match = _COLOR_RE.match(value.strip())
    if match is None:
        raise UserFacingError(t("replies.persona.bad-colour"))
    return f"#{match.group(1).upper()}"


def _style(value: str) -> str:
    text = clean_text(value)
    if len(text) > STYLE_MAX_CHARS:
        raise UserFacingError(
            tn("replies.persona.style-too-long", len(text), limit=STYLE_MAX_CHARS)
        )
    return text
