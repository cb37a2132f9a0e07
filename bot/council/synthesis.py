"""The closing synthesis: asked for as JSON, parsed into a model, with a fallback for prose."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot import graphemes

VERDICT_FALLBACK_MAX = 300
"""How much of an unstructured synthesis's first line stands in for its verdict."""

SYNTHESIS_FIELDS = (
    "consensus",
    "disagreements",
    "open_questions",
    "cautions",
    "changed_from_before",
)


class Synthesis(BaseModel):
    """What the council agreed and disagreed on, what stays open, the cautions, and a verdict."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    consensus: list[str] = Field(default_factory=list)
    disagreements: list[str] = Field(default_factory=list)
    open_questions: list[str] = Field(default_factory=list)
    cautions: list[str] = Field(default_factory=list)
    changed_from_before: list[str] = Field(default_factory=list)
    verdict: str = ""
    ranking: list[str] = Field(default_factory=list)
    author: str = ""
    is_structured: bool = True


SYNTHESIS_INSTRUCTION = """The discussion is over. Write the council's synthesis as JSON only, \
no prose around it, in this shape:
{"consensus": ["points most members agreed on"],
 "disagreements": ["where members differed, naming who held which view"],
 "open_questions": ["what remains unresolved"],
 "cautions": ["risks, governance or control concerns raised"],
 "verdict": "one line: the council's overall answer"}
Keep every item to one sentence. Keep these keys exactly as shown, in English; write \
every item and the verdict in %s."""


def synthesis_instruction(
    language: str, coverage: str, ranking: Sequence[str] = (), *, has_memory: bool = False
) -> str:
    """The summariser's final request, with the coverage and any peer ranking stated.

    `language` names the language of the free text ("Russian", or the topic's language); the
    JSON keys stay English, since `parse_synthesis` reads them.
    """
    text = SYNTHESIS_INSTRUCTION % language
    if has_memory:
        text += (
            '\nAlso add "changed_from_before": a list of the points where the council now '
            "concludes differently from its earlier sessions (an empty list if none)."
        )
    text += f"\nCoverage: {coverage}. Mention missing members in disagreements if it matters."
    if ranking:
        text += "\nThe members' peer review ranked the answers: " + "; ".join(ranking) + "."
    return text


_HEADINGS = {
    "consensus": "consensus",
    "agreement": "consensus",
    "agreements": "consensus",
    "disagreements": "disagreements",
    "disagreement": "disagreements",
    "open questions": "open_questions",
    "open_questions": "open_questions",
    "cautions": "cautions",
    "concerns": "cautions",
    "verdict": "verdict",
}
_HEADING_RE = re.compile(r"^[#*\s]*([A-Za-z_ ]+?)[*\s]*:?[*\s]*$")


def parse_synthesis(text: str, author: str) -> Synthesis:
    """Parse the summariser's reply: JSON if it holds any, else headed sections, else the prose."""
    for candidate in _json_candidates(text):
        try:
            data = json.loads(candidate)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            try:
                parsed = Synthesis.model_validate({**_normalise(data), "author": author})
            except ValidationError:
                continue
            return parsed
    if (partial := _parse_partial_json(text, author)) is not None:
        return partial
    return _parse_sections(text, author)


_STRING = r'"((?:[^"\\]|\\.)*)"'


def _parse_partial_json(text: str, author: str) -> Synthesis | None:
    """Salvage the complete strings of a JSON reply cut off mid-way (e.g. at max_tokens)."""
    if "{" not in text or '"' not in text:
        return None
    found: dict[str, object] = {}
    for field in SYNTHESIS_FIELDS:
        match = re.search(rf'"{field}"\s*:\s*\[(.*?)(?:\]|$)', text, re.DOTALL)
        if match is not None:
            found[field] = [json.loads(f'"{item}"') for item in re.findall(_STRING, match[1])]
    verdict = re.search(rf'"verdict"\s*:\s*{_STRING}', text)
    if verdict is not None:
        found["verdict"] = json.loads(f'"{verdict[1]}"')
    if not any(found.values()):
        return None
    return Synthesis.model_validate({**found, "author": author, "is_structured": False})


def _json_candidates(text: str) -> list[str]:
    fenced = re.findall(r"```(?:json)?\s*(\{.*?\})\s*```", text, re.DOTALL)
    start, end = text.find("{"), text.rfind("}")
    whole = [text[start : end + 1]] if 0 <= start < end else []
    return [*fenced, *whole]


def _normalise(data: dict[str, object]) -> dict[str, object]:
    result: dict[str, object] = {}
    for key, value in data.items():
        field = _HEADINGS.get(key.strip().lower().replace("-", " "), key)
        if field in SYNTHESIS_FIELDS:
            items = [value] if isinstance(value, str) else value
            if isinstance(items, list):
                items = [str(v).strip() for v in items if str(v).strip()]
            result[field] = items
        elif field == "verdict" and isinstance(value, list):
            result[field] = " ".join(str(v) for v in value)
        else:
            result[field] = value
    return result


def _parse_sections(text: str, author: str) -> Synthesis:
    sections: dict[str, list[str]] = {}
    current: str | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        heading, _, rest = line.partition(":")
        key = _HEADINGS.get(heading.strip("#* ").lower())
        if key is not None:
            current = key
            if rest.strip("* "):
                sections.setdefault(key, []).append(rest.strip("* "))
            continue
        if current is not None:
            sections.setdefault(current, []).append(line.lstrip("-*•0123456789. ").strip())
    verdict = " ".join(sections.pop("verdict", []))
    if not sections and not verdict:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        return Synthesis(
            verdict=graphemes.ellipsize(first, VERDICT_FALLBACK_MAX),
            author=author,
            is_structured=False,
        )
    return Synthesis(
        consensus=sections.get("consensus", []),
        disagreements=sections.get("disagreements", []),
        open_questions=sections.get("open_questions", []),
        cautions=sections.get("cautions", []),
        verdict=verdict,
        author=author,
        is_structured=False,
    )
