"""Questions members put to each other, as the transcript and the summary show them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.council.models import AudienceQuestion, MemberQuestion, SessionRecord
from bot.i18n import Text, localize, t

ASKS_MARK = "❓"
ANSWERING_MARK = "↪"


def asks_line(
    question: MemberQuestion,
    asker: str,
    addressee: str,
    locale: str | None,
    *,
    text: str | None = None,
) -> str:
    """The line under the asking reply: "❓ DeepSeek asks Claude: …" (`text`: the question
    as the medium shows it, by default as put)."""
    said = asks_line_words(question, asker, addressee, text=text)
    return f"{ASKS_MARK} {localize(said, locale)}"


def asks_line_words(
    question: MemberQuestion,
    asker: str | None = None,
    addressee: str | None = None,
    *,
    text: str | None = None,
) -> Text:
    """ "DeepSeek asks Claude: …", by default with the personas' own names."""
    return t(
        "council.question.asks",
        asker=asker or question.asker,
        addressee=addressee or question.addressee,
        question=question.text if text is None else text,
    )


def answering_line(askers: Sequence[str], locale: str | None) -> str:
    """The words that open an answer: "↪ answering DeepSeek"."""
    return f"{ANSWERING_MARK} {answering_words(', '.join(dict.fromkeys(askers)), locale)}"


def answering_words(asker: str, locale: str | None) -> str:
    """ "answering DeepSeek", without the mark (the thread makes it a link)."""
    return localize(t("council.question.answering", asker=asker), locale)


def audience_asks(
    question: AudienceQuestion, name: str, shown: Callable[[str], str], text: str
) -> Text:
    """An audience question's line: to the council, or to the member it names (`shown` gives
    a persona as the reader knows it). `name` and `text` come formatted for the medium."""
    if question.addressee is None:
        return t("council.audience-asks", name=name, question=text)
    member = shown(question.addressee)
    return t("council.audience-asks-member", name=name, member=member, question=text)


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
