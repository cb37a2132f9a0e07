"""Loading the shipped `.po` catalogs with Babel and rendering messages from them."""

from __future__ import annotations

import functools
import io
import logging
import re
import string
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from bot.i18n.text import Text

log = logging.getLogger(__name__)

DEFAULT_LOCALE = "en"
"""The language every message exists in, and the one used where no catalog fits."""

LOCALES_DIR = Path(__file__).with_name("locales")


def shipped_locales(root: Path = LOCALES_DIR) -> tuple[str, ...]:
    """The languages with catalogs, the default first ("en", "ru")."""
    found = sorted(p.name for p in root.iterdir() if (p / "LC_MESSAGES").is_dir())
    return tuple(sorted(found, key=lambda code: code != DEFAULT_LOCALE))


def read_catalogs(language: str, root: Path = LOCALES_DIR) -> list[Catalog]:
    """Every domain's catalog for one language, as Babel reads them (for tests and tools)."""
    catalogs = []
    for path in sorted((root / language / "LC_MESSAGES").glob("*.po")):
        with path.open("rb") as handle:
            catalogs.append(read_po(handle, locale=language, domain=path.stem))
    return catalogs


def _translations(language: str, root: Path) -> Translations:
    """One language's domains merged into a single gettext `Translations`."""
    merged: Translations | None = None
    for catalog in read_catalogs(language, root):
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        found = Translations(buffer, domain=catalog.domain)
        if merged is None:
            merged = found
        else:
            merged.merge(found)
    return merged if merged is not None else Translations()


def catalog_locale(code: str | None, available: Iterable[str] | None = None) -> str:
    """The shipped catalog for a Discord or council locale ("ru", "en-US", "pt-BR").

    A regional code uses its language's catalog ("en-GB" → "en"); a language without one
    gets the default.
    """
    choices = tuple(available) if available is not None else shipped_locales()
    if not code:
        return DEFAULT_LOCALE
    key = str(code).strip().replace("_", "-").casefold()
    by_key = {choice.casefold(): choice for choice in choices}
    if key in by_key:
        return by_key[key]
    return by_key.get(key.split("-", 1)[0], DEFAULT_LOCALE)


class _Params(dict[str, object]):
    """Placeholder values; a missing one stays visible as ``{name}`` instead of failing."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class Catalogs:
    """Every shipped language's messages, loaded once; renders `Text` for a locale."""

    def __init__(self, root: Path = LOCALES_DIR) -> None:
        self.locales = shipped_locales(root)
        self._by_locale = {code: _translations(code, root) for code in self.locales}
        default = self._by_locale.get(DEFAULT_LOCALE)
        if default is not None:
            for code, translations in self._by_locale.items():
                if code != DEFAULT_LOCALE:
                    translations.add_fallback(default)

    def render(self, text: Text | str, locale: str | None) -> str:
        """`text` in the catalog for `locale` (English where that language lacks the message).

        A plain string is returned as it is: it is someone's own words, or already rendered.
        """
        if isinstance(text, str):
            return text
        code = catalog_locale(locale, self.locales)
        translations = self._by_locale.get(code) or self._by_locale.get(DEFAULT_LOCALE)
        if translations is None:
            return text.id
        if text.count is None:
            template = translations.gettext(text.id)
        else:
            template = translations.ngettext(text.id, text.id, text.count)
        if template == text.id:
            log.warning("message %r is in no catalog", text.id)
        template = _COMMAND_SPAN.sub(lambda m: _command_as_shown(m, translations), template)
        values = _Params(
            {
                name: self.render(value, code) if isinstance(value, Text) else value
                for name, value in text.params
            }
        )
        return string.Formatter().vformat(template, (), values)


# A command named in a message, in code style: `/council export session:{id}`.
_COMMAND_SPAN = re.compile(r"`/([a-z][a-z_-]*(?: [^`]*)?)`")
_OPTION = re.compile(r"([a-z_]+):(.*)", re.DOTALL)
_NAME = re.compile(r"[a-z][a-z_-]*")


def _command_as_shown(match: re.Match[str], translations: Translations) -> str:
    """A command reference with the names the reader's Discord client shows for it.

    Discord shows each member the command, subcommand and option names of their own locale
    (the `commands` catalog, registered through the command tree's translator), so a
    message names them the same way. A word with no translation stays as written.
    """
    path: list[str] = []
    words: list[str] = []
    for word in match.group(1).split(" "):
        option = _OPTION.fullmatch(word)
        if option is not None and path:
            key = f"command.{'.'.join(path)}.option.{option.group(1)}.name"
            words.append(f"{_translated(translations, key, option.group(1))}:{option.group(2)}")
        elif len(path) == len(words) and _is_name(word):
            # The command, then its group and subcommand words, up to the first option.
            path.append(word)
            words.append(_translated(translations, f"command.{'.'.join(path)}.name", word))
        else:
            words.append(word)
    return "`/" + " ".join(words) + "`"


def _is_name(word: str) -> bool:
    """Whether ``word`` may be a command or subcommand name (not "…" or a placeholder)."""
    return _NAME.fullmatch(word) is not None


def _translated(translations: Translations, key: str, default: str) -> str:
    found = translations.gettext(key)
    return default if found == key else found


@functools.cache
def catalogs() -> Catalogs:
    """The shipped catalogs, read from the package once per process (they never change)."""
    return Catalogs()


def localize(text: Text | str, locale: str | None) -> str:
    """`text` rendered for `locale` from the shipped catalogs."""
    return catalogs().render(text, locale)
