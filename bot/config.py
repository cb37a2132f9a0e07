"""Settings from the environment and the operator's `council.toml`, both validated by pydantic.

`Settings` holds process-level knobs (`DISCORD_TOKEN`, `COUNCIL_DB`, ...). `CouncilConfig` is
the operator's file: providers, models, personas and presets. `load_config` reports every
problem in the file at once, each naming the file, the key path and the fix.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Mapping
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
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError, ConfigProblem, UserFacingError

ProviderKind = Literal["openai", "anthropic", "gemini"]
FormatName = Literal["parallel", "debate", "chaired", "review"]
FORMATS: tuple[FormatName, ...] = ("parallel", "debate", "chaired", "review")

# Discord rejects webhook usernames outside 1-80 chars or containing these words.
WEBHOOK_NAME_MAX_CHARS = 80
WEBHOOK_FORBIDDEN_WORDS = ("discord", "clyde")
_M = TypeVar("_M", bound=BaseModel)
_COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level(value: str) -> str:
    if value.strip().upper() not in LOG_LEVELS:
        raise ValueError("not a log level")
    return value.strip().upper()


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
    council_dev_guild_id: Annotated[int, Field(gt=0)] | None = None
    discord_api_base: HttpUrl | None = None
    discord_gateway_url: WebSocketUrl | None = None
    log_level: Annotated[str, AfterValidator(_log_level)] = "INFO"


# What each setting that can be mistyped must be, to say so when it is not.
_SETTING_FORMS = {
    "council_dev_guild_id": "a server id, a whole number (in Discord: right-click the server, "
    "Copy Server ID), or empty",
    "discord_api_base": "an http(s) URL with the API version, e.g. "
    "http://127.0.0.1:8080/api/v10, or empty for Discord itself",
    "discord_gateway_url": "a ws(s) URL, e.g. ws://127.0.0.1:8080/gateway, or empty for "
    "Discord itself",
    "log_level": "DEBUG, INFO, WARNING or ERROR",
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
            lines[field] = (
                f"{name} must be {form}, not {error['input']!r}."
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


class CouncilConfig(_Strict):
    """The operator's `council.toml`, validated and cross-checked."""

    providers: dict[str, ProviderConfig]
    models: dict[str, ModelConfig]
    personas: list[PersonaConfig]
    presets: dict[str, PresetConfig] = Field(default_factory=dict)

    def persona(self, name: str) -> PersonaConfig | None:
        """The persona with this name (case-insensitive), if any."""
        wanted = name.casefold()
        return next((p for p in self.personas if p.name.casefold() == wanted), None)

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


def load_config(path: Path, environ: Mapping[str, str]) -> CouncilConfig:
    """Read and validate `council.toml`; raise `ConfigError` listing every problem found."""
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
    return parse_config(raw, file, environ)


_COPY_EXAMPLE_FIX = "copy council.example.toml to council.toml, or set COUNCIL_CONFIG"


def parse_config(raw: Mapping[str, Any], file: str, environ: Mapping[str, str]) -> CouncilConfig:
    """Validate an already-parsed config mapping; see `load_config`."""
    problems: list[ConfigProblem] = []
    for key in raw:
        if key not in CouncilConfig.model_fields:
            known = ", ".join(CouncilConfig.model_fields)
            problems.append(
                ConfigProblem(file, key, "is not a known section", f"remove it (known: {known})")
            )

    providers = _validate_table(raw, "providers", ProviderConfig, file, problems)
    models = _validate_table(raw, "models", ModelConfig, file, problems)
    presets = _validate_table(raw, "presets", PresetConfig, file, problems, required=False)
    personas = _validate_personas(raw, file, problems)

    if "providers" in raw:
        problems.extend(_check_providers(file, providers, models))
    problems.extend(_check_model_ids(file, models))
    problems.extend(_check_personas(file, personas, models if "models" in raw else None))
    problems.extend(_check_presets(file, presets, [p for _, p in personas]))
    problems.extend(_check_keys(file, providers, models, [p for _, p in personas], environ))

    if problems:
        raise ConfigError(problems)
    return CouncilConfig(
        providers=providers, models=models, personas=[p for _, p in personas], presets=presets
    )


def _check_providers(
    file: str, providers: Mapping[str, ProviderConfig], models: Mapping[str, ModelConfig]
) -> list[ConfigProblem]:
    problems = [
        ConfigProblem(
            file,
            f"providers.{name}.base_url",
            f"{provider.base_url!r} is not an http(s) URL",
            'use a URL such as "https://api.example.com" or "http://127.0.0.1:11434"',
        )
        for name, provider in providers.items()
        if not is_http_url(provider.base_url)
    ]
    problems.extend(
        ConfigProblem(
            file,
            f"models.{name}.provider",
            f"names unknown provider {model.provider!r}",
            f"use one of: {_names(providers)}",
        )
        for name, model in models.items()
        if model.provider not in providers
    )
    return problems


