"""The operator's config: every problem reported at once, with file, key path and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_config, parse_config
from bot.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[1] / "council.example.toml"
ALL_KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-test",
    "DEEPSEEK_API_KEY": "sk-ds-test",
    "GEMINI_API_KEY": "g-test",
    "GROQ_API_KEY": "gsk-test",
}


def _valid() -> dict:
    return {
        "providers": {
            "local": {"kind": "openai", "base_url": "http://127.0.0.1:1/v1"},
            "anthropic": {
                "kind": "anthropic",
                "base_url": "https://api.anthropic.com",
                "api_key_env": "ANTHROPIC_API_KEY",
            },
        },
        "models": {
            "a": {"provider": "local", "model": "llama3.2"},
            "c": {"provider": "anthropic", "model": "claude-sonnet-4-5"},
        },
        "personas": [
            {"name": "Orca", "model": "a", "color": "#112233"},
            {"name": "Claude", "model": "c", "avatar_url": "https://example.org/c.png"},
        ],
        "presets": {"default": {"members": ["Orca", "Claude"], "chair": "Claude"}},
    }


def _problems(raw: dict, environ: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "council.toml", environ if environ is not None else ALL_KEYS)
    return [str(p) for p in caught.value.problems]


def test_the_shipped_example_is_valid_with_its_keys_set():
    config = load_config(EXAMPLE, ALL_KEYS)
    assert [p.name for p in config.personas[:4]] == ["Claude", "DeepSeek", "Gemini", "Llama"]
    assert config.presets["local"].members == ["Orca", "Heron", "Lynx"]
    local_providers = {config.models[config.persona(n).model].provider for n in ["Orca", "Heron"]}
    assert local_providers == {"local"}


def test_a_valid_config_parses_into_models():
    config = parse_config(_valid(), "council.toml", ALL_KEYS)
    assert config.persona("orca").model == "a"
    assert config.providers_in_use() == {"local", "anthropic"}
    assert config.api_key("anthropic", ALL_KEYS).get_secret_value() == "sk-ant-test"
    assert config.api_key("local", ALL_KEYS) is None


def test_every_problem_is_reported_at_once_with_key_path_and_fix():
    raw = _valid()
    raw["providers"]["local"]["base_url"] = "ftp://nowhere"
    raw["providers"]["local"]["colour"] = "x"
    raw["personas"][0]["color"] = "red"
    raw["personas"][0]["avatar_url"] = "javascript:alert(1)"
    raw["personas"].append({"name": "Discord Bot", "model": "a"})
    raw["personas"].append({"name": "orca", "model": "missing"})
    raw["personas"].append({"name": "x" * 81, "model": "a"})
    raw["presets"]["default"]["members"].append("Nobody")
    raw["presets"]["default"]["chair"] = "Ghost"
    raw["presets"]["default"]["rounds"] = 99
    problems = _problems(raw, {})
    text = "\n".join(problems)
    expected = [
        "providers.local.colour: is not a known key",
        "personas[0].color: 'red' is not a colour",
        "personas[0].avatar_url: 'javascript:alert(1)' is not an http(s) URL",
        "personas[2].name: 'Discord Bot' contains \"discord\"",
        "personas[3].name: 'orca' duplicates personas[0]",
        "personas[3].model: names unknown model 'missing'",
        "personas[4].name: 'xxxx",
        "presets.default.rounds:",
    ]
    for fragment in expected:
        assert fragment in text, fragment
    assert all(p.startswith("council.toml: ") and " — " in p for p in problems)


def test_cross_references_are_checked_once_the_sections_parse():
    raw = _valid()
    raw["providers"]["local"]["base_url"] = "ftp://nowhere"
    raw["presets"]["default"]["members"].append("Nobody")
    raw["presets"]["default"]["chair"] = "Ghost"
    raw["models"]["a"]["provider"] = "nowhere"
    text = "\n".join(_problems(raw))
    assert "providers.local.base_url: 'ftp://nowhere' is not an http(s) URL" in text
    assert "presets.default.members[2]: names unknown persona 'Nobody'" in text
    assert "presets.default.chair: names unknown persona 'Ghost'" in text
    assert "models.a.provider: names unknown provider 'nowhere'" in text


def test_a_provider_in_use_without_its_key_is_reported_with_the_variable_to_set():
    problems = _problems(_valid(), {})
    assert problems == [
        "council.toml: providers.anthropic.api_key_env: the environment variable "
        "ANTHROPIC_API_KEY is not set — set ANTHROPIC_API_KEY in .env or the environment"
    ]


def test_an_unused_provider_needs_no_key():
    raw = _valid()
    raw["personas"] = [raw["personas"][0], {"name": "Heron", "model": "a"}]
    raw["presets"]["default"] = {"members": ["Orca", "Heron"]}
    config = parse_config(raw, "council.toml", {})
    assert config.providers_in_use() == {"local"}


def test_unknown_sections_and_missing_sections_are_reported():
    problems = _problems({"provider": {}, "models": {}})
    text = "\n".join(problems)
    assert "provider: is not a known section" in text
    assert "providers: is missing" in text
    assert "personas: is missing" in text


def test_a_missing_file_says_how_to_create_it(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "council.toml", {})
    assert "copy council.example.toml" in str(caught.value)


def test_broken_toml_is_reported_not_raised(tmp_path):
    path = tmp_path / "council.toml"
    path.write_text("[providers\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, {})


def test_settings_read_the_documented_environment_names(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DISCORD_TOKEN", "sekrit-token-value")
    monkeypatch.setenv("COUNCIL_DB", "x/y.db")
    monkeypatch.setenv("COUNCIL_DEV_GUILD_ID", "")
    monkeypatch.setenv("DISCORD_API_BASE", "http://127.0.0.1:9/api/v10")
    settings = Settings()
    assert settings.discord_token.get_secret_value() == "sekrit-token-value"
    assert settings.council_db == Path("x/y.db")
    assert settings.council_dev_guild_id is None
    assert settings.discord_api_base == "http://127.0.0.1:9/api/v10"
    assert "sekrit" not in repr(settings)


def test_env_example_documents_every_setting():
    text = (EXAMPLE.parent / ".env.example").read_text()
    for name in Settings.model_fields:
        assert f"\n{name.upper()}=" in text, name
