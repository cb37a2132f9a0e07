"""Interaction responses: the initial callback and the followup webhook (`/webhooks/{app}/{token}`).

Rules: one acknowledgement per interaction (40060), within the 3 s deadline (10062), followups
only after it and only while the 15-minute token lives (50027). After a deferred response the
first followup (or an edit of @original) replaces the loading message.
"""

from __future__ import annotations

from typing import Any

from tests.fakediscord import actions, rules
from tests.fakediscord.rules import DiscordError, Kind
from tests.fakediscord.server import Call, Reply, RouteSpec
from tests.fakediscord.state import Interaction, Message, MessageFlag

PONG, MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE, AUTOCOMPLETE, MODAL = 1, 4, 5, 6, 7, 8, 9
APPLICATION_COMMAND, COMPONENT, AUTOCOMPLETE_INTERACTION, MODAL_SUBMIT = 2, 3, 4, 5
AUTOCOMPLETE_CHOICES_MAX = 25
# docs: resources/message, Message Types: a slash command's response, a context menu's.
CHAT_INPUT_COMMAND_MESSAGE, CONTEXT_MENU_COMMAND_MESSAGE = 20, 23
CHAT_INPUT = 1
MODAL_TITLE_MAX = 45


def _body(call: Call) -> dict[str, Any]:
    return call.body if isinstance(call.body, dict) else {}


def _invalid_callback(detail: str) -> DiscordError:
    return DiscordError(
        400,
        50035,
        "Invalid Form Body",
        kind=Kind.COMPONENT_INVALID,
        detail=detail,
        errors={
            "type": {"_errors": [{"code": "INTERACTION_RESPONSE_TYPE_INVALID", "message": detail}]}
        },
    )


def _message_type(interaction: Interaction) -> int:
    """The type of a message answering this interaction."""
    if interaction.type != APPLICATION_COMMAND:
        return 0
    if interaction.data.get("type", CHAT_INPUT) == CHAT_INPUT:
        return CHAT_INPUT_COMMAND_MESSAGE
    return CONTEXT_MENU_COMMAND_MESSAGE


def _response_message(
    call: Call, interaction: Interaction, body: dict[str, Any], *, flags: int
) -> Message:
    fake = call.fake
    channel = actions.channel_or_404(fake, interaction.channel_id)
    message = actions.new_message(
        fake,
        channel,
        fake.bot_user,
        body,
        call.files,
        extra_flags=flags,
        message_type=_message_type(interaction),
    )
    message.webhook_id = fake.application_id
    message.application_id = fake.application_id
    message.interaction_id = interaction.id
    message.interaction_type = interaction.type
    message.interaction_user = fake.world.users[interaction.user_id]
    return message


async def callback(call: Call) -> Reply:
    """POST /interactions/{interaction_id}/{interaction_token}/callback?with_response=1."""
    fake = call.fake
    interaction = fake.world.interactions.get(call.snowflake("interaction_id"))
    if interaction is None or interaction.token != call.request.match_info["interaction_token"]:
        raise rules.unknown("interaction")
    if interaction.response_type is not None:
        raise DiscordError(
            400,
            40060,
            "Interaction has already been acknowledged.",
            kind=Kind.ALREADY_ACKNOWLEDGED,
            detail=f"interaction {interaction.id}",
        )
    late_s = fake.now_s() - interaction.created_at_s
    if late_s > fake.ack_deadline_s:
        raise DiscordError(
            404,
            10062,
            "Unknown interaction",
            kind=Kind.ACK_DEADLINE,
            detail=f"acknowledged after {late_s:.1f}s (limit {fake.ack_deadline_s}s)",
        )
    body = _body(call)
    kind = int(body.get("type", 0))
    raw = body.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    message: Message | None = None
    if kind == MESSAGE:
        rules.check_message(data, has_files=bool(call.files), is_edit=False)
        message = _response_message(call, interaction, data, flags=0)
        actions.store_message(fake, message)
        interaction.original_message_id = message.id
    elif kind == DEFERRED_MESSAGE:
        ephemeral = int(data.get("flags") or 0) & MessageFlag.EPHEMERAL
        message = _response_message(call, interaction, {}, flags=MessageFlag.LOADING | ephemeral)
        actions.store_message(fake, message)
        interaction.original_message_id = message.id
        interaction.loading_pending = True
    elif kind in (DEFERRED_UPDATE, UPDATE):
        if interaction.message_id is None:
            raise _invalid_callback("only component interactions can update their message")
        target = actions.message_or_404(
            fake, actions.channel_or_404(fake, interaction.channel_id), interaction.message_id
        )
        # A component's original response is the message the component is on.
        interaction.original_message_id = target.id
        if kind == UPDATE:
            rules.check_message(data, has_files=bool(call.files), is_edit=True)
            message = actions.edit_message(fake, target, data, call.files)
    elif kind == MODAL:
        if interaction.type == MODAL_SUBMIT:
            raise _invalid_callback("a modal cannot answer a modal submission")
        title, custom_id, rows = data.get("title"), data.get("custom_id"), data.get("components")
        if not (
            isinstance(title, str)
            and 1 <= len(title) <= MODAL_TITLE_MAX
            and isinstance(custom_id, str)
            and 1 <= len(custom_id) <= rules.CUSTOM_ID_MAX
            and isinstance(rows, list)
            and 1 <= len(rows) <= rules.ACTION_ROWS_MAX
        ):
            raise _invalid_callback("modal needs a title (1-45), custom_id (1-100) and 1-5 rows")
        interaction.modal = data
    elif kind == AUTOCOMPLETE:
        if interaction.type != AUTOCOMPLETE_INTERACTION:
            raise _invalid_callback("autocomplete results answer autocomplete interactions only")
        choices = data.get("choices")
        # Discord takes at most 25 suggestions (docs: interactions/receiving-and-responding,
        # Autocomplete).
        if not isinstance(choices, list) or len(choices) > AUTOCOMPLETE_CHOICES_MAX:
            raise _invalid_callback("autocomplete results need a list of at most 25 choices")
        interaction.choices = choices
    else:
        raise _invalid_callback(f"unsupported interaction response type {kind}")
    interaction.response_type = kind
    fake.notify()
    resource: dict[str, Any] = {"type": kind}
    if message is not None:
        resource["message"] = message.to_json()
    return Reply(
        {
            "interaction": {
                "id": str(interaction.id),
                "type": interaction.type,
                "response_message_id": str(message.id) if message is not None else None,
                "response_message_loading": kind == DEFERRED_MESSAGE,
                "response_message_ephemeral": bool(message is not None and message.is_ephemeral),
            },
            "resource": resource,
        }
    )


