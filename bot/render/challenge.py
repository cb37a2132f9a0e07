"""A challenge's report: the three arms compared, as JSON, Markdown and terminal lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from bot.council.challenge_scores import (
    Accuracy,
    ChallengeScore,
    QuestionResult,
    majority,
    score_challenge,
)
from bot.graphemes import ellipsize

# How much of an unreadable reply the Markdown report quotes.
UNPARSED_QUOTE_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class ChallengeReport:
    """Everything a report shows: which set, who answered, each question, and the score."""

    question_set: str
    preset: str
    members: tuple[str, ...]
    results: tuple[QuestionResult, ...]

    @property
    def score(self) -> ChallengeScore:
        """The three arms scored on these results."""
        return score_challenge(self.results, self.members)


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


def describe(accuracy: Accuracy) -> str:
    """ "7/10 right, 70.0 % (95 % CI 39.7 %-89.2 %)"."""
    return (
        f"{accuracy.correct}/{accuracy.total} right, {_percent(accuracy.share)} "
        f"(95 % CI {_percent(accuracy.low)}-{_percent(accuracy.high)})"
    )


def summary_lines(report: ChallengeReport) -> list[str]:
    """The comparison of the arms, one line each, for the terminal."""
    score = report.score
    lines = [f"{name} alone: {describe(a)}" for name, a in score.members.items()]
    lines += [
        f"Best member alone ({score.best_member}): {describe(score.members[score.best_member])}",
        f"Average member alone: {_percent(score.average_member)}",
        f"Majority of independent answers: {describe(score.majority_independent)}",
        f"Majority after debate: {describe(score.majority_debate)}",
        f"Debate turned {score.wrong_to_right} answer(s) wrong to right "
        f"and {score.right_to_wrong} right to wrong.",
    ]
    if score.unparsed:
        lines.append(f"{len(score.unparsed)} answer(s) could not be read and count as wrong.")
    return lines


def _accuracy_json(accuracy: Accuracy) -> dict[str, Any]:
    return {
        "correct": accuracy.correct,
        "total": accuracy.total,
        "accuracy": accuracy.share,
        "ci95": [accuracy.low, accuracy.high],
    }


def render_json(report: ChallengeReport) -> str:
    """The report as indented JSON: the arms, each question's answers, the unread replies."""
    score = report.score
    members = report.members
    data = {
        "set": report.question_set,
        "preset": report.preset,
        "members": list(members),
        "questions": score.questions,
        "arms": {
            "single_member": {
                "members": {n: _accuracy_json(a) for n, a in score.members.items()},
                "best": score.best_member,
                "average_accuracy": score.average_member,
            },
            "majority_independent": _accuracy_json(score.majority_independent),
            "majority_after_debate": _accuracy_json(score.majority_debate),
        },
        "wrong_to_right": score.wrong_to_right,
        "right_to_wrong": score.right_to_wrong,
        "results": [
            {
                "question": r.question.prompt,
                "choices": list(r.question.choices),
                "answer": r.question.answer,
                "first": {n: r.first[n].answer for n in members},
                "final": {n: r.final[n].answer for n in members},
                "majority_independent": majority([r.first[n].answer for n in members]),
                "majority_after_debate": majority([r.final[n].answer for n in members]),
            }
            for r in report.results
        ],
        "unparsed": [
            {"question": u.question, "member": u.member, "stage": u.stage, "text": u.text}
            for u in score.unparsed
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|").replace("*", "\\*").replace("_", "\\_")


def render_markdown(report: ChallengeReport) -> str:
    """The report as a Markdown page: the arms table, then each question, then unread replies."""
    score = report.score
    members = report.members
    lines = [
        f"# Challenge: {report.question_set}, {score.questions} question(s)",
        "",
        f"Preset `{report.preset}`: {', '.join(members)}.",
        "",
        "| Arm | Right | Accuracy | 95 % CI |",
        "| --- | ---: | ---: | --- |",
    ]
    arms = [(f"{name} alone", a) for name, a in score.members.items()]
    arms += [
        ("Majority of independent answers", score.majority_independent),
        ("Majority after debate", score.majority_debate),
    ]
    for label, accuracy in arms:
        lines.append(
            f"| {_cell(label)} | {accuracy.correct}/{accuracy.total} | "
            f"{_percent(accuracy.share)} | {_percent(accuracy.low)}-{_percent(accuracy.high)} |"
        )
    lines += [
        "",
        f"Best member alone: {score.best_member}; average member alone: "
        f"{_percent(score.average_member)}.",
        f"Debate turned {score.wrong_to_right} answer(s) wrong to right and "
        f"{score.right_to_wrong} right to wrong.",
        "",
        "## Questions",
        "",
        "| # | Question | Answer | " + " | ".join(_cell(n) for n in members) + " |",
        "| ---: | --- | --- | " + " | ".join("---" for _ in members) + " |",
    ]
    for number, result in enumerate(report.results, start=1):
        answers = [
            f"{result.first[n].answer or '?'} → {result.final[n].answer or '?'}" for n in members
        ]
        lines.append(
            f"| {number} | {_cell(result.question.prompt)} | {result.question.answer} | "
            + " | ".join(answers)
            + " |"
        )
    if score.unparsed:
        lines += ["", "## Answers that could not be read (counted as wrong)", ""]
        lines += [
            f"- Question {u.question}, {u.member} ({u.stage}): "
            f"{_cell(ellipsize(u.text, UNPARSED_QUOTE_CHARS)) or '(empty)'}"
            for u in score.unparsed
        ]
    return "\n".join(lines) + "\n"


def render_report(report: ChallengeReport, suffix: str) -> str:
    """The report for a file ending in `suffix` (".json"; anything else is Markdown)."""
    return render_json(report) if suffix.lower() == ".json" else render_markdown(report)


def question_line(number: int, result: QuestionResult, members: Sequence[str]) -> str:
    """One question's outcome for the terminal: who was right before and after the debate."""

    def marks(stage: str) -> str:
        said = result.first if stage == "first" else result.final
        return ", ".join(
            f"{n} {said[n].answer or '?'}{' ✓' if said[n].answer == result.question.answer else ''}"
            for n in members
        )

    return (
        f"Q{number}: {result.question.prompt} = {result.question.answer} | "
        f"alone: {marks('first')} | after debate: {marks('final')}"
    )
