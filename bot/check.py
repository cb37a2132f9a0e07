"""`council-bot check`: reach every model the config uses with one tiny request and report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.config import CouncilConfig
from bot.errors import ProviderError
from bot.providers.types import ChatMessage, Completion, CompletionRequest, Provider

PING_PROMPT = "Reply with the single word OK."
# Enough room for models that spend a few tokens on preamble; still costs a fraction of a cent.
PING_MAX_TOKENS = 16


@dataclass(frozen=True)
class CheckResult:
    """How one model answered the ping."""

    model_key: str
    model: str
    provider: str
    is_ok: bool
    latency_s: float
    error: str = ""


def models_to_check(config: CouncilConfig) -> list[str]:
    """Model keys used by any preset's members, chair or summariser; all personas' if no presets."""
    names: list[str] = []
    if config.presets:
        for preset in config.presets.values():
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


async def check_models(
    config: CouncilConfig, providers: Mapping[str, Provider], model_keys: Sequence[str]
) -> list[CheckResult]:
    """Ping every model concurrently; never raises for a provider failure."""
    return list(await asyncio.gather(*(_ping(config, providers, key) for key in model_keys)))


async def _ping(
    config: CouncilConfig, providers: Mapping[str, Provider], model_key: str
) -> CheckResult:
    model = config.models[model_key]
    request = CompletionRequest(
        model=model.model,
        system="You are a connectivity check.",
        messages=(ChatMessage("user", PING_PROMPT),),
        max_tokens=PING_MAX_TOKENS,
        temperature=0.0,
    )
    started = time.monotonic()
    try:
        completion: Completion | None = None
        async for item in providers[model.provider].stream(request):
            if isinstance(item, Completion):
                completion = item
        if completion is None:
            return _failed(model_key, model.model, model.provider, started, "no completion")
    except ProviderError as exc:
        return _failed(
            model_key, model.model, model.provider, started, f"{exc.kind}: {exc.message}"
        )
    return CheckResult(model_key, model.model, model.provider, True, completion.latency_s)


def _failed(key: str, model: str, provider: str, started: float, error: str) -> CheckResult:
    return CheckResult(key, model, provider, False, time.monotonic() - started, error)


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
