"""REST routes for channel webhooks: management (bot auth) and execution (webhook token).

Interaction followups share the `/webhooks/{id}/{token}` paths (the id is the application's);
those requests are handed to `routes_interactions`.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from tests.fakediscord import actions, routes_interactions, rules
from tests.fakediscord.rules import DiscordError, FormErrors, Kind
from tests.fakediscord.server import Call, Reply, RouteSpec
from tests.fakediscord.state import CDN, Channel, ChannelType, Message, Perm, User, Webhook

FORUM_NEEDS_THREAD = 220001


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


def _avatar_url(webhook_id: int, data_uri: Any) -> str | None:
    if not isinstance(data_uri, str) or not data_uri:
        return None
    digest = hashlib.md5(data_uri.encode(), usedforsecurity=False).hexdigest()
    return f"{CDN}/avatars/{webhook_id}/{digest}.png"


def _check_name(value: Any, kind: str, path: str = "name") -> None:
    form = FormErrors()
    rules.check_webhook_name(form, value, path=path, kind=kind)
    form.raise_if_any()


def _manageable_channel(call: Call, channel_id: int) -> Channel:
    channel = actions.channel_or_404(call.fake, channel_id)
    actions.require(call.fake, channel, call.fake.bot_user.id, Perm.MANAGE_WEBHOOKS)
    return channel


def _webhook_json(call: Call, webhook: Webhook) -> dict[str, Any]:
    return webhook.to_json(call.fake.world.users.get(webhook.creator_id))


async def list_channel_webhooks(call: Call) -> list[dict[str, Any]]:
    """GET /channels/{channel_id}/webhooks (needs Manage Webhooks)."""
    channel = _manageable_channel(call, call.snowflake("channel_id"))
    hooks = [w for w in call.fake.world.webhooks.values() if w.channel_id == channel.id]
    return [_webhook_json(call, w) for w in hooks]


async def list_guild_webhooks(call: Call) -> list[dict[str, Any]]:
    """GET /guilds/{guild_id}/webhooks (needs Manage Webhooks in the guild)."""
    guild = call.fake.world.guilds.get(call.snowflake("guild_id"))
    if guild is None:
        raise rules.unknown("guild")
    if not call.fake.world.base_permissions(guild, call.fake.bot_user.id) & Perm.MANAGE_WEBHOOKS:
        raise rules.missing_permissions("MANAGE_WEBHOOKS in the guild")
    return [
        _webhook_json(call, w) for w in call.fake.world.webhooks.values() if w.guild_id == guild.id
    ]


async def create_webhook(call: Call) -> dict[str, Any]:
    """POST /channels/{channel_id}/webhooks: name rules, at most 15 per channel, not in threads."""
    channel = _manageable_channel(call, call.snowflake("channel_id"))
    if channel.is_thread:
        raise DiscordError(
            400,
            50024,
            "Cannot execute action on this channel type",
            kind=Kind.WRONG_CHANNEL_TYPE,
            detail="webhooks belong to parent channels",
        )
    body = _body(call)
    _check_name(body.get("name"), Kind.WEBHOOK_NAME_INVALID)
    existing = [w for w in call.fake.world.webhooks.values() if w.channel_id == channel.id]
    if len(existing) >= rules.WEBHOOKS_PER_CHANNEL_MAX:
        raise DiscordError(
            400,
            30007,
            "Maximum number of webhooks reached (15)",
            kind=Kind.TOO_MANY_WEBHOOKS,
            detail=f"#{channel.name}",
        )
    webhook = actions.create_webhook(
        call.fake,
        channel,
        body["name"],
        creator=call.fake.bot_user,
        application_id=call.fake.application_id,
    )
    webhook.avatar_url = _avatar_url(webhook.id, body.get("avatar"))
    return _webhook_json(call, webhook)


def _webhook(call: Call) -> Webhook:
    webhook = call.fake.world.webhooks.get(call.snowflake("webhook_id"))
    if webhook is None:
        raise rules.unknown("webhook")
    return webhook


def _webhook_by_token(call: Call) -> Webhook:
    webhook = _webhook(call)
    if not secrets.compare_digest(webhook.token, call.request.match_info["webhook_token"]):
        raise DiscordError(
            401,
            50027,
            "Invalid Webhook Token",
            kind=Kind.UNKNOWN_WEBHOOK,
            detail=f"wrong token for webhook {webhook.id}",
        )
    return webhook


def _is_interaction(call: Call) -> bool:
    return call.snowflake("webhook_id") == call.fake.application_id


async def get_webhook(call: Call) -> dict[str, Any]:
    """GET /webhooks/{webhook_id}."""
    webhook = _webhook(call)
    _manageable_channel(call, webhook.channel_id)
    return _webhook_json(call, webhook)


def _apply_edit(call: Call, webhook: Webhook) -> dict[str, Any]:
    body = _body(call)
    if "name" in body:
        _check_name(body["name"], Kind.WEBHOOK_NAME_INVALID)
        webhook.name = body["name"]
    if "avatar" in body:
        webhook.avatar_url = _avatar_url(webhook.id, body["avatar"])
    if body.get("channel_id"):
        old = actions.channel_or_404(call.fake, webhook.channel_id)
        webhook.channel_id = _manageable_channel(call, int(body["channel_id"])).id
        actions.webhooks_updated(call.fake, old)
    actions.webhooks_updated(call.fake, call.fake.world.channels[webhook.channel_id])
    return _webhook_json(call, webhook)


async def edit_webhook(call: Call) -> dict[str, Any]:
    """PATCH /webhooks/{webhook_id} (bot auth)."""
    webhook = _webhook(call)
    _manageable_channel(call, webhook.channel_id)
    return _apply_edit(call, webhook)


async def delete_webhook(call: Call) -> None:
    """DELETE /webhooks/{webhook_id} (bot auth)."""
    webhook = _webhook(call)
    channel = _manageable_channel(call, webhook.channel_id)
    del call.fake.world.webhooks[webhook.id]
    actions.webhooks_updated(call.fake, channel)


async def get_webhook_with_token(call: Call) -> dict[str, Any]:
    """GET /webhooks/{webhook_id}/{webhook_token}."""
    webhook = _webhook_by_token(call)
    return webhook.to_json(None, with_token=True)


async def edit_webhook_with_token(call: Call) -> dict[str, Any]:
    """PATCH /webhooks/{webhook_id}/{webhook_token} (cannot move channels)."""
    webhook = _webhook_by_token(call)
    _body(call).pop("channel_id", None)
    return _apply_edit(call, webhook)


async def delete_webhook_with_token(call: Call) -> None:
    """DELETE /webhooks/{webhook_id}/{webhook_token}."""
    webhook = _webhook_by_token(call)
    del call.fake.world.webhooks[webhook.id]
    actions.webhooks_updated(call.fake, call.fake.world.channels[webhook.channel_id])


def webhook_author(webhook: Webhook) -> User:
    """The user object Discord shows for a webhook's messages."""
    return User(id=webhook.id, username=webhook.name, avatar_url=webhook.avatar_url, bot=True)


