"""Challenges in Discord: the desk that runs them in their channels, and the persistent
prediction buttons.

A challenge's progress lives in the store: each question is recorded when posted and again
when revealed, so a challenge a restart interrupts carries on at its open question, whose
buttons still work (their custom_id carries the challenge and the question; the store holds
the predictions), and whose predictions count at the reveal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import aiohttp
import discord

from bot.audience import audience_refusal
from bot.council.challenge_records import ChallengeRecord, Prediction, PredictionCount
from bot.council.challenge_run import Contender, ask_question, contenders_for, question_text
from bot.council.challenge_scores import (
    Accuracy,
    MemberAnswer,
    QuestionResult,
    majority,
    score_challenge,
)
from bot.council.events import Watcher
from bot.discord_ui.posting import NO_MENTIONS
from bot.errors import UserFacingError
from bot.i18n import Text, localize, t
from bot.sessions import SessionManager
from bot.store.errors import RecordNotFoundError
from bot.store.store import Store

log = logging.getLogger(__name__)

# How long the audience has to predict before an answer is revealed, at the least.
PREDICT_S: Final = 20.0
PREDICT_ID_RE: Final = (
    r"council:predict:(?P<challenge>[0-9]{1,19}):(?P<number>[0-9]{1,3}):(?P<said>right|wrong)"
)
# Where a challenge runs: channels whose messages the bot can edit by id.
ChallengeChannel = discord.TextChannel | discord.Thread
# What can end a challenge's posting: Discord refusing, or the connection failing.
_DISCORD_FAILURES = (discord.HTTPException, aiohttp.ClientError, TimeoutError)


def predict_custom_id(challenge_id: int, number: int, prediction: Prediction) -> str:
    """The button's custom_id, e.g. `council:predict:7:2:right` (Discord allows 100 chars)."""
    return f"council:predict:{challenge_id}:{number}:{prediction}"


class PredictionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=PREDICT_ID_RE):
    """ "It will be right" or "It will be wrong" under a question. Works across restarts."""

    def __init__(
        self, challenge_id: int, number: int, prediction: Prediction, locale: str | None = None
    ) -> None:
        is_right = prediction == "right"
        super().__init__(
            discord.ui.Button(
                label=localize(
                    t(
                        "council.challenge.predict-right"
                        if is_right
                        else "council.challenge.predict-wrong"
                    ),
                    locale,
                ),
                style=discord.ButtonStyle.success if is_right else discord.ButtonStyle.danger,
                custom_id=predict_custom_id(challenge_id, number, prediction),
            )
        )
        self.challenge_id = challenge_id
        self.number = number
        self.prediction: Prediction = prediction

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[discord.Client],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> PredictionButton:
        """Rebuild the button from its custom_id alone."""
        said: Prediction = "right" if match["said"] == "right" else "wrong"
        return cls(int(match["challenge"]), int(match["number"]), said)

    async def callback(self, interaction: discord.Interaction[discord.Client]) -> None:
        """Record the prediction (replacing the member's earlier one), then say so privately."""
        desk = getattr(interaction.client, "challenges", None)
        locale = str(interaction.locale)
        try:
            if not isinstance(desk, ChallengeDesk):
                raise UserFacingError(t("replies.challenge.predictions-closed"))
            said = await desk.predict(
                interaction.user, self.challenge_id, self.number, self.prediction
            )
        except UserFacingError as refused:
            await interaction.response.send_message(refused.localized(locale), ephemeral=True)
            return
        await interaction.response.send_message(localize(said, locale), ephemeral=True)


def prediction_view(challenge_id: int, number: int, locale: str | None) -> discord.ui.View:
    """The two prediction buttons for one question."""
    view = discord.ui.View(timeout=None)
    for prediction in ("right", "wrong"):
        view.add_item(PredictionButton(challenge_id, number, prediction, locale))
    return view


