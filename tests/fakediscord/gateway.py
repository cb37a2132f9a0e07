"""The fake gateway: HELLO, heartbeats, IDENTIFY → READY + GUILD_CREATE, RESUME, and faults.

Sessions outlive connections: every dispatch gets the session's next sequence number and is kept,
so a client that RESUMEs after a drop receives what it missed. Messages are zlib-stream
compressed (one stream per connection, each message ending in a Z_SYNC_FLUSH) when the client
asks for `compress=zlib-stream`, and sent as text frames otherwise.

Sharding as Discord does it (https://discord.com/developers/docs/events/gateway#sharding): a
session identified with ``shard: [shard_id, num_shards]`` receives only the events of guilds
with ``(guild_id >> 22) % num_shards == shard_id``, and events without a guild (DMs) go to
shard 0 alone. A shard outside its count is closed with 4010 (Invalid shard); a session that
would handle more than `FakeDiscord.max_guilds_per_session` guilds with 4011 (Sharding
required), as the close codes table says:
https://discord.com/developers/docs/topics/opcodes-and-status-codes#gateway-gateway-close-event-codes
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from tests.fakediscord.payloads import guild_create
from tests.fakediscord.rules import Kind

if TYPE_CHECKING:
    from tests.fakediscord.server import FakeDiscord

log = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_MS = 41_250
# Intent bits that gate the events the fake sends.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_WEBHOOKS = 1 << 5
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_MESSAGE_CONTENT = 1 << 15
EVENT_INTENTS = {
    "GUILD_CREATE": INTENT_GUILDS,
    "GUILD_UPDATE": INTENT_GUILDS,
    "GUILD_ROLE_CREATE": INTENT_GUILDS,
    "GUILD_ROLE_UPDATE": INTENT_GUILDS,
    "CHANNEL_CREATE": INTENT_GUILDS,
    "CHANNEL_UPDATE": INTENT_GUILDS,
    "CHANNEL_DELETE": INTENT_GUILDS,
    "THREAD_CREATE": INTENT_GUILDS,
    "THREAD_UPDATE": INTENT_GUILDS,
    "THREAD_DELETE": INTENT_GUILDS,
    "GUILD_MEMBER_ADD": INTENT_GUILD_MEMBERS,
    "GUILD_MEMBER_UPDATE": INTENT_GUILD_MEMBERS,
    "WEBHOOKS_UPDATE": INTENT_GUILD_WEBHOOKS,
    "MESSAGE_CREATE": INTENT_GUILD_MESSAGES,
    "MESSAGE_UPDATE": INTENT_GUILD_MESSAGES,
    "MESSAGE_DELETE": INTENT_GUILD_MESSAGES,
}
# Events whose guild is the payload's own id rather than a `guild_id` field.
GUILD_IS_PAYLOAD = frozenset({"GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE"})
CLOSE_INVALID_SHARD = 4010
CLOSE_SHARDING_REQUIRED = 4011


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that receives a guild's events (Discord's formula)."""
    return (guild_id >> 22) % shard_count


