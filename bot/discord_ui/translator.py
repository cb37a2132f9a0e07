"""Slash and context-menu commands in each member's language, from the `commands` catalog.

When the tree is synced, discord.py asks its `Translator` for every command, group, option and
choice name and description, once per Discord locale; the answers become the
``name_localizations`` and ``description_localizations`` Discord shows each member in their
client's language. Interactions still carry the canonical (English) names, so nothing else in
the bot changes.

Message ids follow the tree:

- ``command.council.name``, ``command.council.description``: a top-level command or group;
- ``command.council.start.name``, ``command.council.start.description``: a subcommand;
- ``command.council.start.option.topic.name`` and ``...option.topic.description``: an option;
- ``choice.format.debate``: a choice, by its option's name and its value; every command whose
  option of that name offers that value shares it (``format`` and ``language`` in both
  ``/council start`` and ``/council create``), while ``choice.scope.all`` and
  ``choice.period.all`` stay apart;
- ``menu.<name>.name``: a context-menu command (``menu.`` because its name, unlike a slash
  command's, may hold capitals and spaces, so the two never share a translation).

English is the code's own text: it is never sent as a localization, and the English catalog only
records it for translators. After adding or changing a command, run
``python -m bot.discord_ui.translator``: it rewrites the English catalog from the tree and names
what each other language lacks.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.app_commands import Choice, TranslationContextLocation, locale_str

from bot.i18n import DEFAULT_LOCALE, catalog_locale, shipped_locales
from bot.i18n.catalogs import LOCALES_DIR, read_catalogs

log = logging.getLogger(__name__)

DOMAIN = "commands"
"""The catalog domain that holds the command tree's texts."""
# The operator's example config, from which `build_tree` loads the cogs (in a source checkout).
EXAMPLE_CONFIG = Path(__file__).resolve().parents[2] / "council.example.toml"

Tree = app_commands.CommandTree[Any]
AnyCommand = app_commands.Command[Any, ..., Any]
Location = TranslationContextLocation


class CatalogTranslator(app_commands.Translator):
    """Names and descriptions of `tree`'s commands from each shipped language's catalog.

    Returns nothing for English (the code's own text is the default) and for a locale without a
    catalog, so Discord shows those members the default.
    """

    def __init__(self, tree: Tree, root: Path = LOCALES_DIR) -> None:
        self.ids = MessageIds(tree)
        self.root = root
        self._messages: dict[str, dict[str, str]] = {}

    async def load(self) -> None:
        """Read the `commands` catalog of every language but the default (on `set_translator`)."""
        self._messages = {
            language: read_messages(language, self.root)
            for language in shipped_locales(self.root)
            if language != DEFAULT_LOCALE
        }

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        """`string` in `locale`'s catalog, or None where Discord should show the default."""
        language = catalog_locale(locale.value, (DEFAULT_LOCALE, *self._messages))
        messages = self._messages.get(language)
        if messages is None:
            return None
        message_id = self.ids.of(context.location, context.data)
        if message_id is None:
            return None
        found = messages.get(message_id)
        if not found:
            log.warning("%s has no %s translation of %s", DOMAIN, language, message_id)
            return None
        return found


class MessageIds:
    """The catalog id for each text of one command tree (see the module docstring).

    Choices are found among the tree's global commands, the only kind this bot registers.
    """

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        # A choice knows neither its option nor its command; found once by identity, as
        # discord.py hands the translator the very `Choice` objects the options hold.
        self._choice_options: dict[int, tuple[Choice[Any], str]] = {}

    def of(self, location: Location, data: Any) -> str | None:
        """The id of the text at `location` of `data` (a command, parameter or choice)."""
        if location is Location.command_name and isinstance(data, app_commands.ContextMenu):
            return f"menu.{_slug(data.name)}.name"
        if location in (Location.command_name, Location.group_name):
            return f"command.{_path(data)}.name"
        if location in (Location.command_description, Location.group_description):
            return f"command.{_path(data)}.description"
        if location is Location.parameter_name:
            return f"command.{_path(data.command)}.option.{data.display_name}.name"
        if location is Location.parameter_description:
            return f"command.{_path(data.command)}.option.{data.display_name}.description"
        if location is Location.choice_name and isinstance(data, Choice):
            option = self._option_of(data)
            return None if option is None else f"choice.{option}.{_slug(str(data.value))}"
        return None

    def _option_of(self, choice: Choice[Any]) -> str | None:
        found = self._choice_options.get(id(choice))
        if found is None or found[0] is not choice:
            self._choice_options = {
                id(offered): (offered, parameter.display_name)
                for command in self.tree.walk_commands()
                if isinstance(command, app_commands.Command)
                for parameter in command.parameters
                for offered in parameter.choices
            }
            found = self._choice_options.get(id(choice))
        return found[1] if found is not None and found[0] is choice else None


def _path(command: AnyCommand | app_commands.Group) -> str:
    return command.qualified_name.replace(" ", ".")


def _slug(text: str) -> str:
    return "-".join(text.casefold().split())


