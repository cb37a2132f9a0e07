"""REST routes for login, the gateway URL, guild reads and application command sync."""

from __future__ import annotations

from typing import Any

from tests.fakediscord import rules
from tests.fakediscord.payloads import guild_json
from tests.fakediscord.rules import DiscordError, Kind
from tests.fakediscord.server import Call, RouteSpec
from tests.fakediscord.state import Command, Guild, kept_by_discord


async def get_me(call: Call) -> dict[str, Any]:
    """GET /users/@me: the bot user (first call of discord.py's login)."""
    user = call.fake.bot_user.to_json()
    user.update(verified=True, mfa_enabled=False, locale="en-US", email=None, flags=0)
    return user


def _application(call: Call) -> dict[str, Any]:
    fake = call.fake
    return {
        "id": str(fake.application_id),
        "name": fake.bot_user.username,
        "icon": None,
        "description": "",
        "summary": "",
        "type": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": fake.owner.to_json(),
        "team": None,
        "verify_key": "0" * 64,
        "flags": 0,
        "interactions_endpoint_url": None,
        "role_connections_verification_url": None,
        "tags": [],
        "install_params": None,
        "integration_types_config": {},
        "approximate_guild_count": len(list(fake.guilds_of(fake.bot_user.id))),
        "bot": fake.bot_user.to_json(),
    }


async def get_application(call: Call) -> dict[str, Any]:
    """GET /oauth2/applications/@me (second call of discord.py's login)."""
    return _application(call)


async def get_gateway(call: Call) -> dict[str, Any]:
    """GET /gateway."""
    return {"url": call.fake.gateway_url}


async def get_gateway_bot(call: Call) -> dict[str, Any]:
    """GET /gateway/bot (only sharded clients ask): the URL, the recommended shard count and
    the session start limit (https://discord.com/developers/docs/events/gateway#get-gateway-bot).
    """
    fake = call.fake
    return {
        "url": fake.gateway_url,
        "shards": fake.recommended_shards,
        "session_start_limit": {
            "total": 1000,
            "remaining": 1000 - fake.gateway.identify_count,
            "reset_after": 86_400_000,
            "max_concurrency": fake.max_concurrency,
        },
    }


def _guild(call: Call) -> Guild:
    guild = call.fake.world.guilds.get(call.snowflake("guild_id"))
    if guild is None or call.fake.bot_user.id not in guild.members:
        raise rules.unknown("guild")
    return guild


async def get_guild(call: Call) -> dict[str, Any]:
    """GET /guilds/{guild_id}."""
    return guild_json(_guild(call))


async def get_guild_channels(call: Call) -> list[dict[str, Any]]:
    """GET /guilds/{guild_id}/channels (threads are not listed, as on Discord)."""
    guild = _guild(call)
    world = call.fake.world
    return [
        world.channels[c].to_json()
        for c in guild.channel_ids
        if c in world.channels and not world.channels[c].is_thread
    ]


async def get_guild_member(call: Call) -> dict[str, Any]:
    """GET /guilds/{guild_id}/members/{user_id}."""
    member = _guild(call).members.get(call.snowflake("user_id"))
    if member is None:
        raise DiscordError(404, 10007, "Unknown Member", kind=None)
    return member.to_json()


def _scope(call: Call) -> int | None:
    if call.snowflake("application_id") != call.fake.application_id:
        raise DiscordError(
            403,
            50001,
            "Missing Access",
            kind=Kind.MISSING_ACCESS,
            detail="another application's commands",
        )
    if "guild_id" in call.request.match_info:
        return _guild(call).id
    return None


def _commands_in(call: Call, guild_id: int | None) -> list[Command]:
    return [c for c in call.fake.world.commands.values() if c.guild_id == guild_id]


async def get_commands(call: Call) -> list[dict[str, Any]]:
    """GET the application's global or guild commands: the localization dictionaries with
    ``?with_localizations=true``, else only the texts for the requester's locale (docs:
    application-commands, Get Global Application Commands)."""
    commands = _commands_in(call, _scope(call))
    if call.query_flag("with_localizations"):
        return [c.to_json() for c in commands]
    locale = call.request.headers.get("X-Discord-Locale") or call.fake.bot_user.locale
    return [c.to_json(locale=locale) for c in commands]


async def put_commands(call: Call) -> list[dict[str, Any]]:
    """PUT (bulk overwrite) commands, validated as Discord does; ids survive for kept names."""
    guild_id = _scope(call)
    body = call.body if isinstance(call.body, list) else []
    rules.check_commands(body)
    world = call.fake.world
    previous = {(c.name, c.type): c for c in _commands_in(call, guild_id)}
    for command in previous.values():
        del world.commands[command.id]
    synced = []
    for data in body:
        key = (data["name"], int(data.get("type", 1)))
        old = previous.get(key)
        command_id = old.id if old is not None else world.snowflakes.next()
        command = Command(command_id, call.fake.application_id, guild_id, kept_by_discord(data))
        world.commands[command_id] = command
        synced.append(command.to_json())
    call.fake.notify()
    return synced


async def post_command(call: Call) -> dict[str, Any]:
    """POST one command (create or replace by name)."""
    guild_id = _scope(call)
    data = call.body if isinstance(call.body, dict) else {}
    rules.check_commands([data])
    world = call.fake.world
    for existing in _commands_in(call, guild_id):
        if existing.name == data["name"] and existing.type == int(data.get("type", 1)):
            existing.data = kept_by_discord(data)
            return existing.to_json()
    command = Command(
        world.snowflakes.next(), call.fake.application_id, guild_id, kept_by_discord(data)
    )
    world.commands[command.id] = command
    call.fake.notify()
    return command.to_json()


async def delete_command(call: Call) -> None:
    """DELETE one command."""
    guild_id = _scope(call)
    command = call.fake.world.commands.get(call.snowflake("command_id"))
    if command is None or command.guild_id != guild_id:
        raise rules.unknown("application command")
    del call.fake.world.commands[command.id]
    call.fake.notify()


GLOBAL = "/applications/{application_id}/commands"
GUILD = "/applications/{application_id}/guilds/{guild_id}/commands"

ROUTES = [
    RouteSpec("GET", "/users/@me", get_me),
    RouteSpec("GET", "/oauth2/applications/@me", get_application),
    RouteSpec("GET", "/applications/@me", get_application),
    RouteSpec("GET", "/gateway", get_gateway, auth="none"),
    RouteSpec("GET", "/gateway/bot", get_gateway_bot),
    RouteSpec("GET", "/guilds/{guild_id}", get_guild, major="guild_id"),
    RouteSpec("GET", "/guilds/{guild_id}/channels", get_guild_channels, major="guild_id"),
    RouteSpec("GET", "/guilds/{guild_id}/members/{user_id}", get_guild_member, major="guild_id"),
    RouteSpec("GET", GLOBAL, get_commands, bucket="commands"),
    RouteSpec("PUT", GLOBAL, put_commands, bucket="commands"),
    RouteSpec("POST", GLOBAL, post_command, bucket="commands"),
    RouteSpec("DELETE", GLOBAL + "/{command_id}", delete_command, bucket="commands"),
    RouteSpec("GET", GUILD, get_commands, bucket="commands", major="guild_id"),
    RouteSpec("PUT", GUILD, put_commands, bucket="commands", major="guild_id"),
    RouteSpec("POST", GUILD, post_command, bucket="commands", major="guild_id"),
    RouteSpec(
        "DELETE", GUILD + "/{command_id}", delete_command, bucket="commands", major="guild_id"
    ),
]