def guild_of(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to, or None (a DM, or an event about no guild)."""
    raw = data.get("id") if event in GUILD_IS_PAYLOAD else data.get("guild_id")
    return int(raw) if raw is not None else None


def parse_shard(raw: object) -> tuple[int, int] | None:
    """IDENTIFY's ``shard`` as (shard_id, num_shards), or None if it is not a valid pair."""
    if not isinstance(raw, list) or len(raw) != 2:
        return None
    shard_id, count = raw
    if not isinstance(shard_id, int) or not isinstance(count, int):
        return None
    if count < 1 or not 0 <= shard_id < count:
        return None
    return shard_id, count


@dataclass
class Connection:
    """One websocket connection and its outgoing queue (a writer task keeps order)."""

    ws: web.WebSocketResponse
    compressor: Any
    request: web.Request
    queue: asyncio.Queue[dict[str, Any] | None] = field(default_factory=asyncio.Queue)
    session: Session | None = None

    def send(self, payload: dict[str, Any]) -> None:
        """Queue a payload for sending."""
        self.queue.put_nowait(payload)

    async def write_loop(self) -> None:
        """Send queued payloads until a None sentinel or the socket closes."""
        while (payload := await self.queue.get()) is not None:
            if self.ws.closed:
                return
            data = json.dumps(payload)
            try:
                if self.compressor is not None:
                    chunk = self.compressor.compress(data.encode()) + self.compressor.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(chunk)
                else:
                    await self.ws.send_str(data)
            except (ConnectionError, RuntimeError):
                return


@dataclass
class Session:
    """A gateway session: sequence numbers and the dispatch history a RESUME replays."""

    session_id: str
    intents: int
    # (shard_id, num_shards) from IDENTIFY; None for an unsharded session (every event).
    shard: tuple[int, int] | None = None
    seq: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)
    connection: Connection | None = None

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Number an event, keep it, and send it if connected."""
        self.seq += 1
        payload = {"op": 0, "t": event, "s": self.seq, "d": data}
        self.history.append(payload)
        if self.connection is not None:
            self.connection.send(payload)

    def receives(self, guild_id: int | None) -> bool:
        """Whether this session is sent the events of `guild_id` (None: events of no guild)."""
        if self.shard is None:
            return True
        shard_id, count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, count) == shard_id


@dataclass
class GatewayEntry:
    """An opcode the fake received or a lifecycle event, for tests to inspect."""

    direction: str
    op: int
    event: str = ""


class Gateway:
    """All gateway connections and sessions of one fake Discord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[str, Session] = {}
        self.connections: list[Connection] = []
        self.log: list[GatewayEntry] = []
        self.identify_count = 0
        self.resume_count = 0
        self.heartbeat_count = 0

    # -- counters tests wait on ---------------------------------------------------------------

    def _note(self, direction: str, op: int, event: str = "") -> None:
        self.log.append(GatewayEntry(direction, op, event))
        self.fake.notify()

    @property
    def is_connected(self) -> bool:
        """Whether some client holds an identified or resumed session."""
        return any(c.session is not None and not c.ws.closed for c in self.connections)

    # -- dispatch ------------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send an event to every session whose intents ask for it and whose shard it is."""
        guild_id = guild_of(event, data)
        for session in self.sessions.values():
            if not session.receives(guild_id):
                continue
            needed = EVENT_INTENTS.get(event, 0)
            if needed and not session.intents & needed:
                continue
            payload = data
            if (
                event in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
                and not session.intents & INTENT_MESSAGE_CONTENT
            ):
                # Without the privileged intent Discord blanks content unless the bot is mentioned.
                mentioned = any(
                    u.get("id") == str(self.fake.bot_user.id) for u in data.get("mentions", [])
                )
                if not mentioned and data.get("author", {}).get("id") != str(self.fake.bot_user.id):
                    payload = {
                        **data,
                        "content": "",
                        "embeds": [],
                        "attachments": [],
                        "components": [],
                    }
            session.dispatch(event, payload)

    def dispatched(self, event: str) -> list[dict[str, Any]]:
        """Payloads (`d`) of every `event` dispatch so far, across sessions."""
        return [p["d"] for s in self.sessions.values() for p in s.history if p["t"] == event]

    # -- faults --------------------------------------------------------------------------------

    async def drop(self) -> None:
        """Cut every connection without a close frame, as a network failure would."""
        for conn in list(self.connections):
            transport = conn.request.transport
            if transport is not None:
                transport.abort()
            conn.queue.put_nowait(None)
        self._note("fault", -1, "drop")

    def send_reconnect(self) -> None:
        """Ask connected clients to reconnect and resume (op 7)."""
        for conn in self.connections:
            conn.send({"op": 7, "d": None})
        self._note("sent", 7)

    def invalidate_session(self, *, resumable: bool = False) -> None:
        """Send op 9; when not resumable the session is forgotten and the client must IDENTIFY."""
        for conn in self.connections:
            if conn.session is not None and not resumable:
                self.sessions.pop(conn.session.session_id, None)
            conn.send({"op": 9, "d": resumable})
        self._note("sent", 9)

    async def close_all(self) -> None:
        """Close every connection (the fake is stopping)."""
        for conn in list(self.connections):
            conn.queue.put_nowait(None)
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.close(code=1001)

    # -- connection handling -------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        """Serve one websocket connection."""
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        compressor = zlib.compressobj() if request.query.get("compress") == "zlib-stream" else None
        conn = Connection(ws=ws, compressor=compressor, request=request)
        self.connections.append(conn)
        writer = asyncio.create_task(conn.write_loop())
        conn.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                await self._receive(conn, json.loads(msg.data))
        finally:
            if conn.session is not None and conn.session.connection is conn:
                conn.session.connection = None
            self.connections.remove(conn)
            conn.queue.put_nowait(None)
            await writer
            self._note("closed", -1, f"close {ws.close_code}")
        return ws

    async def _receive(self, conn: Connection, payload: dict[str, Any]) -> None:
        op = payload.get("op")
        data: Any = payload.get("d")
        if op == 1:
            self.heartbeat_count += 1
            conn.send({"op": 11})
            self._note("received", 1)
        elif op == 2:
            await self._identify(conn, data)
        elif op == 6:
            await self._resume(conn, data)
        elif op == 8:
            self._request_members(conn, data)
        elif op in (3, 4):
            self._note("received", op)
        else:
            await conn.ws.close(code=4001, message=b"Unknown opcode")

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        self._note("received", 2)
        if data.get("token") != self.fake.token:
            self.fake.record_violation(Kind.GATEWAY_BAD_TOKEN, "IDENTIFY with a wrong token")
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        shard: tuple[int, int] | None = None
        if "shard" in data:
            shard = parse_shard(data["shard"])
            if shard is None:
                await conn.ws.close(code=CLOSE_INVALID_SHARD, message=b"Invalid shard.")
                return
        session = Session(
            session_id=secrets.token_hex(16), intents=int(data.get("intents", 0)), shard=shard
        )
        guilds = [g for g in self.fake.guilds_of(self.fake.bot_user.id) if session.receives(g.id)]
        if len(guilds) > self.fake.max_guilds_per_session:
            await conn.ws.close(code=CLOSE_SHARDING_REQUIRED, message=b"Sharding required.")
            return
        self.identify_count += 1
        self.sessions[session.session_id] = session
        session.connection = conn
        conn.session = session
        ready: dict[str, Any] = {
            "v": 10,
            "user": {**self.fake.bot_user.to_json(), "verified": True, "mfa_enabled": False},
            "guilds": [{"id": str(g.id), "unavailable": True} for g in guilds],
            "session_id": session.session_id,
            "resume_gateway_url": self.fake.gateway_url,
            "session_type": "normal",
            "application": {"id": str(self.fake.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "_trace": ["fake-discord"],
        }
        if shard is not None:
            ready["shard"] = list(shard)
        session.dispatch("READY", ready)
        for guild in guilds:
            session.dispatch("GUILD_CREATE", guild_create(self.fake, guild))
        self._note("sent", 0, "READY")

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        self._note("received", 6)
        if data.get("token") != self.fake.token:
            self.fake.record_violation(Kind.GATEWAY_BAD_TOKEN, "RESUME with a wrong token")
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq") or 0
        if session is None or seq > session.seq:
            conn.send({"op": 9, "d": False})
            return
        self.resume_count += 1
        if session.connection is not None and session.connection is not conn:
            session.connection.queue.put_nowait(None)
        session.connection = conn
        conn.session = session
        for payload in session.history:
            if payload["s"] > seq:
                conn.send(payload)
        session.dispatch("RESUMED", {"_trace": ["fake-discord"]})
        self._note("sent", 0, "RESUMED")

    def _request_members(self, conn: Connection, data: dict[str, Any]) -> None:
        self._note("received", 8)
        if conn.session is None:
            return
        guild_id = int(data.get("guild_id", 0))
        guild = self.fake.world.guilds.get(guild_id)
        members = [m.to_json() for m in guild.members.values()] if guild else []
        conn.session.dispatch(
            "GUILD_MEMBERS_CHUNK",
            {
                "guild_id": str(guild_id),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
                "nonce": data.get("nonce"),
                "not_found": [],
            },
        )
