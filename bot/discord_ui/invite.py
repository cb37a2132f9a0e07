"""The invite link: the scopes and the exact permissions Council needs, nothing more."""

from __future__ import annotations

import base64
import binascii

import discord

# Each one is used: seeing and reading the channel, the opening message, the thread, persona
# webhooks, posting in threads, embeds for summaries and fallbacks, transcripts and charts.
REQUIRED = discord.Permissions(
    view_channel=True,
    read_message_history=True,
    send_messages=True,
    create_public_threads=True,
    send_messages_in_threads=True,
    manage_webhooks=True,
    embed_links=True,
    attach_files=True,
)
SCOPES = ("bot", "applications.commands")


def invite_url(client_id: int) -> str:
    """The OAuth2 URL that adds the bot with its commands and the permissions it needs."""
    return discord.utils.oauth_url(client_id, permissions=REQUIRED, scopes=SCOPES)


def client_id_from_token(token: str) -> int | None:
    """The application id encoded in a bot token's first part, if it holds one."""
    head = token.split(".", 1)[0]
    try:
        decoded = base64.b64decode(head + "=" * (-len(head) % 4), validate=False).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    return int(decoded) if decoded.isdigit() else None
