"""The operator's config: every problem reported at once, with file, key path and fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_config, parse_config
from bot.council.spec import build_spec
from bot.errors import ConfigError, UnseatedError

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


def test_a_persona_whose_key_is_not_set_is_unseated_with_the_variable_to_set_not_refused():
    config = parse_config(_valid(), "council.toml", {})
    assert list(config.unseated) == ["Claude"]
    problem = config.seat_problem("claude")
    assert problem.operator_line() == (
        "Persona Claude can't be seated: ANTHROPIC_API_KEY is not set — set ANTHROPIC_API_KEY "
        "in .env or the environment."
    )
    assert config.seat_problem("Orca") is None
    # Still configured: only this process lacks the key.
    assert config.persona("Claude") is not None


def test_the_example_starts_with_no_cloud_key_and_seats_its_local_personas():
    config = load_config(EXAMPLE, {})
    assert set(config.unseated) == {"Claude", "DeepSeek", "Gemini", "Llama"}
    assert config.unseated["Gemini"].reason == "GEMINI_API_KEY is not set"
    spec = build_spec(config, "Trains or cars?", preset="local")
    assert [seat.name for seat in spec.members] == ["Orca", "Heron", "Lynx"]
    with pytest.raises(UnseatedError) as caught:
        build_spec(config, "Trains or cars?")
    assert [p.persona for p in caught.value.problems] == ["Claude", "DeepSeek", "Gemini", "Llama"]
    assert caught.value.message.splitlines()[0] == (
        "Persona Claude can't be seated: ANTHROPIC_API_KEY is not set. The bot's operator must "
        "set ANTHROPIC_API_KEY in .env or the environment and restart the bot."
    )


def test_a_keyless_chair_or_summariser_is_refused_like_a_member():
    raw = _valid()
    raw["personas"].append({"name": "Heron", "model": "a"})
    raw["presets"]["default"] = {"members": ["Orca", "Heron"], "chair": "Claude"}
    config = parse_config(raw, "council.toml", {})
    with pytest.raises(UnseatedError, match="Persona Claude can't be seated"):
        build_spec(config, "Tea?")
    raw["presets"]["default"] = {"members": ["Orca", "Heron"], "summariser": "Claude"}
    config = parse_config(raw, "council.toml", {})
    with pytest.raises(UnseatedError, match="Persona Claude can't be seated"):
        build_spec(config, "Tea?")


def _six_mistakes() -> dict:
    raw = _valid()
    raw["providers"]["groq"] = {"kind": "openai", "api_key_env": "GROQ_API_KEY"}  # no base_url
    raw["models"]["c"]["temperature"] = 5
    raw["models"]["g"] = {"provider": "groq", "model": "llama-3.3-70b-versatile"}
    raw["personas"] += [
        {"name": "Claudette", "model": "c"},
        {"name": "Llama", "model": "g"},
        {"name": "Heron", "model": "a", "colour": "#112233"},
        {"name": "Lynx", "model": "gpt"},
    ]
    raw["presets"]["default"] = {"members": ["Orca", "Claude", "Claudette", "Llama", "Heron"]}
    raw["presets"]["wide"] = {"members": ["Orca", "Lynx"], "rounds": 99}
    raw["extras"] = {}
    return raw


def test_each_mistake_is_reported_once_at_its_own_key():
    # A broken provider, model or persona is still known by name: nothing that names it is
    # reported again as "unknown".
    with pytest.raises(ConfigError) as caught:
        parse_config(_six_mistakes(), "council.toml", ALL_KEYS)
    assert [p.key for p in caught.value.problems] == [
        "extras",
        "providers.groq.base_url",
        "models.c.temperature",
        "presets.wide.rounds",
        "personas[4].colour",
        "personas[5].model",
    ]
    assert str(caught.value).startswith("6 configuration problem(s):")
    text = str(caught.value)
    assert "groq.base_url: is required — add it" in text
    assert "personas[5].model: names unknown model 'gpt' — use one of: a, c, g" in text


def test_a_section_that_is_not_a_table_is_one_problem_not_one_per_reference():
    raw = _valid()
    raw["providers"] = ["local"]
    raw["personas"] = {"name": "Orca"}
    problems = _problems(raw)
    assert problems == [
        "council.toml: providers: must be a table — write it as [providers.NAME]",
        "council.toml: personas: must be an array — write each as [[personas]]",
    ]


def test_leniently_a_broken_model_or_persona_unseats_only_the_personas_it_touches():
    raw = _six_mistakes()
    del raw["extras"]
    del raw["presets"]["wide"]
    config = parse_config(raw, "council.toml", ALL_KEYS, is_lenient=True)
    assert [p.name for p in config.personas] == ["Orca"]
    assert list(config.unseated) == ["Claude", "Claudette", "Llama", "Heron", "Lynx"]
    assert set(config.models) == {"a"}
    assert set(config.providers) == {"local", "anthropic"}
    assert config.unseated["Claude"].operator_line() == (
        "Persona Claude can't be seated: council.toml: models.c.temperature: Input should be "
        "less than or equal to 2 (got 5) — correct the value."
    )
    assert config.unseated["Llama"].detail.startswith("council.toml: providers.groq.base_url")
    # What a host is told names the key path, never the value or a URL.
    assert config.unseated["Claude"].refusal() == (
        "Persona Claude can't be seated: council.toml has a mistake at models.c.temperature. "
        "The bot's operator must correct it (`council-bot check` lists every mistake) and "
        "restart the bot."
    )
    with pytest.raises(UnseatedError) as caught:
        build_spec(config, "Tea?")
    assert [p.persona for p in caught.value.problems] == ["Claude", "Claudette", "Llama", "Heron"]


def test_leniently_a_mistake_in_the_file_as_a_whole_still_fails_it_with_every_problem():
    with pytest.raises(ConfigError) as caught:
        parse_config(_six_mistakes(), "council.toml", ALL_KEYS, is_lenient=True)
    assert len(caught.value.problems) == 6


def test_svg_and_plain_http_avatars_are_warnings_not_errors():
    raw = _valid()
    raw["personas"][0]["avatar_url"] = "https://upload.example.org/logo.SVG?width=128"
    raw["personas"][1]["avatar_url"] = "http://example.org/claude.png"
    config = parse_config(raw, "council.toml", ALL_KEYS)
    assert [str(w) for w in config.warnings] == [
        "council.toml: personas[0].avatar_url: is an SVG image, which Discord does not show as "
        "an avatar — use a PNG, JPEG, WebP or GIF image URL",
        "council.toml: personas[1].avatar_url: is not an https:// URL, so Discord may not show "
        "it — use an https:// image URL",
    ]


def test_the_example_avatars_are_images_discord_shows():
    config = load_config(EXAMPLE, ALL_KEYS)
    assert config.warnings == []
    for persona in config.personas:
        if persona.avatar_url is not None:
            assert persona.avatar_url.startswith("https://")
            assert persona.avatar_url.rsplit(".", 1)[-1].casefold() in ("png", "jpg", "webp", "gif")


def test_the_example_local_preset_names_the_ollama_pull_for_each_of_its_models():
    config = load_config(EXAMPLE, {})
    text = EXAMPLE.read_text()
    for name in config.presets["local"].members:
        model = config.models[config.persona(name).model].model
        assert f"ollama pull {model}" in text


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
