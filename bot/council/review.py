"""Peer review: members rank each other's answers, anonymised and shuffled per reviewer."""

from __future__ import annotations

import json
import random
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Ballot:
    """What one reviewer sees: labels mapped to the personas behind them, in shown order."""

    reviewer: str
    entries: tuple[tuple[str, str, str], ...]  # (label, persona, answer text)

    def persona_for(self, label: str) -> str | None:
        """The persona behind a label such as "Response B"."""
        return next((p for lbl, p, _ in self.entries if lbl == label), None)


def make_ballot(reviewer: str, answers: Mapping[str, str], rng: random.Random) -> Ballot:
    """The others' answers for `reviewer`, its own left out, shuffled for this reviewer alone."""
    others = [(persona, text) for persona, text in answers.items() if persona != reviewer]
    rng.shuffle(others)
    labels = [f"Response {letter}" for letter in string.ascii_uppercase[: len(others)]]
    return Ballot(
        reviewer,
        tuple(
            (label, persona, text) for label, (persona, text) in zip(labels, others, strict=True)
        ),
    )


def review_instruction(ballot: Ballot, language: str = "English") -> str:
    """Ask the reviewer to rank the anonymised answers, as JSON; reasons in `language`."""
    shown = "\n\n".join(f"{label}:\n{text}" for label, _, text in ballot.entries)
    labels = ", ".join(f'"{label}"' for label, _, _ in ballot.entries)
    return (
        "Peer review. Below are the other members' answers, anonymised. Rank them from best to "
        "worst on accuracy, insight and how well they engage with the topic.\n\n"
        f"{shown}\n\n"
        'Reply with JSON only: {"ranking": [' + labels + "] in your order, best first, "
        '"reasons": "one or two sentences"}. Keep the key names and the labels exactly as '
        f"written, in English; write the reasons in {language}."
    )


RETRY_INSTRUCTION = (
    'Your ranking could not be read. Reply with JSON only, e.g. {"ranking": ["Response B", '
    '"Response A"], "reasons": "..."}, using every label exactly once.'
)

_LABEL_RE = re.compile(r"Response\s+([A-Z])\b")


def parse_ranking(text: str, ballot: Ballot) -> list[str] | None:
    """The reviewer's ranking as personas best first, or None when it cannot be read.

    Tries JSON first, then the order in which labels are first mentioned in the text. A ranking
    must name every label exactly once.
    """
    labels = [label for label, _, _ in ballot.entries]
    ranked = _from_json(text) or _from_mentions(text)
    if ranked is None or sorted(ranked) != sorted(labels):
        return None
    personas = [ballot.persona_for(label) for label in ranked]
    return [p for p in personas if p is not None]


def _from_json(text: str) -> list[str] | None:
    start, end = text.find("{"), text.rfind("}")
    if not 0 <= start < end:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    ranking = data.get("ranking") if isinstance(data, dict) else None
    if not isinstance(ranking, list):
        return None
    result = []
    for item in ranking:
        match = _LABEL_RE.search(str(item)) or re.fullmatch(r"\s*([A-Z])\s*", str(item))
        if match is None:
            return None
        result.append(f"Response {match.group(1)}")
    return result


def _from_mentions(text: str) -> list[str] | None:
    seen: list[str] = []
    for letter in _LABEL_RE.findall(text):
        label = f"Response {letter}"
        if label not in seen:
            seen.append(label)
    return seen or None