def read_messages(language: str, root: Path = LOCALES_DIR) -> dict[str, str]:
    """One language's `commands` catalog: id -> text (an empty text is untranslated)."""
    for catalog in read_catalogs(language, root):
        if catalog.domain == DOMAIN:
            return {
                str(message.id): str(message.string)
                for message in catalog
                if message.id and isinstance(message.id, str)
            }
    return {}


class _Recorder(app_commands.Translator):
    """Notes every id the tree asks for with the English text the code gives it."""

    def __init__(self, tree: Tree) -> None:
        self.ids = MessageIds(tree)
        self.english: dict[str, str] = {}
        self.clashes: dict[str, set[str]] = {}

    async def translate(
        self,
        string: locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContextTypes,
    ) -> str | None:
        message_id = self.ids.of(context.location, context.data)
        if message_id is not None:
            known = self.english.setdefault(message_id, string.message)
            if known != string.message:
                self.clashes.setdefault(message_id, {known}).add(string.message)
        return None


async def tree_messages(tree: Tree) -> dict[str, str]:
    """Every id the tree's global commands ask the translator for, with its English, in order.

    Raises:
        ValueError: one id stands for different English texts (two options of one name offer
            one value under different names); the message names them.
    """
    recorder = _Recorder(tree)
    for command in tree.get_commands():
        await command.get_translated_payload(tree, recorder)
    if recorder.clashes:
        lines = [f"{key}: {sorted(texts)}" for key, texts in sorted(recorder.clashes.items())]
        raise ValueError("one id, several English texts:\n" + "\n".join(lines))
    return recorder.english


# What Discord allows each kind of text, for translators (docs: application-commands, Application
# Command Naming, and the command, option and choice objects' field tables).
_HINTS = {
    "name": "lower case, no spaces, 1-32 letters, digits, - or _",
    "description": "1-100 characters",
    "choice": "1-100 characters",
    "menu": "1-32 characters",
}


def _hint(message_id: str) -> str:
    if message_id.startswith("choice."):
        return _HINTS["choice"]
    if message_id.startswith("menu."):
        return _HINTS["menu"]
    return _HINTS[message_id.rsplit(".", 1)[1]]


def _quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def render_english_catalog(messages: Mapping[str, str]) -> str:
    """The English `commands.po` for these messages, in tree order."""
    lines = [
        "# Council: the commands messages in English.",
        "# Generated from the command tree by `python -m bot.discord_ui.translator`; edit the",
        "# commands' docstrings and names, not this file.",
        'msgid ""',
        'msgstr ""',
        '"Project-Id-Version: council-bot\\n"',
        '"Language: en\\n"',
        '"MIME-Version: 1.0\\n"',
        '"Content-Type: text/plain; charset=UTF-8\\n"',
        '"Content-Transfer-Encoding: 8bit\\n"',
        '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"',
    ]
    for message_id, text in messages.items():
        lines += ["", f"#. {_hint(message_id)}", f"msgid {_quoted(message_id)}"]
        lines.append(f"msgstr {_quoted(text)}")
    return "\n".join(lines) + "\n"


async def build_tree() -> Tree:
    """The bot's command tree with every cog loaded, offline: no token, no connection.

    Built from council.example.toml and a throwaway database, which only the commands' choices
    never depend on.
    """
    from bot.__main__ import EXTENSIONS  # the composition root imports this module's users
    from bot.app import CouncilBot
    from bot.config import Settings, load_config
    from bot.sessions import SessionManager
    from bot.store.store import Store

    config = load_config(EXAMPLE_CONFIG, {}, is_lenient=True)
    with tempfile.TemporaryDirectory() as scratch:
        async with Store.open(Path(scratch) / "council.db") as store:
            manager = SessionManager(config=config, providers={}, store=store)
            bot = CouncilBot(
                settings=Settings(), config=config, store=store, manager=manager,
                extensions=EXTENSIONS,
            )  # fmt: skip
            await bot.load_cogs()
            return bot.tree


async def regenerate(root: Path = LOCALES_DIR) -> list[str]:
    """Rewrite the English `commands.po` from the tree; return what other languages must do."""
    messages = await tree_messages(await build_tree())
    english_path = root / DEFAULT_LOCALE / "LC_MESSAGES" / f"{DOMAIN}.po"
    before = read_messages(DEFAULT_LOCALE, root)
    english_path.write_text(render_english_catalog(messages), encoding="utf-8")
    todo = [f"{DEFAULT_LOCALE}: wrote {len(messages)} messages to {english_path}"]
    changed = sorted(k for k, text in messages.items() if k in before and before[k] != text)
    for language in shipped_locales(root):
        if language == DEFAULT_LOCALE:
            continue
        theirs = read_messages(language, root)
        todo += [f"{language}: translate {k}" for k in messages if not theirs.get(k)]
        todo += [f"{language}: review {k} (its English changed)" for k in changed if k in theirs]
        todo += [f"{language}: remove {k} (not in the tree)" for k in theirs if k not in messages]
    return todo


def main() -> int:
    """`python -m bot.discord_ui.translator`: regenerate the English catalog, list the rest."""
    for line in asyncio.run(regenerate()):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
