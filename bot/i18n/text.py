"""`Text`: a catalog message not yet put into any language."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Text:
    """A message id with the values for its placeholders, rendered later for one locale.

    `count` picks the plural form (and fills ``{count}``); a parameter that is itself a `Text`
    is rendered in the same locale. ``str()`` gives the English, for logs and the terminal.
    """

    id: str
    params: tuple[tuple[str, object], ...] = ()
    count: int | None = None

    def __str__(self) -> str:
        from bot.i18n.catalogs import DEFAULT_LOCALE, catalogs  # catalogs imports Text

        return catalogs().render(self, DEFAULT_LOCALE)


def t(message_id: str, /, **params: object) -> Text:
    """The catalog message `message_id` with these placeholder values."""
    return Text(message_id, tuple(params.items()))


def tn(message_id: str, count: int, /, **params: object) -> Text:
    """A message that counts something: its plural form follows `count` in each language."""
    return Text(message_id, (("count", count), *params.items()), count)