def _interaction_by_token(call: Call) -> Interaction:
    fake = call.fake
    token = call.request.match_info["webhook_token"]
    interaction = next((i for i in fake.world.interactions.values() if i.token == token), None)
    if interaction is None:
        raise rules.unknown("webhook")
    if fake.now_s() - interaction.created_at_s > fake.token_lifetime_s:
        raise DiscordError(
            401,
            50027,
            "Invalid Webhook Token",
            kind=Kind.TOKEN_EXPIRED,
            detail=f"interaction {interaction.id} token is older than 15 minutes",
        )
    if interaction.response_type is None:
        raise DiscordError(
            404,
            10015,
            "Unknown Webhook",
            kind=Kind.UNKNOWN_WEBHOOK,
            detail="followup before the interaction was acknowledged",
        )
    return interaction


def _finish_loading(
    call: Call, interaction: Interaction, message: Message, body: dict[str, Any]
) -> Message:
    """Turn the deferred placeholder into the real response."""
    interaction.loading_pending = False
    message.flags &= ~MessageFlag.LOADING
    edit = {"content": "", "embeds": [], "components": [], **body}
    return actions.edit_message(call.fake, message, edit, call.files)


async def followup(call: Call) -> dict[str, Any]:
    """POST /webhooks/{application_id}/{interaction_token}: a followup message."""
    interaction = _interaction_by_token(call)
    body = _body(call)
    rules.check_message(body, has_files=bool(call.files), is_edit=False)
    if interaction.loading_pending and interaction.original_message_id is not None:
        original = call.fake.world.messages[interaction.original_message_id]
        return _finish_loading(call, interaction, original, body).to_json()
    flags = int(body.get("flags") or 0) & MessageFlag.EPHEMERAL
    message = _response_message(call, interaction, body, flags=flags)
    actions.store_message(call.fake, message)
    interaction.followup_ids.append(message.id)
    return message.to_json()


def _interaction_message(call: Call, interaction: Interaction) -> Message:
    raw = call.request.match_info["message_id"]
    if raw == "@original":
        message_id = interaction.original_message_id
    else:
        message_id = int(raw) if raw.isdigit() else 0
        if message_id not in (interaction.original_message_id, *interaction.followup_ids):
            message_id = None
    message = call.fake.world.messages.get(message_id or 0)
    if message is None:
        raise rules.unknown("message")
    return message


async def get_message(call: Call) -> dict[str, Any]:
    """GET an interaction's original response or a followup."""
    interaction = _interaction_by_token(call)
    return _interaction_message(call, interaction).to_json()


async def edit_message(call: Call) -> dict[str, Any]:
    """PATCH an interaction's original response (finishing a deferral) or a followup."""
    interaction = _interaction_by_token(call)
    message = _interaction_message(call, interaction)
    body = _body(call)
    rules.check_message(
        body,
        has_files=bool(call.files or message.attachments),
        is_edit=True,
        existing_has_content=bool(message.content or message.embeds),
    )
    if interaction.loading_pending and message.id == interaction.original_message_id:
        return _finish_loading(call, interaction, message, body).to_json()
    return actions.edit_message(call.fake, message, body, call.files).to_json()


async def delete_message(call: Call) -> None:
    """DELETE an interaction's original response or a followup."""
    interaction = _interaction_by_token(call)
    actions.delete_message(call.fake, _interaction_message(call, interaction))


ROUTES = [
    RouteSpec(
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        callback,
        auth="none",
        bucket="interaction",
        major="interaction_token",
    ),
]
