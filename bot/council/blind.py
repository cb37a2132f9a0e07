"""Blind councils: aliases instead of names, and spotting a model that gives itself away."""

from __future__ import annotations

import random
import re
import string
from collections.abc import Iterable, Sequence

from bot.config import ModelConfig, ProviderKind

ALIAS_PREFIX = "Councillor"
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


def assign_aliases(personas: Sequence[str], rng: random.Random) -> dict[str, str]:
    """A random "Councillor A/B/C…" for each persona."""
    letters = list(string.ascii_uppercase[: len(personas)])
    rng.shuffle(letters)
    return {p: f"{ALIAS_PREFIX} {letter}" for p, letter in zip(personas, letters, strict=True)}


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
