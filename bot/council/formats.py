"""How each format orders a round: who speaks, in which steps, and what each step can see.

A round is a list of steps. Speakers within a step run concurrently and see the transcript as
it stood when the step began; a later step sees everything earlier steps said.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.council.models import FormatName, ReplyKind, SpeakingOrder
from bot.i18n import Text, t

# How a format is named where people read it: each locale's word for it.
_FORMAT_NAMES: dict[str, Text] = {
    "parallel": t("council.format.parallel"),
    "debate": t("council.format.debate"),
    "chaired": t("council.format.chaired"),
    "review": t("council.format.review"),
}


def format_name(format: str) -> Text | str:
    """The format's name to show ("parallel"); a format unknown here is shown as stored."""
    return _FORMAT_NAMES.get(format, format)


@dataclass(frozen=True, slots=True)
class Step:
    """Speakers who talk at the same time, and what their turns are."""

    speakers: tuple[str, ...]
    kind: ReplyKind = ReplyKind.ANSWER


def plan_round(
    format: FormatName,
    round_number: int,
    members: Sequence[str],
    chair: str | None,
    addressed_first: Sequence[str] = (),
    order: SpeakingOrder = "rotating",
    spoken: Mapping[str, int] | None = None,
) -> list[Step]:
    """The steps of one round for this format.

    `addressed_first` names members another member put a question to last round; `spoken`
    counts each member's answers so far. `order` seats a debate's speakers, or a chaired
    council's members: "rotating" shifts a debate by one each round (a chaired council seats
    the addressed first), "fixed" keeps the order given, and "natural" seats the addressed
    first, then who has spoken least, ties in the order given.
    """
    if format == "debate":
        return [
            Step((name,))
            for name in _ordered(members, round_number, addressed_first, order, spoken)
        ]
    if format == "chaired":
        speakers = [m for m in members if m != chair]
        if order == "rotating":
            first = [m for m in speakers if m in addressed_first]
            seated = [*first, *(m for m in speakers if m not in first)]
        else:
            seated = _ordered(speakers, round_number, addressed_first, order, spoken)
        chair_step = [Step((chair,), ReplyKind.CHAIR)] if chair else []
        return [*chair_step, Step(tuple(seated))]
    return [Step(tuple(members))]


def _ordered(
    members: Sequence[str],
    round_number: int,
    addressed_first: Sequence[str],
    order: SpeakingOrder,
    spoken: Mapping[str, int] | None,
) -> list[str]:
    if order == "fixed":
        return list(members)
    if order == "natural":
        counts = spoken or {}
        position = {name: index for index, name in enumerate(members)}
        return sorted(
            members,
            key=lambda m: (m not in addressed_first, counts.get(m, 0), position[m]),
        )
    shift = (round_number - 1) % len(members)
    return [*members[shift:], *members[:shift]]


def competing_members(format: FormatName, members: Sequence[str], chair: str | None) -> list[str]:
    """Members who answer and compete for votes; the chair of a chaired council does not."""
    if format == "chaired":
        return [m for m in members if m != chair]
    return list(members)


def chair_instruction(round_number: int, *, has_questions: bool, language: str = "English") -> str:
    """What the chair is asked to do at the start of a round, in the council's `language`."""
    if round_number == 1:
        ask = "Open the council: frame the topic as one sharp question for the members."
    else:
        ask = (
            f"Open round {round_number}: put one question or challenge to the council, drawing "
            "on what was said so far; name the members you want to hear from."
        )
    if has_questions:
        ask += " Take the audience's question(s) above into account."
    return ask + f" Do not answer it yourself. Two or three sentences, in {language}."