def _target_channel(call: Call, webhook: Webhook, body: dict[str, Any]) -> tuple[Channel, bool]:
    """Where an execution posts: the webhook's channel, a thread in it, or a new forum post."""
    parent = actions.channel_or_404(call.fake, webhook.channel_id)
    thread_id = call.request.query.get("thread_id")
    if thread_id:
        thread = actions.channel_or_404(call.fake, int(thread_id) if thread_id.isdigit() else 0)
        if thread.parent_id != parent.id:
            raise DiscordError(
                400,
                10003,
                "Unknown Channel",
                kind=Kind.UNKNOWN_CHANNEL,
                detail="thread_id is not a thread of the webhook's channel",
            )
        return thread, False
    if parent.type == ChannelType.FORUM:
        if not body.get("thread_name"):
            raise DiscordError(
                400,
                FORUM_NEEDS_THREAD,
                "Webhooks posted to forum channels must have a thread_name or thread_id",
                kind=Kind.WRONG_CHANNEL_TYPE,
                detail=f"#{parent.name}",
            )
        return parent, True
    return parent, False


async def execute(call: Call) -> Reply | dict[str, Any] | None:
    """POST /webhooks/{webhook_id}/{webhook_token}: post as the webhook (or followup)."""
    if _is_interaction(call):
        return await routes_interactions.followup(call)
    webhook = _webhook_by_token(call)
    body = _body(call)
    if body.get("username") is not None:
        _check_name(body["username"], Kind.WEBHOOK_USERNAME_INVALID, "username")
    rules.check_message(body, has_files=bool(call.files), is_edit=False)
    interactive = [
        c for c in rules.walk_components(body.get("components") or []) if rules.is_interactive(c)
    ]
    if interactive and webhook.application_id != call.fake.application_id:
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            kind=Kind.COMPONENTS_ON_FOREIGN_WEBHOOK,
            detail="interactive components need a webhook owned by the application",
            errors={
                "components": {
                    "_errors": [
                        {
                            "code": "COMPONENT_INVALID_TYPE",
                            "message": "Interactive components need an application-owned webhook",
                        }
                    ]
                }
            },
        )
    target, new_post = _target_channel(call, webhook, body)
    if new_post:
        rules.check_thread_name(body["thread_name"])
        target = actions.create_thread(
            call.fake, target, body["thread_name"], owner=webhook_author(webhook)
        )
    message = actions.new_message(
        call.fake, target, webhook_author(webhook), body, call.files, webhook=webhook
    )
    if new_post:
        message.id = target.id
    actions.store_message(call.fake, message)
    if call.query_flag("wait"):
        return message.to_json()
    return None


