"""Blind councils: aliases instead of names, and spotting a model that gives itself away."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable, Sequence

from bot.config import ModelConfig, ProviderKind
from bot.council.models import Member, Session
from bot.i18n import localize, t

ASCII_LETTERS = string.ascii_uppercase
# Who makes what, for spotting a reply that names its maker; model ids add their own first word.
MAKERS: dict[ProviderKind, tuple[str, ...]] = {
    "anthropic": ("Anthropic", "Claude"),
    "gemini": ("Google", "Gemini", "DeepMind"),
    "openai": ("OpenAI", "ChatGPT", "GPT"),
}
_KNOWN_FAMILIES = {
    "deepseek": ("DeepSeek",),
    "llama": ("Llama", "Meta"),
    "qwen": ("Qwen", "Alibaba"),
    "mistral": ("Mistral",),
    "mixtral": ("Mistral",),
    "gemma": ("Gemma", "Google"),
    "claude": ("Claude", "Anthropic"),
    "gemini": ("Gemini", "Google"),
    "gpt": ("GPT", "OpenAI"),
    "grok": ("Grok", "xAI"),
    "phi": ("Phi", "Microsoft"),
}


def assign_aliases(
    personas: Sequence[str], rng: random.Random, locale: str | None = None
) -> dict[str, str]:
    """A random "Councillor A/B/C…" for each persona, in the council's language.

    The alias is the name the thread, the prompts and the transcript use until the reveal,
    so it is written in the council's own words and letters ("Советник Б").
    """
    alphabet = localize(t("council.blind.letters"), locale)
    letters = list((alphabet if len(alphabet) >= len(personas) else ASCII_LETTERS)[: len(personas)])
    rng.shuffle(letters)
    return {
        p: localize(t("council.blind.alias", letter=letter), locale)
        for p, letter in zip(personas, letters, strict=True)
    }


def is_revealed(session: Session) -> bool:
    """Whether a council's aliases may be tied to their personas: it has ended and posted the
    summary that names them (always, for a council that was never blind)."""
    if not session.is_blind:
        return True
    return session.status.is_final and session.summary_message_id is not None


def shown_names(session: Session, members: Iterable[Member]) -> dict[str, str]:
    """Each member's name as the audience may see it: its alias until a blind council's
    summary reveals who was who, else its persona."""
    hidden = not is_revealed(session)
    return {m.persona: (m.alias or m.persona) if hidden else m.persona for m in members}


def identity_words(persona: str, model: ModelConfig, kind: ProviderKind) -> set[str]:
    """Words that would reveal who is behind an alias: the persona, its model and its maker."""
    family = re.split(r"[-_.:/ ]", model.model.lower(), maxsplit=1)[0]
    words = {persona, *_KNOWN_FAMILIES.get(family, ())}
    if kind != "openai":  # an OpenAI-compatible server may host anyone's model
        words.update(MAKERS[kind])
    return {w for w in words if len(w) >= 3}


def names_itself(text: str, words: Iterable[str]) -> bool:
    """True when the text names any of these words as a whole word (any case)."""
    return any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text, re.IGNORECASE) for w in words)
