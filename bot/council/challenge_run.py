"""Running a challenge: each member answers alone, then debates once, then its answer is final.

The debate follows Du et al. 2023: each member sees the others' independent replies and is
asked to reconsider; what it answers then is its final answer. The members are asked in
parallel at each stage, so no one sees another's answer before giving its own.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from bot.config import CouncilConfig, ModelConfig
from bot.council.answers import choice_letters, extract_answer
from bot.council.challenge import Question
from bot.council.challenge_scores import MemberAnswer, QuestionResult
from bot.council.events import ModelCalled, Watcher
from bot.council.spec import build_spec
from bot.errors import ProviderError
from bot.graphemes import ellipsize
from bot.providers.base import complete
from bot.providers.types import ChatMessage, CompletionRequest, Provider

# How much of another member's reply the debate prompt quotes: enough for its reasoning,
# bounded so that eight members' replies stay well inside a small model's context.
QUOTE_MAX_CHARS: Final = 1500

SYSTEM_PROMPT: Final = (
    "You are {name}, one member of a council answering a question that has a known answer. "
    "Work it out briefly and carefully. End with a last line of the form `Answer: <answer>`, "
    "{answer_form}."
)
NUMBER_FORM: Final = "giving the answer as a single number"
CHOICE_FORM: Final = "giving the letter of one choice"
DEBATE_PROMPT: Final = (
    "These are the other members' answers to the question:\n\n{others}\n\n"
    "Using their reasoning as additional advice, examine your answer and theirs step by step, "
    "then give your final answer, ending with a last line `Answer: <answer>`."
)


@dataclass(frozen=True, slots=True)
class Contender:
    """A member taking part: its name and the model that answers for it."""

    name: str
    model: ModelConfig
    provider: Provider


def contenders_for(
    config: CouncilConfig, providers: Mapping[str, Provider], preset: str | None
) -> list[Contender]:
    """The members of `preset` (default: "default"), in seat order.

    Raises:
        UserFacingError: there is no such preset, or a member can't be seated.
    """
    spec = build_spec(config, "challenge", preset=preset)
    contenders = []
    for seat in spec.members:
        model = config.models[seat.model_key]
        contenders.append(Contender(seat.name, model, providers[model.provider]))
    return contenders


def question_text(question: Question) -> str:
    """The question as a member reads it, with lettered choices if it has them."""
    if not question.is_multiple_choice:
        return question.prompt
    letters = choice_letters(len(question.choices))
    lines = [
        f"{letter}) {choice}" for letter, choice in zip(letters, question.choices, strict=True)
    ]
    return "\n".join([question.prompt, "", *lines])


ResultHandler = Callable[[int, QuestionResult], Awaitable[None]]


async def run_challenge(
    questions: Sequence[Question],
    contenders: Sequence[Contender],
    *,
    on_result: ResultHandler | None = None,
    watcher: Watcher | None = None,
) -> list[QuestionResult]:
    """Ask every question, one after another; `on_result` hears each (1-based) as it ends,
    `watcher` each model call."""
    results = []
    for number, question in enumerate(questions, start=1):
        result = await ask_question(question, contenders, watcher)
        results.append(result)
        if on_result is not None:
            await on_result(number, result)
    return results


async def ask_question(
    question: Question, contenders: Sequence[Contender], watcher: Watcher | None = None
) -> QuestionResult:
    """One question: the independent answers, then the final answers after one debate.

    `watcher` sees each model call end, as the operator's metrics count a council's.
    """
    asked = ChatMessage("user", question_text(question))
    first = await asyncio.gather(*(_answer(c, question, (asked,), watcher) for c in contenders))
    by_name = {c.name: said for c, said in zip(contenders, first, strict=True)}
    finals = await asyncio.gather(
        *(
            _answer(
                c,
                question,
                (
                    asked,
                    ChatMessage("assistant", by_name[c.name].text or "(no answer)"),
                    ChatMessage("user", _debate_prompt(c.name, by_name)),
                ),
                watcher,
            )
            for c in contenders
        )
    )
    return QuestionResult(
        question,
        by_name,
        {c.name: said for c, said in zip(contenders, finals, strict=True)},
    )


def _debate_prompt(name: str, answers: Mapping[str, MemberAnswer]) -> str:
    others = "\n\n".join(
        f"{other}: {ellipsize(said.text.strip(), QUOTE_MAX_CHARS) or '(no answer)'}"
        for other, said in answers.items()
        if other != name
    )
    return DEBATE_PROMPT.format(others=others)


async def _answer(
    contender: Contender,
    question: Question,
    messages: tuple[ChatMessage, ...],
    watcher: Watcher | None,
) -> MemberAnswer:
    """The member's reply and the answer read from it; a failed call reads as no answer."""
    form = CHOICE_FORM if question.is_multiple_choice else NUMBER_FORM
    request = CompletionRequest(
        model=contender.model.model,
        system=SYSTEM_PROMPT.format(name=contender.name, answer_form=form),
        messages=messages,
        max_tokens=contender.model.max_tokens,
        temperature=contender.model.temperature,
    )
    model = contender.model
    started = time.monotonic()
    try:
        completion = await complete(contender.provider, request)
    except ProviderError as exc:
        if watcher is not None:
            watcher.observe(
                ModelCalled(model.provider, exc.kind, latency_s=time.monotonic() - started)
            )
        # Counted as wrong and listed with the unreadable answers, with the reason.
        return MemberAnswer(f"(no reply: {exc.message})", None)
    if watcher is not None:
        used_in, used_out = completion.input_tokens, completion.output_tokens
        watcher.observe(
            ModelCalled(
                model.provider,
                "ok",
                used_in,
                used_out,
                model.cost_usd(used_in, used_out),
                completion.latency_s,
                completion.first_token_s,
            )
        )
    return MemberAnswer(completion.text, extract_answer(completion.text, question.choices))
