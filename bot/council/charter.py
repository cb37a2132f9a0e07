"""A permanent council's charter: the rules every member's prompt carries, and the chair's check
of which replies broke them.

A charter is a host's words ("cite sources; no medical advice"). Members get it in a delimited
section of their system prompt (`bot.council.prompts.charter_section`). In a chaired council
the chair, writing the synthesis, is also asked to name the replies that broke it; that answer
is model output, so it is parsed strictly and anything that does not name a real reply is
dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from bot import graphemes
from bot.council.spec import clean_text

CHARTER_MAX_CHARS = 1000
"""The longest charter a host may set (it goes into every prompt, and fits an embed field)."""
BREACH_MAX_CHARS = 200
"""The longest account of one breach that the summary shows."""
BREACHES_MAX = 10
"""The most breaches one check may name: more is a model listing everything."""
BREACHES_KEY = "charter_breaches"

# The section's fences; a charter can't contain them, so its text can't end the section early.
_FENCE_RE = re.compile(r"={3,}")

FlagSource = Literal["chair", "moderation"]
_SOURCES: dict[str, FlagSource] = {"chair": "chair", "moderation": "moderation"}


@dataclass(frozen=True, slots=True)
class CharterFlag:
    """A reply flagged as breaking the charter: whose, in which round, how, and who said so."""

    persona: str
    round_number: int
    reason: str
    source: FlagSource


def clean_charter(text: str) -> str:
    """A host's charter as members' prompts carry it: no control characters, no fences, and
    no blank lines at either end ("" when nothing is left)."""
    return _FENCE_RE.sub("==", clean_text(text))


def breach_instruction(names: Collection[str], language: str) -> str:
    """What the chair's synthesis request adds: name the replies that broke the charter."""
    return (
        f"\nAlso add \"{BREACHES_KEY}\": the members' replies that broke the council's charter, "
        'as a list of objects {"member": "<one of: '
        + ", ".join(names)
        + '>", "round": <the round number>, "breach": "<how the reply broke the charter: a '
        f"short phrase in {language} starting with a verb in the past tense, e.g. gave medical "
        'advice>"}. Name only replies that clearly broke it; an empty list if none did.'
    )


def parse_breaches(
    text: str,
    personas: Mapping[str, str],
    answered: Collection[tuple[int, str]],
) -> list[CharterFlag]:
    """The chair's charter breaches from its synthesis reply, strictly.

    Args:
        text: The chair's reply, holding one JSON object.
        personas: Persona names by the name the chair knows them by (an alias when blind).
        answered: (round, persona) of every reply that could have broken the charter.

    Only a JSON list under `BREACHES_KEY` counts; an entry counts only if it names a member
    that answered in that round and says how, in one line. Anything else is dropped, as is a
    second entry for the same reply.
    """
    data = _json_object(text)
    entries = data.get(BREACHES_KEY) if data is not None else None
    if not isinstance(entries, list):
        return []
    by_name = {shown.casefold(): persona for shown, persona in personas.items()}
    flags: list[CharterFlag] = []
    for entry in entries:
        flag = _flag(entry, by_name, answered)
        if flag is None or any(
            (f.persona, f.round_number) == (flag.persona, flag.round_number) for f in flags
        ):
            continue
        flags.append(flag)
        if len(flags) == BREACHES_MAX:
            break
    return flags


def _flag(
    entry: object, by_name: Mapping[str, str], answered: Collection[tuple[int, str]]
) -> CharterFlag | None:
    if not isinstance(entry, dict) or set(entry) != {"member", "round", "breach"}:
        return None
    member, number, breach = entry["member"], entry["round"], entry["breach"]
    # bool is an int to Python, and "round": true is no round.
    if not isinstance(member, str) or not isinstance(breach, str):
        return None
    if not isinstance(number, int) or isinstance(number, bool):
        return None
    persona = by_name.get(member.strip().casefold())
    reason = " ".join(clean_text(breach).split()).rstrip(".")
    if persona is None or (number, persona) not in answered or not reason:
        return None
    return CharterFlag(persona, number, graphemes.ellipsize(reason, BREACH_MAX_CHARS), "chair")


def _json_object(text: str) -> dict[str, object] | None:
    """The one JSON object the reply holds (fenced or bare), or None."""
    fenced = re.search(r"```(?:json)?\s*(\{.*\})\s*```", text, re.DOTALL)
    start, end = text.find("{"), text.rfind("}")
    candidate = fenced[1] if fenced else text[start : end + 1] if 0 <= start < end else ""
    try:
        data = json.loads(candidate)
    except json.JSONDecodeError:
        return None
    return data if isinstance(data, dict) else None


def flags_to_json(flags: list[CharterFlag]) -> list[dict[str, object]]:
    """The flags as the synthesis record stores them."""
    return [
        {"persona": f.persona, "round": f.round_number, "reason": f.reason, "source": f.source}
        for f in flags
    ]


def flags_from_json(saved: object) -> list[CharterFlag]:
    """The flags a synthesis record stored (entries it can't read are skipped)."""
    flags: list[CharterFlag] = []
    for entry in saved if isinstance(saved, list) else []:
        if not isinstance(entry, dict):
            continue
        persona, number, reason = entry.get("persona"), entry.get("round"), entry.get("reason")
        source = entry.get("source")
        if not (isinstance(persona, str) and isinstance(number, int) and isinstance(reason, str)):
            continue
        kind = _SOURCES.get(source) if isinstance(source, str) else None
        if kind is not None:
            flags.append(CharterFlag(persona, number, reason, kind))
    return flags
