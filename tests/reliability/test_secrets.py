"""Secrets and configuration: keys and the bot token stay out of everything a person can read,
a bad endpoint or model id is refused with the fix, and nothing a guild sets moves an endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import sys
from pathlib import Path

import pytest

import tests.bot_harness
from bot.config import CouncilConfig, load_config, parse_config
from bot.council.models import ReplyStatus
from bot.errors import ConfigError
from bot.providers.registry import build_providers
from tests.council.conftest import make_config
from tests.fakediscord.state import Perm
from tests.fakellm import Fault

LOCAL_KEY = "sk-proj-Lq83nVd0Zt5Wm2Hc7Rk4"
GEMINI_KEY = "AIzaFAKE-gemini-9f3K2mQ7xW1pZ8"
ENV = {"LOCAL_API_KEY": LOCAL_KEY, "GEMINI_API_KEY": GEMINI_KEY}
# How OpenAI echoes a wrong key: its first characters and last few, the middle masked.
MASKED_LOCAL_KEY = f"{LOCAL_KEY[:8]}{'*' * 16}{LOCAL_KEY[-3:]}"
REPO = Path(__file__).resolve().parents[2]


def _keyed_config(llm) -> CouncilConfig:
    """The harness's config with a key for every provider; Gemini on a provider of its own."""
    raw = make_config(llm, max_tokens=2000).model_dump()
    raw["providers"]["local"]["api_key_env"] = "LOCAL_API_KEY"
    raw["providers"]["solo"] = {**raw["providers"]["local"], "api_key_env": "GEMINI_API_KEY"}
    raw["models"]["gemini"]["provider"] = "solo"
    return parse_config(raw, "council.toml", ENV)


async def _restart_with_keys(harness, monkeypatch) -> None:
    # The harness builds providers with an empty environment; these hold the keys.
    monkeypatch.setattr(
        tests.bot_harness,
        "build_providers",
        lambda config, _environ, http: build_providers(config, ENV, http),
    )
    harness.config = _keyed_config(harness.llm)
    await harness.stop()
    await harness.start()


async def _cli(*args: str, env: dict[str, str]) -> str:
    """`council-bot ARGS` as a subprocess (the fakes keep serving meanwhile); stdout + stderr."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "COUNCIL_"))}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=REPO / "tests",  # no .env there: the environment below is all it gets
        env={**base, **env, "NO_COLOR": "1"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=30)
    return out.decode() + err.decode()


def _secrets(harness) -> dict[str, str]:
    return {
        "local key": LOCAL_KEY,
        "gemini key": GEMINI_KEY,
        "masked local key": MASKED_LOCAL_KEY,
        "bot token": harness.fake.token,
        "bot token secret part": harness.fake.token.rsplit(".", 1)[1],
    }


def _leaks(secrets: dict[str, str], places: dict[str, str]) -> list[str]:
    found = [
        f"{what} in {where}"
        for where, text in places.items()
        for what, secret in secrets.items()
        if secret in text
    ]
    # A recognisable part of a key is as bad as the key.
    for where, text in places.items():
        for what, key in (("local key", LOCAL_KEY), ("gemini key", GEMINI_KEY)):
            parts = {key[i : i + 10] for i in range(len(key) - 9)}
            found += [f"part of the {what} in {where}" for part in parts if part in text][:1]
    return found


async def test_keys_and_the_bot_token_appear_nowhere_even_when_providers_echo_them(
    harness, monkeypatch, caplog, tmp_path
):
    caplog.set_level(logging.DEBUG)
    await _restart_with_keys(harness, monkeypatch)
    world, driver, llm = harness.world, harness.driver, harness.llm
    harness.fake.rate_limits.set_limit("webhook", 5, 0.25)
    llm.script("gemini-model", reply="x", fault=Fault.http(401, echo_key=True))
    llm.script(
        "deepseek-model",
        reply="x",
        faults=[
            Fault.http(500, echo_key=True),
            Fault.http(502, message=f"Incorrect API key provided: {MASKED_LOCAL_KEY}."),
        ],
    )
    start = await driver.slash(world.host, world.general, "council start", topic="Keys", rounds=2)
    await start.wait_ack()
    session = await harness.wait_ended()
    [thread] = driver.threads_of(world.general)
    export = await driver.slash(world.host, thread, "council export", format="both")
    [exported] = await export.wait_responses()
    assert sorted(exported.attachments) == [
        f"council-{session.id}.json",
        f"council-{session.id}.md",
    ]
    cli_env = {"COUNCIL_DB": str(harness.db)}
    cli_md = await _cli("export", str(session.id), "--format", "md", env=cli_env)
    cli_json = await _cli(
        "export", str(session.id), "--format", "json", "--with-votes", env=cli_env
    )

    # The faults really struck, with the keys in the error bodies.
    replies = await harness.store.replies(session.id)
    failed = {(r.persona, r.round_number): r for r in replies if r.status is ReplyStatus.FAILED}
    assert {key: r.error_kind for key, r in failed.items()} == {
        ("Gemini", 1): "auth",
        ("Gemini", 2): "auth",
        ("DeepSeek", 1): "overloaded",
        ("DeepSeek", 2): "overloaded",
    }
    assert "[redacted]" in failed[("DeepSeek", 1)].error_message
    assert '"Internal' not in cli_json  # the export is the document, not an error
    assert f'"id": {session.id}' in cli_json
    assert "### DeepSeek" in cli_md

    places = {
        f"request {i} to Discord ({e.method} {e.route})": json.dumps(e.body, default=str)
        for i, e in enumerate(harness.fake.wire)
    }
    for message in harness.fake.world.messages.values():
        places[f"message {message.id}"] = message.content + json.dumps(message.embeds)
        for attachment in message.attachments:
            text = attachment.data.decode("utf-8", errors="replace")
            places[f"{attachment.filename} on message {message.id}"] = text
    places |= {f"reply {r.id}": f"{r.text}\n{r.error_message}" for r in replies}
    places |= {"council-bot export md": cli_md, "council-bot export json": cli_json}
    places["the log"] = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    # An echoed key is not passed on to the other models in their prompts either.
    places |= {f"prompt {i} to {r.model}": json.dumps(r.body) for i, r in enumerate(llm.requests)}
    assert _leaks(_secrets(harness), places) == []

    # Each provider was sent its own key, and only that one.
    for request in llm.requests:
        key = GEMINI_KEY if request.model == "gemini-model" else LOCAL_KEY
        assert request.header("authorization") == f"Bearer {key}"


async def test_council_bot_check_does_not_print_a_key_a_provider_echoes(fake_llm, tmp_path):
    fake_llm.script("echo-401", reply="x", fault=Fault.http(401, echo_key=True))
    fake_llm.script("echo-500", reply="x", fault=Fault.http(500, echo_key=True))
    (tmp_path / "council.toml").write_text(
        f"""
