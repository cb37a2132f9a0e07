"""Discord's rules: the limits and error answers the fake enforces, as pure functions.

Each broken rule has a violation *kind* (a short string tests name in `expect_violation`) and the
answer Discord gives: an HTTP status, a JSON error code and message, and for form errors the
nested `errors` object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import regex

from tests.fakediscord.state import Pings


class Kind:
    """Violation kinds, one per rule."""

    UNIMPLEMENTED_ROUTE = "unimplemented_route"
    BAD_TOKEN = "bad_token"
    GATEWAY_BAD_TOKEN = "gateway_bad_token"
    RATE_LIMITED = "rate_limited"
    OPENAPI_SCHEMA = "openapi_schema"
    UNKNOWN_CHANNEL = "unknown_channel"
    UNKNOWN_MESSAGE = "unknown_message"
    UNKNOWN_WEBHOOK = "unknown_webhook"
    UNKNOWN_GUILD = "unknown_guild"
    UNKNOWN_INTERACTION = "unknown_interaction"
    UNKNOWN_COMMAND = "unknown_command"
    ACK_DEADLINE = "interaction_ack_deadline"
    ALREADY_ACKNOWLEDGED = "interaction_already_acknowledged"
    TOKEN_EXPIRED = "interaction_token_expired"
    CONTENT_TOO_LONG = "content_too_long"
    EMPTY_MESSAGE = "empty_message"
    TOO_MANY_EMBEDS = "too_many_embeds"
    EMBED_TITLE_TOO_LONG = "embed_title_too_long"
    EMBED_DESCRIPTION_TOO_LONG = "embed_description_too_long"
    EMBED_TOO_MANY_FIELDS = "embed_too_many_fields"
    EMBED_FIELD_NAME_TOO_LONG = "embed_field_name_too_long"
    EMBED_FIELD_VALUE_TOO_LONG = "embed_field_value_too_long"
    EMBED_FOOTER_TOO_LONG = "embed_footer_too_long"
    EMBED_AUTHOR_TOO_LONG = "embed_author_too_long"
    EMBEDS_TOTAL_TOO_LONG = "embeds_total_too_long"
    TOO_MANY_ACTION_ROWS = "too_many_action_rows"
    TOO_MANY_BUTTONS = "too_many_buttons"
    CUSTOM_ID_INVALID = "custom_id_invalid"
    CUSTOM_ID_DUPLICATE = "custom_id_duplicate"
    BUTTON_LABEL_TOO_LONG = "button_label_too_long"
    COMPONENT_INVALID = "component_invalid"
    COMPONENTS_ON_FOREIGN_WEBHOOK = "components_on_foreign_webhook"
    WEBHOOK_NAME_INVALID = "webhook_name_invalid"
    WEBHOOK_USERNAME_INVALID = "webhook_username_invalid"
    TOO_MANY_WEBHOOKS = "too_many_webhooks"
    ALLOWED_MENTIONS_INVALID = "allowed_mentions_invalid"
    THREAD_NAME_INVALID = "thread_name_invalid"
    MISSING_PERMISSIONS = "missing_permissions"
    MISSING_ACCESS = "missing_access"
    NOT_AUTHOR = "cannot_edit_others_message"
    WRONG_CHANNEL_TYPE = "wrong_channel_type"
    COMMAND_INVALID = "command_invalid"
    FORCED_FAULT = "forced_fault"


class DiscordError(Exception):
    """An error answer: raising it in a route handler produces Discord's error response."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        *,
        kind: str | None,
        errors: dict[str, Any] | None = None,
        detail: str = "",
    ) -> None:
        super().__init__(f"{status} {code} {message} {detail}".strip())
        self.status = status
        self.code = code
        self.message = message
        self.kind = kind
        self.errors = errors
        self.kinds: list[tuple[str, str]] = [(kind, detail or message)] if kind else []

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        data: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.errors is not None:
            data["errors"] = self.errors
        return data