class ChallengeDesk:
    """Runs challenges in their channels, one task each, and takes the audience's predictions.

    `close` cancels the running challenges; they stay unfinished in the store, and
    `resume_interrupted` (at the next start) carries each on at its open question.
    """

    def __init__(
        self,
        *,
        client: discord.Client,
        store: Store,
        manager: SessionManager,
        watcher: Watcher | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.manager = manager
        # Sees the members' model calls, as the session manager's watcher sees a council's.
        self.watcher = watcher
        self._tasks: set[asyncio.Task[None]] = set()

    def contenders(self, preset: str | None) -> list[Contender]:
        """The members of `preset` who answer.

        Raises:
            UserFacingError: no such preset, or a member can't be seated.
        """
        return contenders_for(self.manager.config, self.manager.providers, preset)

    def start(self, record: ChallengeRecord, contenders: Sequence[Contender]) -> None:
        """Run the stored challenge in its channel, in the background."""
        self._spawn(self._run(record, contenders))

    def resume_interrupted(self, owns: Callable[[int | None], bool]) -> None:
        """Once connected, carry on every challenge a restart interrupted in a guild this
        process owns (`owns(guild_id)`: its shard runs here)."""
        self._spawn(self._resume_all(owns))

    async def close(self) -> None:
        """Stop every running challenge; the store keeps where each was."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def predict(
        self,
        user: discord.User | discord.Member,
        challenge_id: int,
        number: int,
        prediction: Prediction,
    ) -> Text:
        """Keep `user`'s prediction on a question; what to tell them.

        Raises:
            UserFacingError: the guild's voting rules keep them out, or predictions are closed.
        """
        try:
            challenge = await self.store.challenge(challenge_id)
        except RecordNotFoundError:  # a button outliving its database
            raise UserFacingError(t("replies.challenge.predictions-closed")) from None
        settings = await self.store.guild_settings(challenge.guild_id)
        roles = user.roles if isinstance(user, discord.Member) else []
        refusal = audience_refusal(settings, [r.id for r in roles], user.created_at, "vote")
        if refusal is not None:
            raise UserFacingError(refusal)
        if not await self.store.record_prediction(challenge_id, number, user.id, prediction):
            raise UserFacingError(t("replies.challenge.predictions-closed"))
        return t(
            "replies.challenge.predicted-right"
            if prediction == "right"
            else "replies.challenge.predicted-wrong"
        )

    def _spawn(self, work: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (failure := task.exception()) is not None:
            log.error("a challenge failed", exc_info=failure)

    async def _resume_all(self, owns: Callable[[int | None], bool]) -> None:
        await self.client.wait_until_ready()
        for record in await self.store.unfinished_challenges():
            if not owns(record.guild_id):
                continue  # another process runs its guild's shard
            try:
                contenders = self.contenders(record.preset)
            except UserFacingError as exc:
                log.warning("challenge #%d can't carry on: %s", record.id, exc.message)
                await self.store.finish_challenge(record.id)
                continue
            log.info("challenge #%d carries on after a restart", record.id)
            self.start(record, contenders)

    async def _run(self, record: ChallengeRecord, contenders: Sequence[Contender]) -> None:
        try:
            channel = self.client.get_channel(record.channel_id) or await self.client.fetch_channel(
                record.channel_id
            )
            if not isinstance(channel, ChallengeChannel):
                raise TypeError(f"channel {record.channel_id} takes no messages")
            await self._ask_all(record, contenders, channel)
        except (*_DISCORD_FAILURES, TypeError) as exc:
            # The channel is gone or closed to the bot: the challenge can't go on, now or later.
            log.warning("challenge #%d ended early: %s", record.id, exc)
        await self.store.finish_challenge(record.id)

    async def _ask_all(
        self,
        record: ChallengeRecord,
        contenders: Sequence[Contender],
        channel: ChallengeChannel,
    ) -> None:
        names = tuple(c.name for c in contenders)
        total = len(record.questions)
        results = dict(record.results)

        async def say(text: Text, view: discord.ui.View | None = None) -> discord.Message:
            content = localize(text, record.locale)
            if view is None:
                return await channel.send(content, allowed_mentions=NO_MENTIONS)
            return await channel.send(content, view=view, allowed_mentions=NO_MENTIONS)

        if record.posted:
            await say(t("council.challenge.resumed", number=len(results) + 1))
        for number, question in enumerate(record.questions, start=1):
            if number in results:
                continue
            message_id = record.posted.get(number)
            if message_id is None:
                asking = t(
                    "council.challenge.question",
                    number=number,
                    total=total,
                    question=question_text(question),
                )
                posted = await say(asking, prediction_view(record.id, number, record.locale))
                message_id = posted.id
                await self.store.post_challenge_question(record.id, number, message_id)
            result, _ = await asyncio.gather(
                ask_question(question, contenders, self.watcher), asyncio.sleep(PREDICT_S)
            )
            counts = await self.store.reveal_challenge_question(record.id, number, result)
            results[number] = result
            # Someone may have deleted the question; the reveal still stands.
            with contextlib.suppress(discord.NotFound):
                await channel.get_partial_message(message_id).edit(view=None)
            await say(reveal(number, result, names, counts))
        await say(summary([results[n] for n in sorted(results)], names))


def _marks(said: Mapping[str, MemberAnswer], answer: str, names: tuple[str, ...]) -> str:
    return ", ".join(
        f"{name} {said[name].answer or '?'}{' ✅' if said[name].answer == answer else ' ❌'}"
        for name in names
        if name in said
    )


def reveal(
    number: int, result: QuestionResult, names: tuple[str, ...], predictions: PredictionCount
) -> Text:
    """The reveal after a question: the right answer, who was right alone and after debate, and
    how the audience's predictions fared."""
    question = result.question
    answer = question.answer
    before = majority([said.answer for said in result.first.values()])
    after = majority([said.answer for said in result.final.values()])
    is_right = after == answer
    shown = answer
    if question.is_multiple_choice:
        shown = f"{answer}) {question.choices[ord(answer) - ord('A')]}"
    return t(
        "council.challenge.reveal",
        number=number,
        answer=shown,
        alone=_marks(result.first, answer, names),
        debated=_marks(result.final, answer, names),
        before=before or "?",
        after=after or "?",
        outcome=t(
            "council.challenge.outcome-right" if is_right else "council.challenge.outcome-wrong"
        ),
        right=predictions.right,
        wrong=predictions.wrong,
        correct=predictions.correct(is_right=is_right),
    )


def _arm(accuracy: Accuracy) -> str:
    return (
        f"{accuracy.correct}/{accuracy.total} ({accuracy.share * 100:.0f} %, "
        f"95 % CI {accuracy.low * 100:.0f}-{accuracy.high * 100:.0f} %)"
    )


def summary(results: Sequence[QuestionResult], names: tuple[str, ...]) -> Text:
    """The closing comparison of the three arms."""
    score = score_challenge(list(results), names)
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