[providers.local]
kind = "openai"
base_url = "{fake_llm.base_url("openai")}"
api_key_env = "LOCAL_API_KEY"
max_retries = 0

[models.a]
provider = "local"
model = "echo-401"

[models.b]
provider = "local"
model = "echo-500"

[[personas]]
name = "Orca"
model = "a"

[[personas]]
name = "Heron"
model = "b"
"""
    )
    output = await _cli("check", env={"COUNCIL_CONFIG": str(tmp_path / "council.toml"), **ENV})
    assert [r.header("authorization") for r in fake_llm.requests] == [f"Bearer {LOCAL_KEY}"] * 2
    assert "0/2 models OK" in output, output
    assert "LOCAL_API_KEY" in output  # it says which key to check ...
    assert LOCAL_KEY not in output  # ... never what it is
    assert LOCAL_KEY[:10] not in output


# --- configuration ---------------------------------------------------------------------------


def _raw() -> dict:
    return {
        "providers": {"local": {"kind": "openai", "base_url": "http://127.0.0.1:1/v1"}},
        "models": {
            "a": {"provider": "local", "model": "llama3.2"},
            "b": {"provider": "local", "model": "qwen2.5:7b-instruct"},
        },
        "personas": [{"name": "Orca", "model": "a"}, {"name": "Heron", "model": "b"}],
    }


def _problems(raw: dict) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw, "council.toml", {})
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "url",
    ["ftp://models.example/v1", "api.openai.com/v1", "file:///etc/passwd", "http://", ""],
)
def test_a_provider_url_that_is_not_http_is_refused_with_the_key_path_and_the_fix(url):
    raw = _raw()
    raw["providers"]["local"]["base_url"] = url
    assert _problems(raw) == [
        f"council.toml: providers.local.base_url: {url!r} is not an http(s) URL — use a URL "
        'such as "https://api.example.com" or "http://127.0.0.1:11434"'
    ]


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("gpt 4o", "'gpt 4o' contains whitespace"),
        (" claude-sonnet-4-5", "' claude-sonnet-4-5' contains whitespace"),
        ("gemini-2.5-pro\n", "'gemini-2.5-pro\\n' contains whitespace"),
        ("llama3.2\t", "'llama3.2\\t' contains whitespace"),
        ("", "is empty"),
    ],
)
def test_a_model_id_that_is_empty_or_has_whitespace_is_refused_with_the_fix(model, problem):
    raw = _raw()
    raw["models"]["a"]["model"] = model
    assert _problems(raw) == [
        f"council.toml: models.a.model: {problem} — write the id exactly as the provider "
        'lists it, e.g. "claude-sonnet-4-5", no spaces'
    ]


def test_model_ids_with_colons_slashes_and_dots_are_accepted():
    raw = _raw()
    raw["models"]["a"]["model"] = "meta-llama/Llama-3.3-70B-Instruct-Turbo"
    config = parse_config(raw, "council.toml", {})
    assert config.models["b"].model == "qwen2.5:7b-instruct"


def test_a_bad_url_and_bad_model_ids_are_reported_together_from_the_file(tmp_path):
    path = tmp_path / "council.toml"
    path.write_text(
        """