def unknown(what: str) -> DiscordError:
    """Discord's 404 for an unknown id (`what` is channel, message, webhook, ...)."""
    codes = {
        "guild": (10004, Kind.UNKNOWN_GUILD),
        "channel": (10003, Kind.UNKNOWN_CHANNEL),
        "message": (10008, Kind.UNKNOWN_MESSAGE),
        "webhook": (10015, Kind.UNKNOWN_WEBHOOK),
        "interaction": (10062, Kind.UNKNOWN_INTERACTION),
        "application command": (10063, Kind.UNKNOWN_COMMAND),
    }
    code, kind = codes[what]
    message = f"Unknown {what.capitalize()}" if what != "interaction" else "Unknown interaction"
    return DiscordError(404, code, message, kind=kind)


def missing_permissions(detail: str) -> DiscordError:
    """Discord's 403 for a permission the bot lacks."""
    return DiscordError(
        403, 50013, "Missing Permissions", kind=Kind.MISSING_PERMISSIONS, detail=detail
    )


@dataclass(frozen=True)
class FieldError:
    """One broken rule inside a request body (Discord reports them all at once)."""

    kind: str
    path: str
    code: str
    message: str


@dataclass
class FormErrors:
    """Collects field errors and turns them into one 50035 Invalid Form Body answer."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, kind: str, path: str, code: str, message: str) -> None:
        """Record one broken rule."""
        self.errors.append(FieldError(kind, path, code, message))

    def max_length(self, kind: str, path: str, value: object, limit: int) -> None:
        """Check a string's length against a limit."""
        if isinstance(value, str) and len(value) > limit:
            self.add(kind, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def raise_if_any(self) -> None:
        """Raise the 50035 answer if anything was recorded."""
        if not self.errors:
            return
        nested: dict[str, Any] = {}
        for err in self.errors:
            node = nested
            for part in err.path.split("."):
                node = node.setdefault(part, {})
            node.setdefault("_errors", []).append({"code": err.code, "message": err.message})
        exc = DiscordError(400, 50035, "Invalid Form Body", kind=None, errors=nested)
        exc.kinds = [(e.kind, f"{e.path}: {e.message}") for e in self.errors]
        raise exc


CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TITLE_MAX = 256
EMBED_DESCRIPTION_MAX = 4096
EMBED_FIELDS_MAX = 25
EMBED_FIELD_NAME_MAX = 256
EMBED_FIELD_VALUE_MAX = 1024
EMBED_FOOTER_MAX = 2048
EMBED_AUTHOR_MAX = 256
EMBEDS_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
BUTTON_LABEL_MAX = 80
WEBHOOK_NAME_MAX = 80
THREAD_NAME_MAX = 100
WEBHOOKS_PER_CHANNEL_MAX = 15
ALLOWED_MENTIONS_IDS_MAX = 100
IS_COMPONENTS_V2 = 1 << 15
LINK_BUTTON_STYLE = 5
INTERACTIVE_COMPONENT_TYPES = frozenset({2, 3, 4, 5, 6, 7, 8})


def check_embeds(form: FormErrors, embeds: list[Any]) -> None:
    """Embed count and per-field limits, and the 6000-character total across a message."""
    if len(embeds) > EMBEDS_MAX:
        form.add(
            Kind.TOO_MANY_EMBEDS,
            "embeds",
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {EMBEDS_MAX} or fewer in length.",
        )
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        at = f"embeds.{i}"
        title, description = embed.get("title") or "", embed.get("description") or ""
        form.max_length(Kind.EMBED_TITLE_TOO_LONG, f"{at}.title", title, EMBED_TITLE_MAX)
        form.max_length(
            Kind.EMBED_DESCRIPTION_TOO_LONG, f"{at}.description", description, EMBED_DESCRIPTION_MAX
        )
        total += len(str(title)) + len(str(description))
        fields = embed.get("fields") or []
        if len(fields) > EMBED_FIELDS_MAX:
            form.add(
                Kind.EMBED_TOO_MANY_FIELDS,
                f"{at}.fields",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {EMBED_FIELDS_MAX} or fewer in length.",
            )
        for j, fld in enumerate(fields):
            name, value = str(fld.get("name", "")), str(fld.get("value", ""))
            form.max_length(
                Kind.EMBED_FIELD_NAME_TOO_LONG, f"{at}.fields.{j}.name", name, EMBED_FIELD_NAME_MAX
            )
            form.max_length(
                Kind.EMBED_FIELD_VALUE_TOO_LONG,
                f"{at}.fields.{j}.value",
                value,
                EMBED_FIELD_VALUE_MAX,
            )
            total += len(name) + len(value)
        footer = str((embed.get("footer") or {}).get("text", ""))
        form.max_length(Kind.EMBED_FOOTER_TOO_LONG, f"{at}.footer.text", footer, EMBED_FOOTER_MAX)
        author = str((embed.get("author") or {}).get("name", ""))
        form.max_length(Kind.EMBED_AUTHOR_TOO_LONG, f"{at}.author.name", author, EMBED_AUTHOR_MAX)
        total += len(footer) + len(author)
    if total > EMBEDS_TOTAL_MAX:
        form.add(
            Kind.EMBEDS_TOTAL_TOO_LONG,
            "embeds",
            "MAX_EMBED_SIZE_EXCEEDED",
            "Embed size exceeds maximum size of 6000",
        )


def walk_components(components: list[Any]) -> list[dict[str, Any]]:
    """Every component in a message's tree, depth first."""
    found: list[dict[str, Any]] = []
    for comp in components:
        if not isinstance(comp, dict):
            continue
        found.append(comp)
        found.extend(walk_components(comp.get("components") or []))
        if isinstance(comp.get("component"), dict):
            found.extend(walk_components([comp["component"]]))
        if isinstance(comp.get("accessory"), dict):
            found.extend(walk_components([comp["accessory"]]))
    return found


def is_interactive(comp: dict[str, Any]) -> bool:
    """Whether a component sends interactions (everything but link buttons and layout)."""
    if comp.get("type") == 2:
        return comp.get("style") != LINK_BUTTON_STYLE
    return comp.get("type") in INTERACTIVE_COMPONENT_TYPES


def check_components(form: FormErrors, components: list[Any], *, flags: int) -> None:
    """Action rows, buttons per row, custom ids (1-100, unique per message), button labels."""
    if not flags & IS_COMPONENTS_V2:
        if len(components) > ACTION_ROWS_MAX:
            form.add(
                Kind.TOO_MANY_ACTION_ROWS,
                "components",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {ACTION_ROWS_MAX} or fewer in length.",
            )
        for i, row in enumerate(components):
            if not isinstance(row, dict) or row.get("type") != 1:
                form.add(
                    Kind.COMPONENT_INVALID,
                    f"components.{i}",
                    "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                    "Top-level components must be action rows.",
                )
                continue
            children = row.get("components") or []
            if len(children) > BUTTONS_PER_ROW_MAX:
                form.add(
                    Kind.TOO_MANY_BUTTONS,
                    f"components.{i}.components",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {BUTTONS_PER_ROW_MAX} or fewer in length.",
                )
    seen: set[str] = set()
    for comp in walk_components(components):
        if comp.get("type") == 2:
            label = comp.get("label")
            if isinstance(label, str) and len(label) > BUTTON_LABEL_MAX:
                form.add(
                    Kind.BUTTON_LABEL_TOO_LONG,
                    "components.label",
                    "BASE_TYPE_MAX_LENGTH",
                    f"Must be {BUTTON_LABEL_MAX} or fewer in length.",
                )
            if comp.get("style") == LINK_BUTTON_STYLE:
                if not comp.get("url") or "custom_id" in comp:
                    form.add(
                        Kind.COMPONENT_INVALID,
                        "components.url",
                        "BUTTON_COMPONENT_INVALID_URL",
                        "Link buttons need a url and no custom_id.",
                    )
                continue
        if not is_interactive(comp):
            continue
        custom_id = comp.get("custom_id")
        if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID_MAX:
            form.add(
                Kind.CUSTOM_ID_INVALID,
                "components.custom_id",
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between 1 and {CUSTOM_ID_MAX} in length.",
            )
        elif custom_id in seen:
            form.add(
                Kind.CUSTOM_ID_DUPLICATE,
                "components.custom_id",
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            )
        else:
            seen.add(custom_id)


def check_allowed_mentions(form: FormErrors, value: Any) -> None:
    """The shape Discord accepts: parse ⊆ {users, roles, everyone}; id lists exclude parse."""
    kind, at = Kind.ALLOWED_MENTIONS_INVALID, "allowed_mentions"
    if value is None:
        return
    if not isinstance(value, dict):
        form.add(kind, at, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    extra = set(value) - {"parse", "users", "roles", "replied_user"}
    if extra:
        form.add(kind, at, "UNKNOWN_FIELD", f"Unknown fields: {sorted(extra)}")
    parse = value.get("parse", [])
    if not isinstance(parse, list) or any(p not in ("users", "roles", "everyone") for p in parse):
        form.add(
            kind,
            f"{at}.parse",
            "BASE_TYPE_CHOICES",
            'Value must be one of {"users", "roles", "everyone"}.',
        )
        parse = []
    for key in ("users", "roles"):
        ids = value.get(key)
        if ids is None:
            continue
        if not isinstance(ids, list) or len(ids) > ALLOWED_MENTIONS_IDS_MAX:
            form.add(
                kind,
                f"{at}.{key}",
                "BASE_TYPE_MAX_LENGTH",
                f"Must be {ALLOWED_MENTIONS_IDS_MAX} or fewer in length.",
            )
        elif ids and key in parse:
            form.add(
                kind,
                at,
                "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                f'parse:["{key}"] and {key}: [ids...] are mutually exclusive.',
            )
    if "replied_user" in value and not isinstance(value["replied_user"], bool):
        form.add(kind, f"{at}.replied_user", "BASE_TYPE_BOOLEAN", "Must be either true or false.")


def check_message(
    body: dict[str, Any], *, has_files: bool, is_edit: bool, existing_has_content: bool = False
) -> None:
    """Every rule on a message body; raises the 50035 or 50006 answer."""
    form = FormErrors()
    content = body.get("content")
    form.max_length(Kind.CONTENT_TOO_LONG, "content", content, CONTENT_MAX)
    embeds = body.get("embeds") or []
    if isinstance(embeds, list):
        check_embeds(form, embeds)
    components = body.get("components") or []
    if isinstance(components, list):
        check_components(form, components, flags=int(body.get("flags") or 0))
    check_allowed_mentions(form, body.get("allowed_mentions"))
    form.raise_if_any()
    if is_edit:
        # An edit that leaves nothing behind is rejected too, but absent keys keep old values.
        cleared = all(k in body and not body[k] for k in ("content", "embeds", "components"))
        if cleared and not has_files and not existing_has_content:
            raise empty_message()
        return
    has_content = isinstance(content, str) and content.strip() != ""
    if not (
        has_content
        or embeds
        or components
        or has_files
        or body.get("sticker_ids")
        or body.get("poll")
    ):
        raise empty_message()


def empty_message() -> DiscordError:
    """Discord's answer to a message with nothing in it."""
    return DiscordError(400, 50006, "Cannot send an empty message", kind=Kind.EMPTY_MESSAGE)


def check_webhook_name(form: FormErrors, value: Any, *, path: str, kind: str) -> None:
    """Webhook names and per-message usernames: 1-80 chars, no "clyde" or "discord"."""
    if not isinstance(value, str) or not 1 <= len(value) <= WEBHOOK_NAME_MAX:
        form.add(
            kind,
            path,
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {WEBHOOK_NAME_MAX} in length.",
        )
        return
    for banned in ("clyde", "discord"):
        if banned in value.lower():
            form.add(kind, path, "USERNAME_INVALID_CONTAINS", f'Username cannot contain "{banned}"')


def check_thread_name(value: Any) -> None:
    """Thread names are 1-100 characters."""
    form = FormErrors()
    if not isinstance(value, str) or not len(value.strip()) >= 1 or len(value) > THREAD_NAME_MAX:
        form.add(
            Kind.THREAD_NAME_INVALID,
            "name",
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {THREAD_NAME_MAX} in length.",
        )
    form.raise_if_any()


# Discord's locales: the keys a localization dictionary may have (docs: reference#locales; the
# OpenAPI description's AvailableLocalesEnum, which already lists "ar" and "he" too).
DISCORD_LOCALES = (
    "ar", "bg", "cs", "da", "de", "el", "en-GB", "en-US", "es-419", "es-ES", "fi", "fr", "he",
    "hi", "hr", "hu", "id", "it", "ja", "ko", "lt", "nl", "no", "pl", "pt-BR", "ro", "ru",
    "sv-SE", "th", "tr", "uk", "vi", "zh-CN", "zh-TW",
)  # fmt: skip
# docs: application-commands, Application Command Naming: slash command and option names match
# this and are lower case where a letter has a lower case; USER and MESSAGE commands may be mixed
# case and hold spaces. Both are 1-32 characters; descriptions and choice names 1-100.
COMMAND_NAME_RE = regex.compile(r"^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$")
NAME_MAX = 32
DESCRIPTION_MAX = 100
CHOICE_NAME_MAX = 100
COMMANDS_MAX = {1: 100, 2: 15, 3: 15}
OPTIONS_MAX = 25
CHOICES_MAX = 25
# docs: application-commands, Slash Commands: "a maximum of 8000 characters for combined name,
# description, and value properties for each command, its options (including subcommands and
# groups), and choices. When localization fields are present, only the longest localization for
# each field (including the default value) is counted towards the size limit." (4000 until
# February 2024: discord/discord-api-docs#6668.)
COMMAND_TOTAL_CHARS_MAX = 8000
SUB_COMMAND, SUB_COMMAND_GROUP = 1, 2


def is_command_name(name: object, *, chat: bool) -> bool:
    """Whether Discord takes `name` for a slash command or option (`chat`), or a context menu."""
    if not isinstance(name, str):
        return False
    if chat:
        return bool(COMMAND_NAME_RE.match(name)) and name == name.lower()
    return 1 <= len(name) <= NAME_MAX and bool(name.strip())


def _localizations(form: FormErrors, item: dict[str, Any], key: str, at: str) -> dict[str, Any]:
    """A localization dictionary's entries for Discord's locales; any other key is refused."""
    raw = item.get(key)
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        form.add(Kind.COMMAND_INVALID, f"{at}.{key}", "DICT_TYPE_CONVERT", "Must be a dictionary")
        return {}
    found = {}
    for locale, value in raw.items():
        if locale not in DISCORD_LOCALES:
            # As Discord answers a "pt_BR" key (kordlib/kord#594), the tuple written as Python.
            form.add(
                Kind.COMMAND_INVALID,
                f"{at}.{key}.{locale}",
                "BASE_TYPE_CHOICES",
                f"Value must be one of {DISCORD_LOCALES!r}.",
            )
        elif value is not None:  # a null entry just leaves that locale out
            found[locale] = value
    return found


def _longest(default: object, localized: dict[str, Any]) -> int:
    """What a field counts toward the command's size: its longest text in any locale."""
    return max([len(str(default or "")), *(len(str(v)) for v in localized.values())])


def _bad_length(form: FormErrors, path: str, value: object, limit: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= limit:
        form.add(
            Kind.COMMAND_INVALID,
            path,
            "BASE_TYPE_BAD_LENGTH",
            f"Must be between 1 and {limit} in length.",
        )


def _invalid_name(form: FormErrors, path: str) -> None:
    form.add(
        Kind.COMMAND_INVALID, path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
    )


def _check_name_and_description(
    form: FormErrors, item: dict[str, Any], at: str, *, chat: bool, is_option: bool
) -> tuple[int, dict[str, Any]]:
    """Check a command's or option's name and description in every locale.

    Returns what they count toward the command's size, and the name's localizations.
    """
    name = item.get("name")
    description = item.get("description", "")
    if not is_command_name(name, chat=chat):
        _invalid_name(form, f"{at}.name")
    names = _localizations(form, item, "name_localizations", at)
    bad = [locale for locale, value in names.items() if not is_command_name(value, chat=chat)]
    if bad and is_option:
        for locale in bad:
            _invalid_name(form, f"{at}.name_localizations.{locale}")
    elif bad:
        # A command's own bad localization is reported for the whole dictionary, naming no
        # locale (discord/discord-api-docs#7712); an option's names the locale.
        _invalid_name(form, f"{at}.name_localizations")
    descriptions = _localizations(form, item, "description_localizations", at)
    if chat:
        _bad_length(form, f"{at}.description", description, DESCRIPTION_MAX)
        for locale, value in descriptions.items():
            _bad_length(form, f"{at}.description_localizations.{locale}", value, DESCRIPTION_MAX)
    elif description or descriptions:
        form.add(
            Kind.COMMAND_INVALID,
            f"{at}.description",
            "APPLICATION_COMMAND_INVALID_DESCRIPTION",
            "Context menu commands cannot have a description",
        )
    return _longest(name, names) + _longest(description, descriptions), names


def _check_unique_names(
    form: FormErrors, options: list[dict[str, Any]], localized: list[dict[str, Any]], at: str
) -> None:
    """Option names are unique: by default, and in each locale (docs: application-commands,
    Localization: a localized option name differs from every other option's default name and
    from every other option name in that locale)."""
    defaults = [o.get("name") for o in options]
    for i, name in enumerate(defaults):
        if name in defaults[:i]:
            form.add(
                Kind.COMMAND_INVALID,
                f"{at}.{i}.name",
                "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                "Option names must be unique",
            )
    for i, names in enumerate(localized):
        for locale, shown in names.items():
            others = [other.get(locale, defaults[j]) for j, other in enumerate(localized) if j != i]
            others += [d for j, d in enumerate(defaults) if j != i]
            if shown in others:
                form.add(
                    Kind.COMMAND_INVALID,
                    f"{at}.{i}.name_localizations.{locale}",
                    "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                    "Option names must be unique",
                )


def _check_choices(form: FormErrors, choices: list[Any], at: str) -> int:
    if len(choices) > CHOICES_MAX:
        form.add(
            Kind.COMMAND_INVALID,
            at,
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {CHOICES_MAX} or fewer in length.",
        )
    total = 0
    for j, choice in enumerate(c for c in choices if isinstance(c, dict)):
        where = f"{at}.{j}"
        _bad_length(form, f"{where}.name", choice.get("name"), CHOICE_NAME_MAX)
        names = _localizations(form, choice, "name_localizations", where)
        for locale, value in names.items():
            _bad_length(form, f"{where}.name_localizations.{locale}", value, CHOICE_NAME_MAX)
        total += _longest(choice.get("name"), names) + len(str(choice.get("value", "")))
    return total


def _check_options(form: FormErrors, options: list[Any], at: str, *, depth: int) -> int:
    if len(options) > OPTIONS_MAX:
        form.add(
            Kind.COMMAND_INVALID,
            at,
            "BASE_TYPE_MAX_LENGTH",
            f"Must be {OPTIONS_MAX} or fewer in length.",
        )
    options = [o for o in options if isinstance(o, dict)]
    total = 0
    localized: list[dict[str, Any]] = []
    seen_optional = False
    kinds = {o.get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP) for o in options}
    if len(kinds) > 1:
        form.add(
            Kind.COMMAND_INVALID,
            at,
            "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
            "Sub-commands and options cannot be mixed",
        )
    for i, opt in enumerate(options):
        where = f"{at}.{i}"
        size, names = _check_name_and_description(form, opt, where, chat=True, is_option=True)
        total += size
        localized.append(names)
        otype = opt.get("type")
        if (otype == SUB_COMMAND_GROUP and depth > 0) or (otype == SUB_COMMAND and depth > 1):
            form.add(
                Kind.COMMAND_INVALID,
                f"{where}.type",
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Sub-commands nest at most two levels deep",
            )
        if otype in (SUB_COMMAND, SUB_COMMAND_GROUP):
            total += _check_options(
                form, opt.get("options") or [], f"{where}.options", depth=depth + 1
            )
            continue
        if opt.get("required"):
            if seen_optional:
                form.add(
                    Kind.COMMAND_INVALID,
                    f"{where}.required",
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            seen_optional = True
        total += _check_choices(form, opt.get("choices") or [], f"{where}.choices")
    _check_unique_names(form, options, localized, at)
    return total


def check_commands(commands: list[Any]) -> None:
    """Validate a bulk command overwrite as Discord does: names, descriptions and their
    localizations, counts, nesting and each command's size."""
    form = FormErrors()
    per_type: dict[int, set[str]] = {}
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            form.add(Kind.COMMAND_INVALID, str(i), "MODEL_TYPE_CONVERT", "Must be an object")
            continue
        ctype = int(cmd.get("type", 1))
        chat = ctype == 1
        total, _ = _check_name_and_description(form, cmd, str(i), chat=chat, is_option=False)
        names = per_type.setdefault(ctype, set())
        if cmd.get("name") in names:
            form.add(
                Kind.COMMAND_INVALID,
                f"{i}.name",
                "APPLICATION_COMMANDS_DUPLICATE_NAME",
                "Application command names must be unique",
            )
        names.add(str(cmd.get("name")))
        options = cmd.get("options") or []
        if options and not chat:
            form.add(
                Kind.COMMAND_INVALID,
                f"{i}.options",
                "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                "Context menu commands cannot have options",
            )
        total += _check_options(form, options, f"{i}.options", depth=0)
        if total > COMMAND_TOTAL_CHARS_MAX:
            form.add(
                Kind.COMMAND_INVALID,
                str(i),
                "APPLICATION_COMMAND_TOO_LARGE",
                f"Command exceeds maximum size ({COMMAND_TOTAL_CHARS_MAX})",
            )
    for ctype, names in per_type.items():
        if len(names) > COMMANDS_MAX.get(ctype, 100):
            form.add(
                Kind.COMMAND_INVALID,
                "_",
                "BASE_TYPE_MAX_LENGTH",
                f"At most {COMMANDS_MAX.get(ctype)} commands of type {ctype}",
            )
    form.raise_if_any()


USER_MENTION_RE = re.compile(r"<@!?(\d{15,21})>")
ROLE_MENTION_RE = re.compile(r"<@&(\d{15,21})>")


def compute_pings(
    content: str,
    allowed_mentions: dict[str, Any] | None,
    *,
    member_ids: set[int],
    mentionable_roles: set[int],
    role_ids: set[int],
    can_mention_everyone: bool,
    replied_user_id: int | None = None,
) -> Pings:
    """Who a message would really notify.

    Without `allowed_mentions` Discord parses everything the author may mention; with it, only
    what it lists. Roles ping when mentionable or when the author may mention everyone.
    """
    users = {int(u) for u in USER_MENTION_RE.findall(content)} & member_ids
    roles = {int(r) for r in ROLE_MENTION_RE.findall(content)} & role_ids
    everyone = "@everyone" in content
    here = "@here" in content
    replied = replied_user_id is not None
    if allowed_mentions is not None:
        parse = set(allowed_mentions.get("parse") or [])
        if "users" not in parse:
            users &= {int(u) for u in allowed_mentions.get("users") or []}
        if "roles" not in parse:
            roles &= {int(r) for r in allowed_mentions.get("roles") or []}
        if "everyone" not in parse:
            everyone = here = False
        replied = replied and bool(allowed_mentions.get("replied_user", False))
    if not can_mention_everyone:
        everyone = here = False
        roles &= mentionable_roles
    if replied and replied_user_id is not None:
        users.add(replied_user_id)
    return Pings(frozenset(users), frozenset(roles), everyone, here)