def _check_model_ids(file: str, models: Mapping[str, ModelConfig]) -> list[ConfigProblem]:
    # The id goes into the request as it stands: a stray space or newline (easy to paste)
    # would only surface as a "model not found" mid-council.
    fix = 'write the id exactly as the provider lists it, e.g. "claude-sonnet-4-5", no spaces'
    return [
        ConfigProblem(
            file,
            f"models.{name}.model",
            "is empty" if not model.model else f"{model.model!r} contains whitespace",
            fix,
        )
        for name, model in models.items()
        if not model.model or any(char.isspace() for char in model.model)
    ]


def _check_personas(
    file: str,
    personas: list[tuple[int, PersonaConfig]],
    models: Mapping[str, ModelConfig] | None,
) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    seen: dict[str, int] = {}
    for index, persona in personas:
        key = f"personas[{index}]"
        folded = persona.name.casefold()
        if folded in seen:
            problems.append(
                ConfigProblem(
                    file,
                    f"{key}.name",
                    f"{persona.name!r} duplicates personas[{seen[folded]}]",
                    "give every persona a different name",
                )
            )
        seen.setdefault(folded, index)
        if (why := webhook_name_problem(persona.name)) is not None:
            problems.append(
                ConfigProblem(file, f"{key}.name", f"{persona.name!r} {why}", "choose another name")
            )
        if models is not None and persona.model not in models:
            problems.append(
                ConfigProblem(
                    file,
                    f"{key}.model",
                    f"names unknown model {persona.model!r}",
                    f"use one of: {_names(models)}",
                )
            )
        if not _COLOR_RE.match(persona.color):
            problems.append(
                ConfigProblem(
                    file,
                    f"{key}.color",
                    f"{persona.color!r} is not a colour",
                    'write it as "#RRGGBB", e.g. "#D97757"',
                )
            )
        if persona.avatar_url is not None and not is_http_url(persona.avatar_url):
            problems.append(
                ConfigProblem(
                    file,
                    f"{key}.avatar_url",
                    f"{persona.avatar_url!r} is not an http(s) URL",
                    "use an https:// image URL or remove the key",
                )
            )
    return problems


def _check_presets(
    file: str, presets: Mapping[str, PresetConfig], personas: list[PersonaConfig]
) -> list[ConfigProblem]:
    known = {p.name.casefold() for p in personas}
    fix = f"use one of: {', '.join(p.name for p in personas)}"
    problems: list[ConfigProblem] = []
    for name, preset in presets.items():
        named = [(f"members[{i}]", member) for i, member in enumerate(preset.members)]
        named += [(role, who) for role in ("chair", "summariser") if (who := getattr(preset, role))]
        problems.extend(
            ConfigProblem(file, f"presets.{name}.{where}", f"names unknown persona {who!r}", fix)
            for where, who in named
            if who.casefold() not in known
        )
    return problems


def _check_keys(
    file: str,
    providers: Mapping[str, ProviderConfig],
    models: Mapping[str, ModelConfig],
    personas: list[PersonaConfig],
    environ: Mapping[str, str],
) -> list[ConfigProblem]:
    used = {models[p.model].provider for p in personas if p.model in models} & providers.keys()
    problems = []
    for name in sorted(used):
        env_name = providers[name].api_key_env
        if env_name and not environ.get(env_name):
            problems.append(
                ConfigProblem(
                    file,
                    f"providers.{name}.api_key_env",
                    f"the environment variable {env_name} is not set",
                    f"set {env_name} in .env or the environment",
                )
            )
    return problems


def _names(table: Mapping[str, object]) -> str:
    return ", ".join(table) or "(none defined)"


def _validate_table(
    raw: Mapping[str, Any],
    section: str,
    model: type[_M],
    file: str,
    problems: list[ConfigProblem],
    *,
    required: bool = True,
) -> dict[str, _M]:
    table = raw.get(section)
    if table is None:
        if required:
            problems.append(
                ConfigProblem(file, section, "is missing", f"add at least one [{section}.NAME]")
            )
        return {}
    if not isinstance(table, dict):
        problems.append(
            ConfigProblem(file, section, "must be a table", f"write it as [{section}.NAME]")
        )
        return {}
    result: dict[str, _M] = {}
    for name, body in table.items():
        try:
            result[name] = model.model_validate(body)
        except ValidationError as exc:
            problems.extend(_problems_from(exc, f"{section}.{name}", model, file))
    return result


def _validate_personas(
    raw: Mapping[str, Any], file: str, problems: list[ConfigProblem]
) -> list[tuple[int, PersonaConfig]]:
    items = raw.get("personas")
    if items is None:
        problems.append(
            ConfigProblem(file, "personas", "is missing", "add at least two [[personas]] entries")
        )
        return []
    if not isinstance(items, list):
        problems.append(
            ConfigProblem(file, "personas", "must be an array", "write each as [[personas]]")
        )
        return []
    result: list[tuple[int, PersonaConfig]] = []
    for index, body in enumerate(items):
        try:
            result.append((index, PersonaConfig.model_validate(body)))
        except ValidationError as exc:
            problems.extend(_problems_from(exc, f"personas[{index}]", PersonaConfig, file))
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
