"""Settings from the environment and the operator's `council.toml`, both validated by pydantic.

`Settings` holds process-level knobs (`DISCORD_TOKEN`, `COUNCIL_DB`, ...). `CouncilConfig` is
the operator's file: providers, models, personas and presets. `load_config` reports every
problem in the file at once, each naming the file, the key path and the fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.council.languages import language_code
from bot.database_url import is_postgres_url, redact
from bot.errors import ConfigError, ConfigProblem, SeatProblem, UserFacingError

ProviderKind = Literal["openai", "anthropic", "gemini"]
FormatName = Literal["parallel", "debate", "chaired", "review"]
FORMATS: tuple[FormatName, ...] = ("parallel", "debate", "chaired", "review")
SpeakingOrder = Literal["rotating", "fixed", "natural"]

# Discord rejects webhook usernames outside 1-80 chars or containing these words.
WEBHOOK_NAME_MAX_CHARS = 80
WEBHOOK_FORBIDDEN_WORDS = ("discord", "clyde")
_M = TypeVar("_M", bound=BaseModel)
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# How long a stopping bot waits for ended councils to post their summaries and closing links
# before it disconnects; inside Docker's default 10 s between SIGTERM and SIGKILL.
SHUTDOWN_GRACE_S = 5.0


def _log_level(value: str) -> str:
    if value.strip().upper() not in LOG_LEVELS:
        raise ValueError("not a log level")
    return value.strip().upper()


def _database_url(value: str) -> str:
    if not is_postgres_url(value) or not urlsplit(value).netloc:
        raise ValueError("not a postgresql:// URL")
    return value


def _url_with_scheme(*schemes: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.netloc:
            raise ValueError(f"not a {' or '.join(schemes)} URL")
        return value

    return check


HttpUrl = Annotated[str, AfterValidator(_url_with_scheme("http", "https"))]
WebSocketUrl = Annotated[str, AfterValidator(_url_with_scheme("ws", "wss"))]


class Settings(BaseSettings):
    """Process settings from the environment and `.env` (documented in `.env.example`).

    Build it with `load_settings`, which says in one line per variable what is wrong.
    """

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    discord_token: SecretStr | None = None
    council_config: Path = Path("council.toml")
    council_db: Path = Path("data/council.db")
    database_url: Annotated[str, AfterValidator(_database_url)] | None = None
    council_dev_guild_id: Annotated[int, Field(gt=0)] | None = None
    discord_api_base: HttpUrl | None = None
    discord_gateway_url: WebSocketUrl | None = None
    log_level: Annotated[str, AfterValidator(_log_level)] = "INFO"
    # Running at scale (README): this process's shards out of `shard_count`, its part of the
    # bot token's global REST limit, and how long a council's lease outlives its last renewal.
    shards: str | None = None
    shard_count: Annotated[int, Field(ge=1)] | None = None
    rest_share: str | None = None
    lease_ttl_s: Annotated[float, Field(ge=1, le=3600)] = 30.0
    # `/metrics` and `/healthz` are served here when a port is set; nowhere without one.
    metrics_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    metrics_host: str = "127.0.0.1"
    shutdown_grace_s: Annotated[float, Field(ge=0, le=300)] = SHUTDOWN_GRACE_S

    @property
    def store_location(self) -> Path | str:
        """The database: `DATABASE_URL` (PostgreSQL) if set, else the SQLite file `COUNCIL_DB`."""
        return self.database_url or self.council_db


# What each setting that can be mistyped must be, to say so when it is not.
_SETTING_FORMS = {
    "council_dev_guild_id": "a server id, a whole number (in Discord: right-click the server, "
    "Copy Server ID), or empty",
    "discord_api_base": "an http(s) URL with the API version, e.g. "
    "http://127.0.0.1:8080/api/v10, or empty for Discord itself",
    "discord_gateway_url": "a ws(s) URL, e.g. ws://127.0.0.1:8080/gateway, or empty for "
    "Discord itself",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
    "shard_count": "how many shards the bot runs in all, a whole number of 1 or more",
    "lease_ttl_s": "seconds between 1 and 3600, e.g. 30",
    "database_url": "a PostgreSQL URL, e.g. postgresql://council:secret@db.example.org/council, "
    "or empty for the SQLite file COUNCIL_DB",
    "metrics_port": "a TCP port, a whole number from 1 to 65535, or empty for no metrics",
    "shutdown_grace_s": "seconds between 0 and 300, e.g. 5",
}


def load_settings() -> Settings:
    """The process settings from the environment and `.env`.

    Raises:
        UserFacingError: a setting is malformed; one line per setting, naming the variable,
            the value and what it must be (never the token's value).
    """
    try:
        return Settings()
    except ValidationError as exc:
        lines: dict[str, str] = {}
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            form = _SETTING_FORMS.get(field)
            name = field.upper()
            shown = redact(str(error["input"])) if field == "database_url" else error["input"]
            lines[field] = (
                f"{name} must be {form}, not {shown!r}."
                if form is not None
                else f"{name} is not valid: {error['msg']}."
            )
        raise UserFacingError("\n".join(lines.values())) from None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderConfig(_Strict):
    """One provider endpoint. URLs and keys come only from this file and the environment."""

    kind: ProviderKind
    base_url: str
    api_key_env: str | None = None
    timeout_s: Annotated[float, Field(gt=0)] = 90.0
    connect_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    first_token_timeout_s: Annotated[float, Field(gt=0)] = 60.0
    max_concurrency: Annotated[int, Field(ge=1, le=256)] = 4
    max_retries: Annotated[int, Field(ge=0, le=10)] = 2
    api_version: str | None = None


class ModelConfig(_Strict):
    """A model on a provider, with its generation defaults and prices (USD per million tokens)."""

    provider: str
    model: str
    max_tokens: Annotated[int, Field(ge=1, le=200_000)] = 700
    temperature: Annotated[float, Field(ge=0, le=2)] | None = 0.7
    price_in_per_mtok: Annotated[float, Field(ge=0)] = 0.0
    price_out_per_mtok: Annotated[float, Field(ge=0)] = 0.0

    def cost_usd(self, input_tokens: int, output_tokens: int) -> float:
        """Estimated cost of a call with these token counts."""
        return (
            input_tokens * self.price_in_per_mtok + output_tokens * self.price_out_per_mtok
        ) / 1_000_000


class PersonaConfig(_Strict):
    """A council member as the audience sees it: name, avatar, colour and speaking style."""

    name: Annotated[str, Field(min_length=1)]
    model: str
    avatar_url: str | None = None
    color: str = "#5865F2"
    style: str = ""


class PresetConfig(_Strict):
    """A named line-up: who sits on the council, who chairs, the format and rounds."""

    members: Annotated[list[str], Field(min_length=2, max_length=8)]
    chair: str | None = None
    summariser: str | None = None
    format: FormatName = "parallel"
    rounds: Annotated[int, Field(ge=1, le=10)] = 3
    # Who speaks when in a debate or chaired council (see `bot.council.formats.plan_round`).
    order: SpeakingOrder = "rotating"
    # End (to the synthesis) once every member's position held for a whole round, rather
    # than offer the host a button to.
    end_on_agreement: bool = False
    # A locale code ("ru") or language name; unset, the models answer in the topic's language.
    language: str = ""

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        try:
            return language_code(value)
        except UserFacingError as exc:
            raise ValueError(str(exc)) from exc


class ModerationConfig(_Strict):
    """The operator's moderation model, which checks every reply before anyone sees it.

    `kind` "openai" posts to an OpenAI-compatible `/v1/moderations` endpoint; "guard" asks a
    guard model (such as Llama Guard) through chat completions and maps its category codes by
    `categories` (Llama Guard 3's S1-S14 names by default). The endpoint and key are those of
    `provider`, a `[providers.NAME]` entry of kind "openai". Set here only, never from Discord.
    """

    kind: Literal["openai", "guard"]
    provider: str
    model: Annotated[str, Field(min_length=1)]
    timeout_s: Annotated[float, Field(gt=0, le=120)] = 10.0
    # What a check that fails does to its reply; withholding is the default because a public
    # server prefers silence to an unchecked reply.
    on_error: Literal["withhold", "allow"] = "withhold"
    # What a flagged reply gets: withheld, or shown behind a spoiler with a content note.
    action: Literal["withhold", "spoiler"] = "withhold"
    categories: dict[str, str] = Field(default_factory=dict)


class CouncilConfig(_Strict):
    """The operator's `council.toml`, validated and cross-checked."""

    providers: dict[str, ProviderConfig]
    models: dict[str, ModelConfig]
    personas: list[PersonaConfig]
    presets: dict[str, PresetConfig] = Field(default_factory=dict)
    moderation: ModerationConfig | None = None
    # Set by `parse_config`, never read from the file: the personas this process can't seat,
    # and what deserves the operator's attention without refusing anything. Left out of
    # `model_dump`, so that a dumped config parses again.
    unseated: dict[str, SeatProblem] = Field(default_factory=dict, exclude=True)
    warnings: list[ConfigProblem] = Field(default_factory=list, exclude=True)

    def persona(self, name: str) -> PersonaConfig | None:
        """The persona with this name (case-insensitive), if any."""
        wanted = name.casefold()
        return next((p for p in self.personas if p.name.casefold() == wanted), None)

    def seat_problem(self, name: str) -> SeatProblem | None:
        """Why the persona with this name (case-insensitive) can't be seated, if it can't."""
        wanted = name.casefold()
        return next((p for n, p in self.unseated.items() if n.casefold() == wanted), None)

    def providers_in_use(self) -> set[str]:
        """Names of the providers some persona's model runs on."""
        return {
            self.models[p.model].provider
            for p in self.personas
            if p.model in self.models and self.models[p.model].provider in self.providers
        }

    def api_key(self, provider: str, environ: Mapping[str, str]) -> SecretStr | None:
        """The provider's key from the environment, or None when it needs none."""
        env_name = self.providers[provider].api_key_env
        if not env_name:
            return None
        value = environ.get(env_name, "")
        return SecretStr(value) if value else None

    def missing_key(self, provider: str, environ: Mapping[str, str]) -> str | None:
        """The variable that should hold the provider's key, when it needs one and it is unset."""
        return _missing_key(self.providers[provider], environ)


def _missing_key(provider: ProviderConfig, environ: Mapping[str, str]) -> str | None:
    env_name = provider.api_key_env
    return env_name if env_name and not environ.get(env_name) else None


def webhook_name_problem(name: str) -> str | None:
    """Why Discord would reject this as a webhook username, or None when it is fine."""
    if not name.strip():
        return "is empty"
    if len(name) > WEBHOOK_NAME_MAX_CHARS:
        return f"is {len(name)} characters; Discord allows at most {WEBHOOK_NAME_MAX_CHARS}"
    lowered = name.casefold()
    for word in WEBHOOK_FORBIDDEN_WORDS:
        if word in lowered:
            return f'contains "{word}", which Discord forbids in webhook names'
    return None


def is_http_url(value: str) -> bool:
    """True for an absolute http(s) URL with a host."""
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def load_config(
    path: Path, environ: Mapping[str, str], *, is_lenient: bool = False
) -> CouncilConfig:
    """Read and validate `council.toml`; raise `ConfigError` listing every problem found.

    See `parse_config` for what `environ` and `is_lenient` change.
    """
    file = str(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            [ConfigProblem(file, "(file)", "does not exist", _COPY_EXAMPLE_FIX)]
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            [ConfigProblem(file, "(file)", "is a folder", "set COUNCIL_CONFIG to the file itself")]
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [
                ConfigProblem(
                    file,
                    "(file)",
                    f"is not UTF-8 text (line {line})",
                    "save it as UTF-8, or set COUNCIL_CONFIG to your council.toml",
                )
            ]
        ) from None
    except OSError as exc:
        raise ConfigError(
            [
                ConfigProblem(
                    file,
                    "(file)",
                    f"can't be read ({exc.strerror})",
                    "let the bot's user read it, or set COUNCIL_CONFIG to another file",
                )
            ]
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            [ConfigProblem(file, "(file)", f"is not valid TOML ({exc})", "fix the syntax")]
        ) from None
    return parse_config(raw, file, environ, is_lenient=is_lenient)


_COPY_EXAMPLE_FIX = "copy council.example.toml to council.toml, or set COUNCIL_CONFIG"
SECTIONS = ("providers", "models", "personas", "presets", "moderation")
# Discord shows these as a webhook's avatar; an SVG it silently replaces with the default.
AVATAR_FORMATS = "PNG, JPEG, WebP or GIF"

# Who a problem belongs to: ("providers" | "models", name) or ("personas", index).
_Owner = tuple[str, str]


class _Found:
    """Problems in the order they are found, each with the provider, model or persona it is in.

    A problem with no owner (a section, a preset, two personas sharing a name) concerns the
    whole file.
    """

    def __init__(self, file: str) -> None:
        self.file = file
        self.items: list[tuple[_Owner | None, ConfigProblem]] = []

    def add(self, owner: _Owner | None, key: str, problem: str, fix: str) -> None:
        self.items.append((owner, ConfigProblem(self.file, key, problem, fix)))

    def extend(self, owner: _Owner | None, problems: list[ConfigProblem]) -> None:
        self.items.extend((owner, problem) for problem in problems)

    @property
    def problems(self) -> list[ConfigProblem]:
        return [problem for _, problem in self.items]

    @property
    def has_general(self) -> bool:
        return any(owner is None for owner, _ in self.items)

    def of(self, owner: _Owner) -> list[ConfigProblem]:
        return [problem for found, problem in self.items if found == owner]


def parse_config(
    raw: Mapping[str, Any], file: str, environ: Mapping[str, str], *, is_lenient: bool = False
) -> CouncilConfig:
    """Validate an already-parsed config mapping; see `load_config`.

    Each mistake is reported once, at its own key: a provider, model or persona that does not
    validate is still known by name, so nothing that names it is reported as well.

    A persona whose provider's key is not set in `environ` is not a mistake in the file: it is
    listed in `unseated` with the variable to set. With `is_lenient`, a mistake confined to a
    provider, a model or a persona does not fail the load either: the personas it touches are
    left out and listed in `unseated` (what `run` does, so that one typo does not keep a
    server's whole council away). Mistakes that concern the file as a whole still fail it.
    """
    found = _Found(file)
    for key in raw:
        if key not in SECTIONS:
            found.add(
                None, key, "is not a known section", f"remove it (known: {', '.join(SECTIONS)})"
            )

    providers = _validate_table(raw, "providers", ProviderConfig, found)
    models = _validate_table(raw, "models", ModelConfig, found)
    presets = _validate_table(raw, "presets", PresetConfig, found, required=False)
    personas = _validate_personas(raw, found)

    _check_providers(found, providers, models, _names_in(raw, "providers"))
    _check_model_ids(found, models)
    _check_personas(found, personas, _names_in(raw, "models"))
    _check_presets(found, presets, _persona_names(raw))
    moderation = _validate_moderation(raw, found, providers)

    if found.items and (found.has_general or not is_lenient):
        raise ConfigError(found.problems)
    unseated = _unseated_by_mistakes(raw, found)
    providers = {name: p for name, p in providers.items() if not found.of(("providers", name))}
    models = {
        name: m
        for name, m in models.items()
        if not found.of(("models", name)) and m.provider in providers
    }
    seated = [(i, p) for i, p in personas if p.name not in unseated]
    for _, persona in seated:
        if env_name := _missing_key(providers[models[persona.model].provider], environ):
            unseated[persona.name] = SeatProblem.missing_key(persona.name, env_name)
    in_file_order = {name: unseated[name] for name in _persona_names(raw) or [] if name in unseated}
    return CouncilConfig(
        providers=providers,
        models=models,
        personas=[p for _, p in seated],
        presets=presets,
        moderation=moderation,
        unseated=in_file_order,
        warnings=[
            *_avatar_warnings(file, seated),
            *_moderation_warnings(file, moderation, providers, environ),
        ],
    )


def _validate_moderation(
    raw: Mapping[str, Any], found: _Found, providers: Mapping[str, ProviderConfig]
) -> ModerationConfig | None:
    """The `[moderation]` table, if any. Its mistakes concern the whole file: a bot must not
    run unmoderated because the moderation the operator asked for has a typo."""
    table = raw.get("moderation")
    if table is None:
        return None
    if not isinstance(table, dict):
        found.add(None, "moderation", "must be a table", "write it as [moderation]")
        return None
    try:
        moderation = ModerationConfig.model_validate(table)
    except ValidationError as exc:
        found.extend(None, _problems_from(exc, "moderation", ModerationConfig, found.file))
        return None
    provider = providers.get(moderation.provider)
    if provider is None:
        found.add(
            None,
            "moderation.provider",
            f"names unknown provider {moderation.provider!r}",
            f"use one of: {_names(providers)}",
        )
        return None
    if found.of(("providers", moderation.provider)):
        found.add(
            None,
            "moderation.provider",
            f"names provider {moderation.provider!r}, which has mistakes of its own",
            f"correct providers.{moderation.provider}",
        )
        return None
    if provider.kind != "openai":
        found.add(
            None,
            "moderation.provider",
            f"names provider {moderation.provider!r} of kind {provider.kind!r}",
            'moderation speaks the OpenAI wire format: name a provider of kind "openai"',
        )
        return None
    return moderation


def _moderation_warnings(
    file: str,
    moderation: ModerationConfig | None,
    providers: Mapping[str, ProviderConfig],
    environ: Mapping[str, str],
) -> list[ConfigProblem]:
    """The moderation model's key, when it needs one the environment lacks."""
    if moderation is None or moderation.provider not in providers:
        return []
    env_name = _missing_key(providers[moderation.provider], environ)
    if env_name is None:
        return []
    outcome = (
        "every reply will be withheld"
        if moderation.on_error == "withhold"
        else "no reply is checked"
    )
    return [
        ConfigProblem(
            file,
            "moderation.provider",
            f"needs {env_name}, which is not set, so the moderation model can't be asked and "
            f"{outcome} (on_error = {moderation.on_error!r})",
            f"set {env_name} in .env or the environment",
        )
    ]


def _unseated_by_mistakes(raw: Mapping[str, Any], found: _Found) -> dict[str, SeatProblem]:
    """The personas a mistake in their own entry, their model or its provider leaves out."""
    items = raw.get("personas")
    models = raw.get("models")
    unseated: dict[str, SeatProblem] = {}
    for index, body in enumerate(items if isinstance(items, list) else []):
        if not isinstance(body, dict) or not isinstance(name := body.get("name"), str):
            continue
        mistakes = found.of(("personas", str(index)))
        model_name = body.get("model")
        if isinstance(model_name, str):
            mistakes += found.of(("models", model_name))
            model = models.get(model_name) if isinstance(models, dict) else None
            if isinstance(model, dict) and isinstance(provider := model.get("provider"), str):
                mistakes += found.of(("providers", provider))
        if mistakes:
            first = mistakes[0]
            more = f" (and {len(mistakes) - 1} more)" if len(mistakes) > 1 else ""
            unseated[name] = SeatProblem.mistake(
                name, Path(first.file).name, first.key, detail=f"{first}{more}"
            )
    return unseated


def _names_in(raw: Mapping[str, Any], section: str) -> list[str] | None:
    """The names a table defines, valid or not; None when the section is missing or no table."""
    table = raw.get(section)
    return list(table) if isinstance(table, dict) else None


def _persona_names(raw: Mapping[str, Any]) -> list[str] | None:
    """The name of every persona entry, valid or not; None when there is no such array."""
    items = raw.get("personas")
    if not isinstance(items, list):
        return None
    return [
        body["name"]
        for body in items
        if isinstance(body, dict) and isinstance(body.get("name"), str)
    ]


def _check_providers(
    found: _Found,
    providers: Mapping[str, ProviderConfig],
    models: Mapping[str, ModelConfig],
    provider_names: list[str] | None,
) -> None:
    for name, provider in providers.items():
        if not is_http_url(provider.base_url):
            found.add(
                ("providers", name),
                f"providers.{name}.base_url",
                f"{provider.base_url!r} is not an http(s) URL",
                'use a URL such as "https://api.example.com" or "http://127.0.0.1:11434"',
            )
    if provider_names is None:
        return
    for name, model in models.items():
        if model.provider not in provider_names:
            found.add(
                ("models", name),
                f"models.{name}.provider",
                f"names unknown provider {model.provider!r}",
                f"use one of: {_names(provider_names)}",
            )


def _check_model_ids(found: _Found, models: Mapping[str, ModelConfig]) -> None:
    # The id goes into the request as it stands: a stray space or newline (easy to paste)
    # would only surface as a "model not found" mid-council.
    fix = 'write the id exactly as the provider lists it, e.g. "claude-sonnet-4-5", no spaces'
    for name, model in models.items():
        if not model.model or any(char.isspace() for char in model.model):
            problem = "is empty" if not model.model else f"{model.model!r} contains whitespace"
            found.add(("models", name), f"models.{name}.model", problem, fix)


def _check_personas(
    found: _Found, personas: list[tuple[int, PersonaConfig]], model_names: list[str] | None
) -> None:
    seen: dict[str, int] = {}
    for index, persona in personas:
        key = f"personas[{index}]"
        owner = ("personas", str(index))
        folded = persona.name.casefold()
        if folded in seen:
            # Not one persona's mistake: either entry could be the one to rename.
            found.add(
                None,
                f"{key}.name",
                f"{persona.name!r} duplicates personas[{seen[folded]}]",
                "give every persona a different name",
            )
        seen.setdefault(folded, index)
        if (why := webhook_name_problem(persona.name)) is not None:
            found.add(owner, f"{key}.name", f"{persona.name!r} {why}", "choose another name")
        if model_names is not None and persona.model not in model_names:
            found.add(
                owner,
                f"{key}.model",
                f"names unknown model {persona.model!r}",
                f"use one of: {_names(model_names)}",
            )
        if not _COLOR_RE.match(persona.color):
            found.add(
                owner,
                f"{key}.color",
                f"{persona.color!r} is not a colour",
                'write it as "#RRGGBB", e.g. "#D97757"',
            )
        if persona.avatar_url is not None and not is_http_url(persona.avatar_url):
            found.add(
                owner,
                f"{key}.avatar_url",
                f"{persona.avatar_url!r} is not an http(s) URL",
                "use an https:// image URL or remove the key",
            )


def _avatar_warnings(file: str, personas: list[tuple[int, PersonaConfig]]) -> list[ConfigProblem]:
    """Avatars Discord would not show: SVG images, and links that are not https://."""
    warnings = []
    for index, persona in personas:
        url = persona.avatar_url
        if url is None:
            continue
        key = f"personas[{index}].avatar_url"
        parts = urlsplit(url)
        if parts.path.casefold().endswith(".svg"):
            warnings.append(
                ConfigProblem(
                    file,
                    key,
                    "is an SVG image, which Discord does not show as an avatar",
                    f"use a {AVATAR_FORMATS} image URL",
                )
            )
        if parts.scheme != "https":
            warnings.append(
                ConfigProblem(
                    file,
                    key,
                    "is not an https:// URL, so Discord may not show it",
                    "use an https:// image URL",
                )
            )
    return warnings


def _check_presets(
    found: _Found, presets: Mapping[str, PresetConfig], persona_names: list[str] | None
) -> None:
    if persona_names is None:
        return
    known = {name.casefold() for name in persona_names}
    for name, preset in presets.items():
        named = [(f"members[{i}]", member) for i, member in enumerate(preset.members)]
        named += [(role, who) for role in ("chair", "summariser") if (who := getattr(preset, role))]
        for where, who in named:
            if who.casefold() not in known:
                found.add(
                    None,
                    f"presets.{name}.{where}",
                    f"names unknown persona {who!r}",
                    f"use one of: {_names(persona_names)}",
                )


def _names(names: Iterable[str]) -> str:
    return ", ".join(names) or "(none defined)"


def _validate_table(
    raw: Mapping[str, Any],
    section: str,
    model: type[_M],
    found: _Found,
    *,
    required: bool = True,
) -> dict[str, _M]:
    table = raw.get(section)
    if table is None:
        if required:
            found.add(None, section, "is missing", f"add at least one [{section}.NAME]")
        return {}
    if not isinstance(table, dict):
        found.add(None, section, "must be a table", f"write it as [{section}.NAME]")
        return {}
    # A preset's mistake is its own; nothing else refers to a preset.
    owns = section in ("providers", "models")
    result: dict[str, _M] = {}
    for name, body in table.items():
        try:
            result[name] = model.model_validate(body)
        except ValidationError as exc:
            owner = (section, name) if owns else None
            found.extend(owner, _problems_from(exc, f"{section}.{name}", model, found.file))
    return result


def _validate_personas(raw: Mapping[str, Any], found: _Found) -> list[tuple[int, PersonaConfig]]:
    items = raw.get("personas")
    if items is None:
        found.add(None, "personas", "is missing", "add at least two [[personas]] entries")
        return []
    if not isinstance(items, list):
        found.add(None, "personas", "must be an array", "write each as [[personas]]")
        return []
    result: list[tuple[int, PersonaConfig]] = []
    for index, body in enumerate(items):
        try:
            result.append((index, PersonaConfig.model_validate(body)))
        except ValidationError as exc:
            # An entry with a name is one persona's mistake; one without concerns the file.
            named = isinstance(body, dict) and isinstance(body.get("name"), str)
            owner = ("personas", str(index)) if named else None
            problems = _problems_from(exc, f"personas[{index}]", PersonaConfig, found.file)
            found.extend(owner, problems)
    return result


def _problems_from(
    exc: ValidationError, prefix: str, model: type[BaseModel], file: str
) -> list[ConfigProblem]:
    problems = []
    for error in exc.errors():
        loc = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        key = f"{prefix}{loc}"
        kind = error["type"]
        if kind == "extra_forbidden":
            known = ", ".join(model.model_fields)
            problems.append(
                ConfigProblem(file, key, "is not a known key", f"remove it (known: {known})")
            )
        elif kind == "missing":
            problems.append(ConfigProblem(file, key, "is required", "add it"))
        else:
            problems.append(
                ConfigProblem(
                    file, key, f"{error['msg']} (got {error.get('input')!r})", "correct the value"
                )
            )
    return problems