def _webhook_message(call: Call, webhook: Webhook) -> Message:
    channel_id = int(call.request.query.get("thread_id") or webhook.channel_id)
    raw = call.request.match_info["message_id"]
    message = call.fake.world.messages.get(int(raw) if raw.isdigit() else 0)
    if message is None or message.webhook_id != webhook.id or message.channel_id != channel_id:
        raise rules.unknown("message")
    return message


async def get_webhook_message(call: Call) -> dict[str, Any]:
    """GET /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}."""
    if _is_interaction(call):
        return await routes_interactions.get_message(call)
    return _webhook_message(call, _webhook_by_token(call)).to_json()


async def edit_webhook_message(call: Call) -> dict[str, Any]:
    """PATCH /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}."""
    if _is_interaction(call):
        return await routes_interactions.edit_message(call)
    webhook = _webhook_by_token(call)
    message = _webhook_message(call, webhook)
    body = _body(call)
    rules.check_message(body, has_files=bool(call.files or message.attachments), is_edit=True)
    interactive = [
        c for c in rules.walk_components(body.get("components") or []) if rules.is_interactive(c)
    ]
    if interactive and webhook.application_id != call.fake.application_id:
        raise DiscordError(
            400,
            50035,
            "Invalid Form Body",
            kind=Kind.COMPONENTS_ON_FOREIGN_WEBHOOK,
            detail="interactive components need a webhook owned by the application",
        )
    return actions.edit_message(call.fake, message, body, call.files).to_json()


async def delete_webhook_message(call: Call) -> None:
    """DELETE /webhooks/{webhook_id}/{webhook_token}/messages/{message_id}."""
    if _is_interaction(call):
        await routes_interactions.delete_message(call)
        return
    webhook = _webhook_by_token(call)
    actions.delete_message(call.fake, _webhook_message(call, webhook))


HOOK = "/webhooks/{webhook_id}"
TOKEN = HOOK + "/{webhook_token}"
HOOK_MSG = TOKEN + "/messages/{message_id}"

ROUTES = [
    RouteSpec(
        "GET",
        "/channels/{channel_id}/webhooks",
        list_channel_webhooks,
        bucket="webhook_admin",
        major="channel_id",
    ),
    RouteSpec(
        "POST",
        "/channels/{channel_id}/webhooks",
        create_webhook,
        bucket="webhook_admin",
        major="channel_id",
    ),
    RouteSpec(
        "GET",
        "/guilds/{guild_id}/webhooks",
        list_guild_webhooks,
        bucket="webhook_admin",
        major="guild_id",
    ),
    RouteSpec("GET", HOOK, get_webhook, bucket="webhook_admin", major="webhook_id"),
    RouteSpec("PATCH", HOOK, edit_webhook, bucket="webhook_admin", major="webhook_id"),
    RouteSpec("DELETE", HOOK, delete_webhook, bucket="webhook_admin", major="webhook_id"),
    RouteSpec(
        "GET", TOKEN, get_webhook_with_token, auth="none", bucket="webhook", major="webhook_token"
    ),
    RouteSpec(
        "PATCH",
        TOKEN,
        edit_webhook_with_token,
        auth="none",
        bucket="webhook",
        major="webhook_token",
    ),
    RouteSpec(
        "DELETE",
        TOKEN,
        delete_webhook_with_token,
        auth="none",
        bucket="webhook",
        major="webhook_token",
    ),
    RouteSpec("POST", TOKEN, execute, auth="none", bucket="webhook", major="webhook_token"),
    RouteSpec(
        "GET", HOOK_MSG, get_webhook_message, auth="none", bucket="webhook", major="webhook_token"
    ),
    RouteSpec(
        "PATCH",
        HOOK_MSG,
        edit_webhook_message,
        auth="none",
        bucket="webhook",
        major="webhook_token",
    ),
    RouteSpec(
        "DELETE",
        HOOK_MSG,
        delete_webhook_message,
        auth="none",
        bucket="webhook",
        major="webhook_token",
    ),
]
