"""The operator's [moderation] table: the shipped examples, and mistakes reported like others."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config import ModerationConfig, parse_config
from bot.errors import ConfigError
from tests.test_config import ALL_KEYS, _valid

EXAMPLE = Path(__file__).resolve().parents[1] / "council.example.toml"
_TOML_LINE = re.compile(r"^# (\[[a-z.]+\]|[a-z_0-9]+ = .*)$")


def _example_blocks() -> list[str]:
    """The commented-out moderation examples of council.example.toml, uncommented."""
    text = EXAMPLE.read_text(encoding="utf-8").split("-- moderation", 1)[1]
    blocks = text.split("# Or a guard model")
    return [
        "\n".join(m[1] for line in b.splitlines() if (m := _TOML_LINE.match(line))) for b in blocks
    ]


@pytest.mark.parametrize("block", range(2))
def test_the_shipped_moderation_examples_are_valid_once_uncommented(block):
    import tomllib

    raw = tomllib.loads(EXAMPLE.read_text(encoding="utf-8") + "\n" + _example_blocks()[block])
    config = parse_config(raw, "council.toml", {**ALL_KEYS, "OPENAI_API_KEY": "sk-test"})
    assert isinstance(config.moderation, ModerationConfig)
    assert config.moderation.on_error == "withhold"
    assert config.warnings == []


def _problems(moderation: dict, environ: dict | None = None) -> list[str]:
    raw = {**_valid(), "moderation": moderation}
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "council.toml", ALL_KEYS if environ is None else environ)
    return [str(p) for p in caught.value.problems]


def test_a_moderation_table_naming_a_missing_or_unsuitable_provider_fails_the_file():
    [unknown] = _problems({"kind": "openai", "provider": "nope", "model": "m"})
    assert "moderation.provider: names unknown provider 'nope'" in unknown
    [wrong_kind] = _problems({"kind": "guard", "provider": "anthropic", "model": "m"})
    assert "moderation.provider: names provider 'anthropic' of kind 'anthropic'" in wrong_kind
    [bad_choice] = _problems({"kind": "openai", "provider": "local", "model": "m", "on_error": "x"})
    assert "moderation.on_error" in bad_choice
    # Lenient loading (what `run` does) still refuses: a bot must not run unmoderated by mistake.
    with pytest.raises(ConfigError):
        parse_config(
            {**_valid(), "moderation": {"kind": "openai", "provider": "nope", "model": "m"}},
            "council.toml",
            ALL_KEYS,
            is_lenient=True,
        )


def test_a_moderation_model_whose_key_is_unset_is_a_warning_that_says_what_follows():
    raw = {
        **_valid(),
        "moderation": {"kind": "openai", "provider": "anthropic", "model": "m"},
    }
    raw["providers"]["anthropic"]["kind"] = "openai"
    config = parse_config(raw, "council.toml", {})
    [warning] = [str(w) for w in config.warnings if "moderation" in str(w)]
    assert "ANTHROPIC_API_KEY" in warning
    assert "every reply will be withheld" in warning