[providers.local]
kind = "openai"
base_url = "localhost:11434/v1"

[models.a]
provider = "local"
model = "llama 3.2"

[models.b]
provider = "nowhere"
model = ""

[[personas]]
name = "Orca"
model = "a"

[[personas]]
name = "Heron"
model = "b"
"""
    )
    with pytest.raises(ConfigError) as caught:
        load_config(path, {})
    keys = [p.key for p in caught.value.problems]
    assert keys == [
        "providers.local.base_url",
        "models.b.provider",
        "models.a.model",
        "models.b.model",
    ]
    assert "4 configuration problem(s)" in str(caught.value)


# --- what a guild can change -----------------------------------------------------------------

# Words in an option's name or description that would mean it sets where requests go.
_ENDPOINT_WORDS = re.compile(
    r"url|link|https?|endpoint|address|base|api|key|token|secret|provider|model", re.IGNORECASE
)


def _options(options: list[dict], path: str) -> list[tuple[str, dict]]:
    found = []
    for option in options:
        where = f"{path} {option['name']}"
        if option.get("type") in (1, 2):  # subcommand, subcommand group
            found += _options(option.get("options", []), where)
        else:
            found.append((where, option))
    return found


async def test_no_command_option_takes_a_url_except_a_persona_avatar(harness):
    commands = list(harness.fake.world.commands.values())
    assert {c.name for c in commands} >= {"council", "persona", "council-admin"}
    options = [o for c in commands for o in _options(c.data.get("options", []), c.name)]
    assert len(options) > 20
    # A string without fixed choices is the only kind of option that could carry a URL.
    free_text = [(where, o) for where, o in options if o["type"] == 3 and not o.get("choices")]
    endpointish = {
        where
        for where, option in free_text
        if _ENDPOINT_WORDS.search(f"{option['name']} {option.get('description', '')}")
    }
    assert endpointish == {"persona edit avatar_url"}
    # The one file upload is a question set, read by the strict challenge-set parser as
    # questions and answers only: no upload can carry a config file or a model's endpoint.
    uploads = {where for where, o in options if o["type"] == 11}
    assert uploads == {"council-admin challenge-set upload file"}


async def test_a_persona_edit_changes_the_look_and_style_but_not_where_its_model_is_called(
    harness,
):
    world, driver, llm = harness.world, harness.driver, harness.llm
    admin = driver.create_member(world.guild, "admin", permissions=Perm.MANAGE_GUILD)
    avatar = "https://models.example/v1/chat/completions/gemini.png"
    edit = await driver.slash(
        admin,
        world.general,
        "persona edit",
        name="Gemini",
        avatar_url=avatar,
        style="Answers in exactly one haiku.",
    )
    assert "updated" in (await edit.wait_response()).content
    refused = await driver.slash(
        admin, world.general, "persona edit", name="Gemini", avatar_url="http://127.0.0.1:9/v1"
    )
    assert "must be an https:// link" in (await refused.wait_response()).content

    start = await driver.slash(world.host, world.general, "council start", topic="Tea", rounds=1)
    await start.wait_ack()
    session = await harness.wait_ended()

    [thread] = driver.threads_of(world.general)
    [gemini] = [m for m in driver.read(thread, as_user=world.bob) if m.author_name == "Gemini"]
    assert gemini.author_avatar_url == avatar  # the edit took effect ...
    [request] = llm.requests_for("gemini-model")
    assert "Answers in exactly one haiku." in request.system_text()
    # ... and the call still went to the operator's endpoint, for the operator's model.
    assert request.path == "/v1/chat/completions"
    assert request.body["model"] == harness.config.models["gemini"].model == "gemini-model"
    assert harness.config.providers["local"].base_url == llm.base_url("openai")
    members = {m.persona: m for m in await harness.store.members(session.id)}
    assert (members["Gemini"].model, members["Gemini"].provider) == ("gemini-model", "local")


def test_debug_logging_keeps_discord_webhook_urls_out_of_the_log(monkeypatch):
    from bot.__main__ import configure_logging

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    for name in ("discord.http", "discord.webhook"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    configure_logging("debug")
    assert root.level == logging.DEBUG
    assert logging.getLogger("discord.webhook.async_").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("discord.http").getEffectiveLevel() == logging.INFO
    assert logging.getLogger("bot.council.engine").getEffectiveLevel() == logging.DEBUG
