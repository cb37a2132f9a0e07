"""Transcript to provider messages, and model output back to a clean reply.

Each member sees the conversation from its own seat: its own turns as `assistant`, everyone
else's as `user` turns prefixed `Name:`. (The `name` field of chat messages is ignored by most
providers, so identity travels in the text.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.providers.types import ChatMessage


class TurnKind(StrEnum):
    """What a transcript entry is."""

    ANSWER = "answer"
    CHAIR = "chair"
    QUESTION = "question"
    REVIEW = "review"


@dataclass(frozen=True, slots=True)
class Turn:
    """One entry of the transcript. `speaker` is a persona name, or the asker's display name
    for an audience question."""

    round_number: int
    speaker: str
    kind: TurnKind
    text: str

    def heading(self, names: Mapping[str, str]) -> str:
        """How other members see who said this (`names` maps personas to their shown names)."""
        if self.kind is TurnKind.QUESTION:
            return f"A member of the audience, {self.speaker}, asks"
        shown = names.get(self.speaker, self.speaker)
        if self.kind is TurnKind.CHAIR:
            return f"{shown} (chair)"
        return shown


@dataclass(frozen=True, slots=True)
class Seat:
    """A persona as the prompts need it."""

    name: str
    style: str


@dataclass(frozen=True, slots=True)
class PromptRules:
    """The council's house rules, configurable per session."""

    # The language's English name, or None: answer in the language the topic is written in.
    language: str | None = None
    max_words: int = 180
    is_blind: bool = False
    # A permanent council's charter, as `bot.council.charter.clean_charter` left it; "" for none.
    charter: str = ""


def system_prompt(seat: Seat, others: Sequence[str], rules: PromptRules, *, is_chair: bool) -> str:
    """The persona's system prompt: who it is, who else sits here, and the council's rules."""
    role = (
        "You chair this council: you frame the questions and challenge the members; you do not "
        "compete with them."
        if is_chair
        else "You are one member of this council."
    )
    lines = [
        f"You are {seat.name}, taking part in a live AI council watched by an audience on Discord.",
        role,
        f"The other participants are: {', '.join(others) or 'none'}.",
    ]
    if seat.style.strip():
        lines.append(f"Your character: {seat.style.strip()}")
    lines += [
        "Rules:",
        f"- Speak only as yourself, {seat.name}. Never write lines for another participant.",
        "- Address the others by name when you answer or challenge them.",
        "- Say plainly when you agree, disagree or change your position, and why.",
        f"- Keep each reply under {rules.max_words} words. No preamble, no name prefix.",
        language_rule(rules.language),
    ]
    if rules.is_blind:
        lines.append(
            f"- This council is blind: you are known only as {seat.name}. Never say which AI "
            "model you are or which company made you."
        )
    lines += charter_section(rules.charter, in_language(rules.language))
    return "\n".join(lines)


def charter_section(charter: str, language: str) -> list[str]:
    """The system prompt's lines for the charter, fenced so that they read as the hosts' rules.

    `language` is how the prompts name the council's language ("Russian", or the topic's): a
    charter written in another language does not change the language of the answers.
    """
    if not charter:
        return []
    return [
        "The council's charter: rules this server's hosts set for every member. Follow them in "
        "every reply; they never override the rules above.",
        "=== Charter ===",
        charter,
        "=== End of charter ===",
        f"The charter may be written in another language: still answer in {language}.",
    ]


def in_language(language: str | None) -> str:
    """The council's language as the prompts name it: "Russian", or the topic's language."""
    return language or "the language the council's topic is written in"


def language_rule(language: str | None) -> str:
    """The system prompt's rule on which language to answer in."""
    if language:
        return (
            f"- Answer in {language}, whatever language the topic or the others use. Keep names "
            "as they are written."
        )
    return (
        "- Answer in the language the council's topic is written in (which may not be English), "
        "even if others use another language. Keep names as they are written."
    )


def build_messages(
    me: str,
    topic: str,
    transcript: Sequence[Turn],
    instruction: str,
    names: Mapping[str, str] | None = None,
    memory: str = "",
) -> tuple[ChatMessage, ...]:
    """The conversation from `me`'s seat, ending with `instruction` as the last user turn.

    Consecutive turns of the same role are merged, since some providers require alternation.
    """
    opening = f"The council's topic: {topic}"
    if memory:
        opening += f"\n\nWhat this council concluded in earlier sessions:\n{memory}"
    messages: list[ChatMessage] = [ChatMessage("user", opening)]
    for turn in transcript:
        if turn.speaker == me and turn.kind is not TurnKind.QUESTION:
            messages.append(ChatMessage("assistant", turn.text))
        else:
            messages.append(ChatMessage("user", f"{turn.heading(names or {})}: {turn.text}"))
    messages.append(ChatMessage("user", instruction))
    return _merge(messages)


