"""`council-bot check`: reach every model the config uses with one tiny request and report.

It also warns about persona names the charts can't draw: a script no available font covers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import httpx

from bot.config import CouncilConfig
from bot.errors import ProviderError, ProviderErrorKind, UntrustedServerError, UserFacingError
from bot.providers.moderation import build_moderation_model
from bot.providers.registry import build_providers
from bot.providers.types import ChatMessage, Completion, CompletionRequest, Provider
from bot.render.text import CJK_SCRIPTS, FontSet, script_of

PING_PROMPT = "Reply with the single word OK."
# The moderation model's row in the table, and the harmless text it is asked about.
MODERATION_ROW: Final = "moderation"
MODERATION_PING = "Good morning, council."
# Enough room for models that spend a few tokens on preamble; still costs a fraction of a cent.
PING_MAX_TOKENS = 16
# A row whose provider's key is not set: no request is sent for it.
NO_KEY: Final = "no_key"
# A row whose server's TLS certificate was refused: unreachable in kind, but starting the
# server again would not help.
UNTRUSTED: Final = "untrusted_certificate"
# Loggers whose lines would only repeat, above the table, what its rows say.
_ROW_LOGGERS: Final = ("bot.providers", "httpx")


@dataclass(frozen=True)
class CheckResult:
    """How one model answered the ping."""

    model_key: str
    model: str
    provider: str
    is_ok: bool
    latency_s: float
    error: str = ""
    kind: str = ""


def models_to_check(config: CouncilConfig, presets: Sequence[str] = ()) -> list[str]:
    """Model keys used by the members, chair or summariser of the named presets.

    With no names, every preset's; with no presets configured, every persona's.

    Raises:
        UserFacingError: a named preset does not exist.
    """
    for name in presets:
        if name not in config.presets:
            known = ", ".join(config.presets) or "none configured"
            raise UserFacingError(f"There is no preset called {name!r}. Presets: {known}.")
    names: list[str] = []
    if config.presets:
        for preset_name, preset in config.presets.items():
            if presets and preset_name not in presets:
                continue
            names.extend(preset.members)
            names.extend(n for n in (preset.chair, preset.summariser) if n)
    else:
        names = [p.name for p in config.personas]
    keys: list[str] = []
    for name in names:
        persona = config.persona(name)
        if persona is not None and persona.model not in keys:
            keys.append(persona.model)
    return keys


def ping_providers(
    config: CouncilConfig, environ: Mapping[str, str], client: httpx.AsyncClient
) -> dict[str, Provider]:
    """The providers, each making one attempt per call: a check reports, it does not insist."""
    once = {
        name: provider.model_copy(update={"max_retries": 0})
        for name, provider in config.providers.items()
    }
    return build_providers(config.model_copy(update={"providers": once}), environ, client)


async def check_models(
    config: CouncilConfig,
    providers: Mapping[str, Provider],
    model_keys: Sequence[str],
    environ: Mapping[str, str],
) -> list[CheckResult]:
    """Ping every model concurrently; never raises for a provider failure.

    A model whose provider's key is not set in `environ` fails without a request.
    """
    with _rows_only():
        return list(
            await asyncio.gather(*(_ping(config, providers, key, environ) for key in model_keys))
        )


@contextlib.contextmanager
def _rows_only() -> Iterator[None]:
    """Keep the providers' own log lines out of the output, unless DEBUG asked for everything."""
    loggers = [logging.getLogger(name) for name in _ROW_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        if logger.getEffectiveLevel() > logging.DEBUG:
            logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


async def _ping(
    config: CouncilConfig,
    providers: Mapping[str, Provider],
    model_key: str,
    environ: Mapping[str, str],
) -> CheckResult:
    model = config.models[model_key]
    started = time.monotonic()
    if env_name := config.missing_key(model.provider, environ):
        return _failed(
            model_key, model.model, model.provider, started, NO_KEY, f"{env_name} is not set"
        )
    request = CompletionRequest(
        model=model.model,
        system="You are a connectivity check.",
        messages=(ChatMessage("user", PING_PROMPT),),
        max_tokens=PING_MAX_TOKENS,
        temperature=0.0,
    )
    try:
        completion: Completion | None = None
        async for item in providers[model.provider].stream(request):
            if isinstance(item, Completion):
                completion = item
        if completion is None:
            return _failed(
                model_key,
                model.model,
                model.provider,
                started,
                ProviderErrorKind.BAD_RESPONSE,
                "no completion",
            )
    except ProviderError as exc:
        return _failed(model_key, model.model, model.provider, started, _row_kind(exc), exc.message)
    return CheckResult(model_key, model.model, model.provider, True, completion.latency_s)


async def check_moderation(
    config: CouncilConfig, environ: Mapping[str, str], client: httpx.AsyncClient
) -> CheckResult | None:
    """Ask the moderation model about a harmless text, once; None when none is configured.

    Reaching it is what counts: a harmless text it flags is still an answer.
    """
    moderation = config.moderation
    if moderation is None:
        return None
    started = time.monotonic()
    name, model = moderation.provider, moderation.model
    if env_name := config.missing_key(name, environ):
        return _failed(MODERATION_ROW, model, name, started, NO_KEY, f"{env_name} is not set")
    once = config.providers[name].model_copy(update={"max_retries": 0})
    checked = config.model_copy(update={"providers": {**config.providers, name: once}})
    classifier = build_moderation_model(checked, environ, client)
    if classifier is None:  # unreachable: `moderation` is set
        return None
    with _rows_only():
        try:
            await classifier.classify(MODERATION_PING)
        except ProviderError as exc:
            return _failed(MODERATION_ROW, model, name, started, _row_kind(exc), exc.message)
    return CheckResult(MODERATION_ROW, model, name, True, time.monotonic() - started)


def _row_kind(error: ProviderError) -> str:
    """The failure's kind as its row shows it: a refused certificate apart from a server down."""
    return UNTRUSTED if isinstance(error, UntrustedServerError) else error.kind


def _failed(
    key: str, model: str, provider: str, started: float, kind: str, message: str
) -> CheckResult:
    return CheckResult(
        key, model, provider, False, time.monotonic() - started, f"{kind}: {message}", kind
    )


def format_results(results: Sequence[CheckResult]) -> str:
    """A plain-text table: model, provider, status, latency, error."""
    header = ("model", "provider", "status", "latency", "error")
    rows = [
        (
            f"{r.model_key} ({r.model})",
            r.provider,
            "OK" if r.is_ok else "FAILED",
            f"{r.latency_s:.2f}s",
            r.error,
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(4)]
    lines = []
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row[:4], widths, strict=True)]
        lines.append("  ".join([*cells, row[4]]).rstrip())
    failed = sum(not r.is_ok for r in results)
    lines.append(
        f"{len(results) - failed}/{len(results)} models OK"
        + (f"; {failed} failed" if failed else "")
    )
    return "\n".join(lines)


