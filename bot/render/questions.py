"""Questions members put to each other, as the transcript and the summary show them."""

from __future__ import annotations

from collections.abc import Sequence

from bot.council.models import MemberQuestion, SessionRecord
from bot.i18n import localize, t

ASKS_MARK = "❓"
ANSWERING_MARK = "↪"


def asks_line(question: MemberQuestion, asker: str, addressee: str, locale: str | None) -> str:
    """The line under the asking reply: "❓ DeepSeek asks Claude: …"."""
    said = t("council.question.asks", asker=asker, addressee=addressee, question=question.text)
    return f"{ASKS_MARK} {localize(said, locale)}"


def answering_line(askers: Sequence[str], locale: str | None) -> str:
    """The words that open an answer: "↪ answering DeepSeek"."""
    return f"{ANSWERING_MARK} {answering_words(', '.join(dict.fromkeys(askers)), locale)}"


def answering_words(asker: str, locale: str | None) -> str:
    """ "answering DeepSeek", without the mark (the thread makes it a link)."""
    return localize(t("council.question.answering", asker=asker), locale)


def question_pairs(record: SessionRecord, locale: str | None) -> list[str]:
    """Each question put, with the round that answered it or that it went unanswered."""
    lines = []
    for q in record.member_questions:
        if q.answered_in_round is None:
            said = t(
                "council.question.unanswered", asker=q.asker, addressee=q.addressee, question=q.text
            )
        else:
            said = t(
                "council.question.answered",
                asker=q.asker,
                addressee=q.addressee,
                question=q.text,
                round=q.answered_in_round,
            )
        lines.append(localize(said, locale))
    return lines