def _merge(messages: Sequence[ChatMessage]) -> tuple[ChatMessage, ...]:
    merged: list[ChatMessage] = []
    for message in messages:
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, f"{merged[-1].content}\n\n{message.content}")
        else:
            merged.append(message)
    return tuple(merged)


def stop_strings(me: str, names: Sequence[str]) -> tuple[str, ...]:
    """Stop generation when the model starts a line as another participant."""
    return tuple(f"\n{name}:" for name in names if name != me)


def clean_reply(text: str, me: str, names: Sequence[str]) -> str:
    """Strip a leading own-name prefix and cut where the model starts speaking for another."""
    own = re.compile(rf"^\s*(\*\*)?{re.escape(me)}(\*\*)?\s*(\(chair\))?\s*:\s*", re.IGNORECASE)
    text = own.sub("", text, count=1)
    cut = impersonation_start(text, me, names)
    return (text if cut is None else text[:cut]).strip()


def impersonation_start(text: str, me: str, names: Sequence[str]) -> int | None:
    """Where the text starts a line as another participant ("Gemini: ..."), if it does."""
    others = [re.escape(n) for n in names if n.casefold() != me.casefold()]
    if not others:
        return None
    pattern = re.compile(
        rf"(?:^|\n)[ \t>*_]*(?:{'|'.join(others)})[*_]*\s*(?:\(chair\))?\s*:", re.IGNORECASE
    )
    match = pattern.search(text)
    return None if match is None else match.start()


# A sentence with its end mark; text after the last mark counts as a sentence too.
_SENTENCE_RE = re.compile(r"[^.!?\n]*(?:[.!?]+|$)")


def directed_questions(text: str, me: str, names: Sequence[str]) -> list[tuple[str, str]]:
    """Questions this reply puts to another member by name, as (addressee, question) pairs.

    The fallback for a reply without an `ask:` footer. A member is addressed when its name
    opens the question ("Gemini, what…?"), closes it ("…, Gemini?"), follows "ask" or "a
    question to/for", or opens an earlier sentence of the same paragraph ("Claude, I
    disagree. What would you do?"). A name merely mentioned ("Is this fair for Claude?") is
    not an address.
    """
    others = [n for n in names if n.casefold() != me.casefold()]
    found: list[tuple[str, str]] = []
    for paragraph in re.split(r"\n\s*\n", text):
        # The member the paragraph addressed so far, and where that address began.
        pending: tuple[str, int] | None = None
        sentences = [s.strip() for s in _SENTENCE_RE.findall(paragraph.replace("\n", " "))]
        sentences = [s for s in sentences if s]
        for index, sentence in enumerate(sentences):
            opener = next((n for n in others if _opens_with(sentence, n)), None)
            if opener is not None:
                pending = (opener, index)
            if not sentence.endswith("?"):
                continue
            named = next((n for n in others if _addresses(sentence, n)), None)
            if named is not None:
                addressee, question = named, sentence
            elif pending is not None:
                addressee = pending[0]
                question = " ".join(sentences[pending[1] : index + 1])
            else:
                continue
            pending = None
            if all(a != addressee for a, _ in found):
                found.append((addressee, question))
    return found


def _opens_with(sentence: str, name: str) -> bool:
    """Whether `sentence` begins by calling on `name` ("Claude, …", "@Claude: …")."""
    return re.match(rf"@?{re.escape(name)}\s*[,:]", sentence, re.IGNORECASE) is not None


def _addresses(question: str, name: str) -> bool:
    """Whether a question sentence is put to `name` within itself."""
    escaped = re.escape(name)
    return (
        _opens_with(question, name)
        or re.search(rf"@{escaped}\b", question, re.IGNORECASE) is not None
        or re.search(rf",\s*{escaped}\s*\?$", question, re.IGNORECASE) is not None
        or re.search(
            rf"\b(?:ask(?:ing)?|questions?\s+(?:to|for))\s+{escaped}\b", question, re.IGNORECASE
        )
        is not None
    )


def questions_put(directed: Sequence[str]) -> list[str]:
    """The instruction's opening lines: the questions other members put to this one."""
    return [f"First, answer the question put to you: {question}" for question in directed]


def round_instruction(
    round_number: int,
    *,
    is_first: bool,
    directed: Sequence[str] = (),
    answers_chair: bool = False,
) -> str:
    """What a member is asked to do this round."""
    parts = questions_put(directed)
    if answers_chair:
        parts.append(
            f"Round {round_number}. Answer the chair's question above with your own view; "
            "engage with what the others said where it matters."
        )
    elif is_first:
        parts.append(
            f"Round {round_number}. Give your own answer to the topic, with your main reasons."
        )
    else:
        parts.append(
            f"Round {round_number}. Respond to what the others said: agree, disagree, change "
            "your position (and say why), or put a direct question to another member by name. "
            "Answer any audience question above."
        )
    return "\n".join(parts)
