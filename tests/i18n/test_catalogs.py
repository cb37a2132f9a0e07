"""The shipped catalogs are complete: every language, every message, the same placeholders."""

from __future__ import annotations

import ast
import string
from pathlib import Path

import pytest
import regex

from bot.i18n import DEFAULT_LOCALE, catalog_locale, localize, shipped_locales, t, tn
from bot.i18n.catalogs import read_catalogs

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "bot").rglob("*.py")), *sorted((ROOT / "cogs").rglob("*.py"))]
# Command names and descriptions are looked up by ids built from the command tree; their own
# test (tests/discord_bot/test_command_locales.py) checks them against the tree.
TREE_DOMAIN = "commands"


def _messages(language: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """domain -> id -> the translated forms (one, or one per plural form)."""
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for catalog in read_catalogs(language):
        forms: dict[str, tuple[str, ...]] = {}
        for message in catalog:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            value = message.string
            forms[key] = tuple(value) if isinstance(value, tuple | list) else (value,)
        assert catalog.domain is not None
        out[catalog.domain] = forms
    return out


def _plural_counts(language: str) -> set[int]:
    return {catalog.num_plurals for catalog in read_catalogs(language)}


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _used_ids() -> dict[str, str]:
    """Every id code names with t("...") or tn("...", ...), and where."""
    used: dict[str, str] = {}
    for path in SOURCES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in ("t", "tn")
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return used


def _string_literals() -> set[str]:
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


LOCALES = shipped_locales()
ENGLISH = _messages(DEFAULT_LOCALE)


def test_english_and_russian_are_shipped() -> None:
    assert LOCALES[0] == DEFAULT_LOCALE
    assert "ru" in LOCALES


@pytest.mark.parametrize("language", LOCALES)
def test_every_language_has_every_message_with_the_same_placeholders(language: str) -> None:
    messages = _messages(language)
    assert set(messages) == set(ENGLISH), "every language has the same domains"
    problems = []
    for domain, english in ENGLISH.items():
        theirs = messages[domain]
        problems += [f"{domain}: {key} missing" for key in sorted(set(english) - set(theirs))]
        extra = sorted(set(theirs) - set(english))
        problems += [f"{domain}: {key} not in English" for key in extra]
        for key in sorted(set(english) & set(theirs)):
            wanted = set().union(*(_placeholders(form) for form in english[key]))
            for form in theirs[key]:
                if not form.strip():
                    problems.append(f"{domain}: {key} is untranslated")
                elif _placeholders(form) != wanted:
                    problems.append(f"{domain}: {key}: {_placeholders(form)} != {wanted}")
    assert problems == []


@pytest.mark.parametrize("language", LOCALES)
def test_plural_messages_have_every_form_of_the_language(language: str) -> None:
    (forms_wanted,) = _plural_counts(language)
    for domain, messages in _messages(language).items():
        for key, forms in messages.items():
            if len(forms) > 1:
                assert len(forms) == forms_wanted, f"{domain}: {key}"


def test_russian_messages_are_in_russian() -> None:
    """A Russian message with words in it has Cyrillic words: nothing was left in English."""
    placeholder = regex.compile(r"\{[^{}]*\}|`[^`]*`|<[^>]*>|https?://\S+")
    untranslated = []
    for domain, messages in _messages("ru").items():
        for key, forms in messages.items():
            for form in forms:
                words = placeholder.sub("", form)
                if regex.search(r"\p{L}{2,}", words) and not regex.search(r"\p{Cyrillic}", words):
                    untranslated.append(f"{domain}: {key}: {form!r}")
    assert untranslated == []


def test_every_message_the_code_names_is_in_the_catalog() -> None:
    known = {key for messages in ENGLISH.values() for key in messages}
    missing = {key: where for key, where in _used_ids().items() if key not in known}
    assert missing == {}


def test_every_message_in_the_catalog_is_used() -> None:
    literals = _string_literals()
    unused = [
        f"{domain}: {key}"
        for domain, messages in ENGLISH.items()
        if domain != TREE_DOMAIN
        for key in messages
        if key not in literals
    ]
    assert unused == []


def test_message_ids_are_unique_across_domains() -> None:
    seen: dict[str, str] = {}
    clashes = []
    for domain, messages in ENGLISH.items():
        for key in messages:
            if key in seen:
                clashes.append(f"{key} in {seen[key]} and {domain}")
            seen[key] = domain
    assert clashes == []


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ru", "ru"), ("ru-RU", "ru"), ("en-US", "en"), ("en-GB", "en"), ("pt-BR", "en"), ("", "en")],
)
def test_a_discord_locale_finds_its_languages_catalog(code: str, expected: str) -> None:
    assert catalog_locale(code) == expected


def test_russian_plurals_follow_russian_rules() -> None:
    forms = {n: localize(tn("summary.replies", n), "ru") for n in (1, 2, 5, 11, 21, 22)}
    assert forms == {
        1: "1 ответ",
        2: "2 ответа",
        5: "5 ответов",
        11: "11 ответов",
        21: "21 ответ",
        22: "22 ответа",
    }
    assert localize(tn("summary.replies", 1), "en") == "1 reply"
    assert localize(tn("summary.replies", 3), "de") == "3 replies"


def test_a_nested_message_is_rendered_in_the_same_language() -> None:
    unshown = t("summary.unshown", replies=tn("summary.replies", 5), names="Claude, round 1")
    assert localize(unshown, "ru") == (
        "5 ответов не удалось показать в ветке (Claude, round 1); в стенограмме есть всё до слова."
    )
    assert str(unshown) == (
        "5 replies could not be shown in the thread (Claude, round 1); "
        "the transcript has every word."
    )


def test_a_command_in_a_message_is_named_as_the_readers_client_shows_it() -> None:
    how = t("council.opening.how")
    assert "`/совет спросить`" in localize(how, "ru")
    assert "`/council ask`" in localize(how, "en-US")
    failed = t("council.host.summary-failed", id=7, error="500")
    assert localize(failed, "ru").endswith("`/совет экспорт номер:7`.")
    assert localize(failed, "en").endswith("`/council export session:7`.")


def test_every_command_a_message_names_exists() -> None:
    commands = ENGLISH[TREE_DOMAIN]
    span = regex.compile(r"`/([a-z][a-z_-]*(?: [^`]*)?)`")
    unknown = []
    for domain, messages in ENGLISH.items():
        for key, forms in messages.items():
            for form in forms:
                for found in span.findall(form):
                    words = [w for w in found.split(" ") if regex.fullmatch(r"[a-z][a-z_-]*", w)]
                    path = words[:1]
                    for word in words[1:]:
                        if f"command.{'.'.join([*path, word])}.name" not in commands:
                            break
                        path.append(word)
                    options = [w.split(":")[0] for w in found.split(" ") if ":" in w]
                    wanted = [f"command.{'.'.join(path)}.name"] + [
                        f"command.{'.'.join(path)}.option.{o}.name" for o in options
                    ]
                    unknown += [f"{domain}: {key}: {w}" for w in wanted if w not in commands]
    assert unknown == []