def format_advice(results: Sequence[CheckResult], config: CouncilConfig) -> str:
    """For each failed row, what to do; empty when nothing failed."""
    failed = [r for r in results if not r.is_ok]
    if not failed:
        return ""
    return "\n".join(["What to do:", *(f"  {r.model_key}: {advice(r, config)}" for r in failed)])


def advice(result: CheckResult, config: CouncilConfig) -> str:
    """What the operator can do about one failed row."""
    name = result.provider
    provider = config.providers[name]
    match result.kind:
        case "no_key" | ProviderErrorKind.AUTH:  # "no_key" is NO_KEY: a bare name would capture
            return _key_advice(result, provider.api_key_env, name)
        case "untrusted_certificate":  # UNTRUSTED: a bare name would capture
            return (
                f"the TLS certificate of {provider.base_url} was not trusted: if "
                f"providers.{name}.base_url names the wrong host, correct it; if the server's "
                "certificate comes from a private authority, set SSL_CERT_FILE to a PEM file "
                "holding that authority's certificate and the public ones (it replaces them)"
            )
        case ProviderErrorKind.UNREACHABLE:
            return (
                f"is the server running at {provider.base_url}? Start it, or correct "
                f"providers.{name}.base_url"
            )
        case ProviderErrorKind.MODEL_NOT_FOUND:
            if "ollama pull" in result.error:
                return f"run `ollama pull {result.model}` where Ollama runs, then check again"
            key = (
                "moderation" if result.model_key == MODERATION_ROW else f"models.{result.model_key}"
            )
            return (
                f"check {key}.model: is {result.model!r} the provider's "
                f"exact model id? And is providers.{name}.base_url the right server?"
            )
        case ProviderErrorKind.RATE_LIMITED:
            return "the provider is limiting requests: wait a minute and check again"
        case ProviderErrorKind.TIMEOUT:
            return (
                "the model did not answer in time: is the server busy, or still loading the "
                f"model? A slow local model may need a larger "
                f"providers.{name}.first_token_timeout_s"
            )
        case ProviderErrorKind.OVERLOADED:
            return "the provider is failing on its side: try again in a few minutes"
        case ProviderErrorKind.REFUSED:
            return "the model refused the one-word ping: try again, or choose another model"
        case _:
            return (
                f"the server's answer was not what a {provider.kind} API sends: check "
                f"providers.{name}.base_url and providers.{name}.kind"
            )


def _key_advice(result: CheckResult, env_name: str | None, provider: str) -> str:
    if not env_name:
        return f"add api_key_env to providers.{provider}, naming the variable with its key"
    if result.kind == NO_KEY:
        return (
            f"set {env_name} in .env or the environment, or check only the presets you can "
            "run now: council-bot check --preset NAME"
        )
    return f"the key was refused: check the value of {env_name}"


def name_font_warnings(names: Sequence[str], fonts: FontSet) -> list[str]:
    """One line per name with characters no font in ``fonts`` draws, naming their scripts."""
    lines = []
    for name in names:
        missing = fonts.missing(name)
        if not missing:
            continue
        scripts = list(dict.fromkeys(script_of(char) for char in missing))
        remedy = (
            "install Debian's fonts-noto-cjk"
            if set(scripts) <= CJK_SCRIPTS
            else "the charts use only their own fonts and a CJK font: rename the persona"
        )
        lines.append(
            f"persona {name!r}: no font here draws {''.join(missing)!r} ({', '.join(scripts)}); "
            f"the charts show boxes for it ({remedy})"
        )
    return lines
