"""/council challenge: does the council beat one model? Questions with known answers, in a channel.

Each question is posted with prediction buttons; the members answer alone, then once after
seeing the others' answers; the bot then reveals the right answer and who was right before and
after the debate, and at the end compares the three arms.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Final, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.council.challenge import load_questions
from bot.council.challenge_run import ask_question, contenders_for
from bot.council.challenge_scores import (
    Accuracy,
    MemberAnswer,
    QuestionResult,
    majority,
    score_challenge,
)
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t, tn
from cogs.checks import ensure_host, require_guild

if TYPE_CHECKING:
    from collections.abc import Mapping

    from bot.app import CouncilBot
    from bot.sessions import SessionManager
    from bot.store.store import Store

    # As in cogs/history.py: typed as a Cog, but at run time only part of CouncilCog.
    _Owner = commands.Cog
else:
    _Owner = object

ChallengeSet = Literal["arithmetic"]
# How long the audience has to predict before an answer is revealed, at the least.
PREDICT_S: Final = 20.0
Prediction = Literal["right", "wrong"]


class PredictionView(discord.ui.View):
    """Two buttons, "right" and "wrong", for one question; a member's last click counts.

    Not persistent: it lives only while its question is open, so the predictions stay in memory
    and vanish with it (a restart ends the challenge anyway).
    """

    def __init__(self, locale: str | None) -> None:
        super().__init__(timeout=None)
        self.predictions: dict[int, Prediction] = {}
        self.locale = locale
        self.right.label = localize(t("council.challenge.predict-right"), locale)
        self.wrong.label = localize(t("council.challenge.predict-wrong"), locale)

    @discord.ui.button(style=discord.ButtonStyle.success)
    async def right(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[PredictionView]
    ) -> None:
        await self._predict(interaction, "right")

    @discord.ui.button(style=discord.ButtonStyle.danger)
    async def wrong(
        self, interaction: discord.Interaction[discord.Client], _: discord.ui.Button[PredictionView]
    ) -> None:
        await self._predict(interaction, "wrong")

    async def _predict(
        self, interaction: discord.Interaction[discord.Client], prediction: Prediction
    ) -> None:
        self.predictions[interaction.user.id] = prediction
        said = t(
            "replies.challenge.predicted-right"
            if prediction == "right"
            else "replies.challenge.predicted-wrong"
        )
        await interaction.response.send_message(
            localize(said, str(interaction.locale)), ephemeral=True
        )


class ChallengeCommands(_Owner):
    """/council challenge; needs `store` and `manager` from the cog."""

    bot: CouncilBot
    store: Store
    manager: SessionManager

    @app_commands.command()
    @app_commands.guild_only()
    async def challenge(
        self,
        interaction: discord.Interaction[discord.Client],
        set: ChallengeSet = "arithmetic",
        count: app_commands.Range[int, 1, 10] = 3,
    ) -> None:
        """Test the council on questions with known answers: does it beat one model?

        Args:
            set: The question set: arithmetic (built in, the same questions every time).
            count: How many questions (1-10).
        """
        guild = require_guild(interaction)
        # Checked before acknowledging, so that a refusal is private: the acknowledgement is
        # public, as the challenge's opening line is its reply. One local read is quick.
        settings = await self.store.guild_settings(guild.id)
        ensure_host(interaction.user, settings)
        channel = interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            raise UserFacingError(t("replies.start.wrong-channel"))
        await interaction.response.defer(thinking=True)
        questions = load_questions(set, count)
        contenders = contenders_for(
            self.manager.config, self.manager.providers, settings.default_preset
        )
        await self.store.audit(
            guild.id, interaction.user.id, "challenge.start", detail=f"{set}, {len(questions)}"
        )
        names = tuple(c.name for c in contenders)
        locale = str(interaction.guild_locale) if interaction.guild_locale else None

        def say(text: Text) -> str:
            return localize(text, locale)

        await interaction.followup.send(
            say(tn("council.challenge.started", count, members=", ".join(names), set=set))
        )
        results: list[QuestionResult] = []
        for number, question in enumerate(questions, start=1):
            view = PredictionView(locale)
            posted = await channel.send(
                say(
                    t(
                        "council.challenge.question",
                        number=number,
                        total=len(questions),
                        question=question.prompt,
                    )
                ),
                view=view,
            )
            result, _ = await asyncio.gather(
                ask_question(question, contenders), asyncio.sleep(PREDICT_S)
            )
            view.stop()
            await posted.edit(view=None)
            results.append(result)
            await channel.send(say(_reveal(number, result, names, view.predictions)))
        await channel.send(say(_summary(results, names)))


def _marks(said: Mapping[str, MemberAnswer], answer: str, names: tuple[str, ...]) -> str:
    return ", ".join(
        f"{name} {said[name].answer or '?'}{' ✅' if said[name].answer == answer else ' ❌'}"
        for name in names
    )


def _reveal(
    number: int,
    result: QuestionResult,
    names: tuple[str, ...],
    predictions: Mapping[int, Prediction],
) -> Text:
    answer = result.question.answer
    before = majority([result.first[n].answer for n in names])
    after = majority([result.final[n].answer for n in names])
    is_right = after == answer
    return t(
        "council.challenge.reveal",
        number=number,
        answer=answer,
        alone=_marks(result.first, answer, names),
        debated=_marks(result.final, answer, names),
        before=before or "?",
        after=after or "?",
        outcome=t(
            "council.challenge.outcome-right" if is_right else "council.challenge.outcome-wrong"
        ),
        right=sum(p == "right" for p in predictions.values()),
        wrong=sum(p == "wrong" for p in predictions.values()),
        correct=sum((p == "right") == is_right for p in predictions.values()),
    )


def _arm(accuracy: Accuracy) -> str:
    return (
        f"{accuracy.correct}/{accuracy.total} ({accuracy.share * 100:.0f} %, "
        f"95 % CI {accuracy.low * 100:.0f}-{accuracy.high * 100:.0f} %)"
    )


def _summary(results: list[QuestionResult], names: tuple[str, ...]) -> Text:
    score = score_challenge(results, names)
    return t(
        "council.challenge.summary",
        members="\n".join(f"- {name}: {_arm(a)}" for name, a in score.members.items()),
        best=score.best_member,
        average=f"{score.average_member * 100:.0f}",
        independent=_arm(score.majority_independent),
        debated=_arm(score.majority_debate),
        gained=score.wrong_to_right,
        lost=score.right_to_wrong,
    )
