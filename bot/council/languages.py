"""The languages a council can be held in: Discord's locales, plus a few right-to-left ones.

A council's language is stored as a locale code ("ru", "pt-BR"). The empty string means none
was chosen: the models then answer in the language the topic is written in.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.errors import UserFacingError
from bot.i18n import DEFAULT_LOCALE, catalog_locale, shipped_locales, t


@dataclass(frozen=True, slots=True)
class Language:
    """A language a council can speak: its locale code, English and own names, direction."""

    code: str
    name: str
    native: str
    is_rtl: bool = False


# Discord's locales (what a member's client can be set to), then right-to-left languages that
# Discord has no locale for but presets and permanent councils may still choose.
LANGUAGES: tuple[Language, ...] = (
    Language("en-US", "English", "English (US)"),
    Language("en-GB", "British English", "English (UK)"),
    Language("bg", "Bulgarian", "български"),
    Language("cs", "Czech", "čeština"),
    Language("da", "Danish", "dansk"),
    Language("de", "German", "Deutsch"),
    Language("el", "Greek", "Ελληνικά"),
    Language("es-ES", "Spanish", "español"),
    Language("es-419", "Latin American Spanish", "español (Latinoamérica)"),
    Language("fi", "Finnish", "suomi"),
    Language("fr", "French", "français"),
    Language("hi", "Hindi", "हिन्दी"),
    Language("hr", "Croatian", "hrvatski"),
    Language("hu", "Hungarian", "magyar"),
    Language("id", "Indonesian", "Bahasa Indonesia"),
    Language("it", "Italian", "italiano"),
    Language("ja", "Japanese", "日本語"),
    Language("ko", "Korean", "한국어"),
    Language("lt", "Lithuanian", "lietuvių"),
    Language("nl", "Dutch", "Nederlands"),
    Language("no", "Norwegian", "norsk"),
    Language("pl", "Polish", "polski"),
    Language("pt-BR", "Brazilian Portuguese", "português do Brasil"),
    Language("ro", "Romanian", "română"),
    Language("ru", "Russian", "русский"),
    Language("sv-SE", "Swedish", "svenska"),
    Language("th", "Thai", "ไทย"),
    Language("tr", "Turkish", "Türkçe"),
    Language("uk", "Ukrainian", "українська"),
    Language("vi", "Vietnamese", "Tiếng Việt"),
    Language("zh-CN", "Simplified Chinese", "中文 (简体)"),
    Language("zh-TW", "Traditional Chinese", "中文 (繁體)"),
    Language("ar", "Arabic", "العربية", is_rtl=True),
    Language("fa", "Persian", "فارسی", is_rtl=True),
    Language("he", "Hebrew", "עברית", is_rtl=True),
    Language("ur", "Urdu", "اردو", is_rtl=True),
)
_BY_KEY = {
    key.casefold(): language
    for language in reversed(LANGUAGES)
    for key in (language.code, language.name, language.native)
}


def find_language(text: str) -> Language | None:
    """The language named by a locale code, or its English or own name (any case).

    A regional code Discord doesn't list ("ru-RU", "en") falls back to its base language.
    """
    key = text.strip().casefold().replace("_", "-")
    if not key:
        return None
    found = _BY_KEY.get(key)
    if found is not None:
        return found
    base = key.split("-", 1)[0]
    return next((lang for lang in LANGUAGES if lang.code.casefold().split("-")[0] == base), None)


def language_code(text: str | None) -> str:
    """A host's or operator's choice as a locale code; "" for none. Refuses an unknown one."""
    if text is None or not text.strip():
        return ""
    found = find_language(text)
    if found is None:
        codes = ", ".join(language.code for language in LANGUAGES)
        raise UserFacingError(t("replies.language.unknown", name=text, codes=codes))
    return found.code


def prompt_language(stored: str) -> str | None:
    """How the prompts name a council's language, or None to follow the topic's language.

    A stored value that is no known code (an older session's "English") is used as written.
    """
    if not stored.strip():
        return None
    found = find_language(stored)
    return found.name if found is not None else stored.strip()


def html_language(stored: str) -> tuple[str, str]:
    """The `lang` and `dir` attributes for a council's language ("und" when none is set)."""
    found = find_language(stored) if stored.strip() else None
    if found is None:
        return ("und", "auto")
    return (found.code, "rtl" if found.is_rtl else "ltr")


def public_locale(language: str, server_locale: str | None = None) -> str:
    """The catalog the bot's own words in a council are shown in, decided once at its start.

    The council's language when the bot ships a catalog for it, else the server's preferred
    locale when it does, else English.
    """
    shipped = shipped_locales()
    for code in (language, server_locale):
        if code and _has_catalog(code, shipped):
            return catalog_locale(code, shipped)
    return DEFAULT_LOCALE


def _has_catalog(code: str, shipped: tuple[str, ...]) -> bool:
    primary = code.strip().replace("_", "-").split("-", 1)[0].casefold()
    return catalog_locale(code, shipped) != DEFAULT_LOCALE or primary == DEFAULT_LOCALE
