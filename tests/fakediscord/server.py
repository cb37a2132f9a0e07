"""The fake Discord server: one aiohttp app serving REST under /api/v10 and the gateway.

`FakeDiscord` owns the world, the wire log, rate limits, injected faults and the violations
record. Route handlers live in the `routes_*` modules and raise `DiscordError` to answer as
Discord does; this module turns those into responses and records every exchange.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiohttp import BodyPartReader, web

from tests.fakediscord import openapi
from tests.fakediscord.gateway import Gateway
from tests.fakediscord.ratelimit import (
    Arrival,
    Fault,
    Faults,
    Hold,
    RateLimiter,
    WindowLog,
    too_many_requests_headers,
)
from tests.fakediscord.rules import DiscordError, Kind
from tests.fakediscord.state import (
    DEFAULT_EVERYONE_PERMS,
    Attachment,
    Guild,
    Member,
    Message,
    Perm,
    Role,
    User,
    World,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"
GATEWAY_PATH = "/gateway"
UPLOADS_PATH = "/ephemeral-attachments"
DEFAULT_TOKEN = "ODk4NzY1NDMyMTA5ODc2NTQz.FakeDs.fake-discord-bot-token-for-tests-only"
T = TypeVar("T")
RECHECK_S = 0.05
# Where a request carries the rate window's record of it until its wire entry is written.
_ARRIVAL = web.RequestKey("fakediscord.rate_arrival", Arrival)
# The message Discord sends with a forced error when the test names none.
_REASONS = {
    400: "Invalid Form Body",
    403: "Missing Permissions",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
# What the council bot's invite asks for.
DEFAULT_BOT_PERMS = (
    Perm.VIEW_CHANNEL
    | Perm.SEND_MESSAGES
    | Perm.SEND_MESSAGES_IN_THREADS
    | Perm.EMBED_LINKS
    | Perm.ATTACH_FILES
    | Perm.READ_MESSAGE_HISTORY
    | Perm.MANAGE_WEBHOOKS
    | Perm.MANAGE_THREADS
    | Perm.CREATE_PUBLIC_THREADS
    | Perm.MANAGE_MESSAGES
)


@dataclass
class Violation:
    """A broken Discord rule: what kind, what exactly, and which request (if any) broke it."""

    kind: str
    detail: str
    method: str = ""
    route: str = ""

    def __str__(self) -> str:
        where = f" [{self.method} {self.route}]" if self.method else ""
        return f"{self.kind}: {self.detail}{where}"


@dataclass
class WireEntry:
    """One HTTP exchange as the fake saw it."""

    method: str
    path: str
    route: str
    query: dict[str, str]
    body: Any
    status: int
    response: Any
    files: list[str] = field(default_factory=list)
    at_s: float = 0.0

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


@dataclass
class Reply:
    """A handler's successful answer; `body=None` means 204 No Content."""

    body: Any = None
    status: int = 200


@dataclass
class Call:
    """One incoming REST request, parsed, as handed to a route handler."""

    fake: FakeDiscord
    request: web.Request
    route: str
    body: Any
    files: list[Attachment]

    def snowflake(self, name: str) -> int:
        """A snowflake path parameter; a malformed one is an unknown id as far as Discord cares."""
        raw = self.request.match_info[name]
        return int(raw) if raw.isdigit() else 0

    def query_flag(self, name: str) -> bool:
        """A boolean query parameter as discord.py sends them (1/0, true/false)."""
        return self.request.query.get(name, "").lower() in ("1", "true")


Handler = Callable[[Call], Awaitable[Reply | dict[str, Any] | list[Any] | None]]
Auth = Literal["bot", "none"]


@dataclass(frozen=True)
class RouteSpec:
    """A REST route: its method and path template, handler, auth and rate-limit bucket."""

    method: str
    path: str
    handler: Handler
    auth: Auth = "bot"
    bucket: str = "default"
    major: str = ""
    # OpenAPI path template when it differs from `path` (e.g. the @original alias).
    openapi_path: str = ""


class FakeDiscord:
    """A local Discord that the unmodified discord.py client talks to over HTTP and a websocket.

    Use as ``async with FakeDiscord() as fake:`` or through the `fake_discord` fixture.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_name: str = "Council",
        validate_openapi: bool = True,
    ) -> None:
        self.token = token
        self.world = World()
        self.rate_limits = RateLimiter()
        self.faults = Faults()
        self.violations: list[Violation] = []
        self.expected_violations: set[str] = set()
        self.wire: list[WireEntry] = []
        self.validate_openapi = validate_openapi and openapi.is_available()
        self.ack_deadline_s = 3.0
        # Discord: "Each shard can only support a maximum of 2500 guilds"; a session that would
        # hold more is closed with 4011. Tests lower it to provoke that.
        # https://discord.com/developers/docs/events/gateway#sharding
        self.max_guilds_per_session = 2500
        # GET /gateway/bot's session_start_limit.max_concurrency: IDENTIFYs allowed per 5 s.
        self.max_concurrency = 1
        self.token_lifetime_s = 15 * 60.0
        self._clock_offset_s = 0.0
        self._changed = asyncio.Event()
        self.bot_user = User(id=self.world.snowflakes.next(), username=bot_name, bot=True)
        self.world.users[self.bot_user.id] = self.bot_user
        self.application_id = self.bot_user.id
        self.owner = User(id=self.world.snowflakes.next(), username="owner")
        self.world.users[self.owner.id] = self.owner
        self.gateway = Gateway(self)
        self._runner: web.AppRunner | None = None
        self.base_url = ""
        # Files members attached to slash command options, served as the CDN serves them.
        self.uploads: dict[int, Attachment] = {}

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on an ephemeral loopback port."""
        # The route modules import Call/RouteSpec from here, so they load only once this has.
        from tests.fakediscord import (
            routes_core,
            routes_interactions,
            routes_messages,
            routes_webhooks,
        )

        app = web.Application(client_max_size=32 * 1024 * 1024)
        app.router.add_get(GATEWAY_PATH, self.gateway.handle)
        for module in (routes_core, routes_messages, routes_webhooks, routes_interactions):
            for spec in module.ROUTES:
                path = API_PREFIX + _with_snowflake_patterns(spec.path)
                app.router.add_route(spec.method, path, self._serve_with(spec))
        app.router.add_get(UPLOADS_PATH + "/{app}/{id}/{filename}", self._serve_upload)
        app.router.add_route("*", "/{tail:.*}", self._unimplemented)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Close gateway connections and stop listening."""
        for hold in self.faults.holds:
            hold.release()
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def api_base(self) -> str:
        """The REST base in the form of the DISCORD_API_BASE setting (discord.py's `Route.BASE`)."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        """The gateway URL in the form of the DISCORD_GATEWAY_URL setting."""
        return self.base_url.replace("http://", "ws://") + GATEWAY_PATH

    # -- time and waiting --------------------------------------------------------------------

    def now_s(self) -> float:
        """The fake's clock (monotonic seconds) used for interaction deadlines and token expiry."""
        return time.monotonic() + self._clock_offset_s

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock forward, e.g. past the 3 s acknowledgement deadline."""
        self._clock_offset_s += seconds

    def notify(self) -> None:
        """Wake everything waiting in `wait_for`; called after every change."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for(
        self, predicate: Callable[[], T | None], *, timeout: float = 5.0, what: str = ""
    ) -> T:
        """Wait until `predicate()` is truthy and return it.

        It is re-checked after every change to the fake and, for predicates about the bot's own
        state, at least every `RECHECK_S`.
        """
        try:
            async with asyncio.timeout(timeout):
                while True:
                    result = predicate()
                    if result:
                        return result
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), RECHECK_S)
        except TimeoutError:
            recent = "\n  ".join(str(e) for e in self.wire[-10:])
            problems = "\n  ".join(str(v) for v in self.violations) or "none"
            raise AssertionError(
                f"timed out after {timeout}s waiting for {what or predicate!r}\n"
                f"recent requests:\n  {recent}\nviolations:\n  {problems}"
            ) from None

    # -- violations --------------------------------------------------------------------------

    def record_violation(
        self, kind: str, detail: str, *, method: str = "", route: str = ""
    ) -> None:
        """Remember a broken rule; the test fails at teardown unless the kind was expected."""
        log.info("fake discord violation %s: %s %s %s", kind, detail, method, route)
        self.violations.append(Violation(kind, detail, method, route))
        self.notify()

    def expect_violation(self, *kinds: str) -> None:
        """Declare that this test provokes these violation kinds on purpose."""
        self.expected_violations.update(kinds)

    def violations_of(self, kind: str) -> list[Violation]:
        """Recorded violations of one kind."""
        return [v for v in self.violations if v.kind == kind]

    def unexpected_violations(self) -> list[Violation]:
        """Violations the test did not declare as expected."""
        return [v for v in self.violations if v.kind not in self.expected_violations]

    # -- mentions ----------------------------------------------------------------------------

    def pinging_messages(self) -> list[Message]:
        """Messages that would notify someone by mention (after allowed_mentions)."""
        return [m for m in self.world.messages.values() if m.pings.any]

    def assert_no_pings(self) -> None:
        """Fail if any message would ping a user, a role, @everyone or @here."""
        loud = self.pinging_messages()
        if loud:
            listing = "\n  ".join(f"{m.id}: {m.content[:80]!r} pings {m.pings}" for m in loud)
            raise AssertionError(f"messages would ping:\n  {listing}")

    # -- faults ------------------------------------------------------------------------------

    def force_429(
        self,
        method: str,
        route: str,
        *,
        times: int = 1,
        retry_after_s: float = 0.05,
        is_global: bool = False,
    ) -> Fault:
        """Answer the next `times` matching requests with a 429 (Retry-After, Via, JSON body).

        `route` is the template as in the wire log, e.g. ``/webhooks/{webhook_id}/{webhook_token}``.
        """
        fault = Fault(method, route, 429, times, retry_after_s, is_global)
        self.faults.pending.append(fault)
        return fault

    def force_429_randomly(
        self, rate: float, *, seed: int = 0, retry_after_s: float = 0.05, times: int = 10**9
    ) -> Fault:
        """Answer this share of every request (any route) with a 429, drawn from a seeded RNG."""
        fault = Fault("*", "*", 429, times, retry_after_s, rate=rate, rng=random.Random(seed))
        self.faults.pending.append(fault)
        return fault

    def force_status(
        self,
        method: str,
        route: str,
        status: int = 500,
        *,
        times: int = 1,
        code: int = 0,
        message: str | None = None,
        when: Callable[[Any], bool] | None = None,
    ) -> Fault:
        """Answer the next `times` matching requests with an error: a 5xx, or a 4xx carrying
        Discord's JSON error `code` (e.g. 400 with 50035, 403 with 50013). `when` picks
        requests by their JSON body (for a multipart one, its `payload_json`)."""
        fault = Fault(
            method,
            route,
            status,
            times,
            code=code,
            message=message or _REASONS.get(status, ""),
            when=when,
        )
        self.faults.pending.append(fault)
        return fault

    def hold(
        self,
        method: str,
        route: str,
        *,
        times: int = 1,
        when: Callable[[Any], bool] | None = None,
    ) -> Hold:
        """Leave the next `times` matching requests unanswered until `hold.release()` (or the
        fake stops); `hold.arrived` is set when one comes. `when` picks requests by their JSON
        body (for a multipart one, its `payload_json`)."""
        held = Hold(method, route, times, when)
        self.faults.holds.append(held)
        return held

    # -- wire log ----------------------------------------------------------------------------

    def rate_windows(self, bucket: str = "webhook") -> list[WindowLog]:
        """Every rate window a bucket opened, oldest first, each with the requests counted in
        it (`WindowLog.arrivals`, each linked to its wire entry)."""
        return self.rate_limits.windows(bucket)

    def requests(self, method: str | None = None, route: str | None = None) -> list[WireEntry]:
        """Wire-log entries, optionally filtered by method and route template."""
        return [
            e
            for e in self.wire
            if (method is None or e.method == method) and (route is None or e.route == route)
        ]

    # -- world helpers used by routes and the driver -----------------------------------------

    @property
    def recommended_shards(self) -> int:
        """GET /gateway/bot's ``shards``: Discord recommends one shard per 1000 guilds."""
        return max(1, -(-len(list(self.guilds_of(self.bot_user.id))) // 1000))

    def create_guild(
        self, name: str, *, owner: User | None = None, shard: tuple[int, int] | None = None
    ) -> Guild:
        """A guild with @everyone, the bot as a member with its managed role, and no channels.

        `shard` (shard_id, num_shards) picks an id whose events go to that shard.
        """
        gid = self.world.snowflakes.next_in_shard(*shard) if shard else self.world.snowflakes.next()
        owner = owner or self.owner
        guild = Guild(id=gid, name=name, owner_id=owner.id)
        guild.roles[gid] = Role(
            id=gid, guild_id=gid, name="@everyone", permissions=int(DEFAULT_EVERYONE_PERMS)
        )
        bot_role = Role(
            id=self.world.snowflakes.next(),
            guild_id=gid,
            name=self.bot_user.username,
            permissions=int(DEFAULT_BOT_PERMS),
            position=1,
            managed=True,
        )
        guild.roles[bot_role.id] = bot_role
        self.world.guilds[gid] = guild

        guild.members[owner.id] = Member(user=owner, guild_id=gid)
        guild.members[self.bot_user.id] = Member(
            user=self.bot_user, guild_id=gid, roles=[bot_role.id]
        )
        return guild

    def bot_role(self, guild: Guild) -> Role:
        """The bot's managed role in a guild."""
        return next(r for r in guild.roles.values() if r.managed)

    # -- serving -----------------------------------------------------------------------------

    def _serve_with(
        self, spec: RouteSpec
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            return await self._serve(spec, request)

        return serve

    async def _read_body(self, request: web.Request) -> tuple[Any, list[Attachment], bool]:
        ctype = request.headers.get("Content-Type", "")
        if ctype.startswith("multipart/"):
            files: list[Attachment] = []
            body: Any = {}
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    body = json.loads(data)
                elif part.filename:
                    files.append(
                        Attachment(
                            id=self.world.snowflakes.next(),
                            filename=part.filename,
                            content_type=part.headers.get(
                                "Content-Type", "application/octet-stream"
                            ),
                            data=bytes(data),
                        )
                    )
            return body, files, True
        raw = await request.read()
        if not raw:
            return None, [], False
        return json.loads(raw), [], False

    def _response(self, status: int, body: Any, headers: dict[str, str]) -> web.Response:
        if body is None:
            return web.Response(status=status, headers=headers)
        # discord.py compares Content-Type to exactly "application/json"; no charset suffix.
        headers = {**headers, "Content-Type": "application/json"}
        return web.Response(status=status, body=json.dumps(body).encode(), headers=headers)

    async def _serve(self, spec: RouteSpec, request: web.Request) -> web.StreamResponse:
        route = spec.path
        headers: dict[str, str] = {}
        try:
            body, files, multipart = await self._read_body(request)
        except (ValueError, UnicodeDecodeError):
            body, files, multipart = None, [], False
        status, answer = 200, None
        try:
            status, answer, headers = await self._answer(
                spec, request, route, body, files, multipart
            )
        except DiscordError as exc:
            status, answer = exc.status, exc.body()
            headers = getattr(exc, "rate_headers", {})
            for kind, detail in exc.kinds:
                self.record_violation(kind, detail, method=spec.method, route=route)
        self.wire.append(
            WireEntry(
                method=spec.method,
                path=request.path,
                route=route,
                query=dict(request.query),
                body=body,
                status=status,
                response=answer,
                files=[f.filename for f in files],
                at_s=time.monotonic(),
            )
        )
        arrival = request.get(_ARRIVAL)
        if arrival is not None:
            arrival.entry = self.wire[-1]
        self.notify()
        if status == 429:
            headers = {**headers, **too_many_requests_headers(float(answer["retry_after"]))}
        return self._response(status, answer, headers)

    async def _answer(
        self,
        spec: RouteSpec,
        request: web.Request,
        route: str,
        body: Any,
        files: list[Attachment],
        multipart: bool,
    ) -> tuple[int, Any, dict[str, str]]:
        if spec.auth == "bot" and request.headers.get("Authorization") != f"Bot {self.token}":
            raise DiscordError(
                401,
                0,
                "401: Unauthorized",
                kind=Kind.BAD_TOKEN,
                detail="missing or wrong bot token",
            )
        hold = self.faults.hold_for(spec.method, route, body)
        if hold is not None:
            hold.arrived.set()
            await hold.released.wait()
        fault = self.faults.take(spec.method, route, body)
        if fault is not None:
            if fault.status == 429:
                retry = {
                    "message": "You are being rate limited.",
                    "retry_after": fault.retry_after_s,
                    "global": fault.is_global,
                }
                return 429, retry, {"X-RateLimit-Scope": "global" if fault.is_global else "user"}
            return fault.status, {"message": fault.message, "code": fault.code}, {}
        if spec.auth == "bot":
            decision = self.rate_limits.check_global(self.token)
            if not decision.allowed:
                return self._rate_limited(
                    spec, route, decision.retry_after_s, decision.headers, True
                )
        major = request.match_info.get(spec.major, "") if spec.major else ""
        decision = self.rate_limits.check(spec.bucket, major)
        if decision.arrival is not None:
            request[_ARRIVAL] = decision.arrival
        if not decision.allowed:
            return self._rate_limited(spec, route, decision.retry_after_s, decision.headers, False)
        call = Call(self, request, route, body, files)
        try:
            result = await spec.handler(call)
        except DiscordError as exc:
            # Discord counts a refused request against its bucket and says so in the headers.
            exc.rate_headers = decision.headers
            raise
        reply = (
            result
            if isinstance(result, Reply)
            else Reply(result, 200 if result is not None else 204)
        )
        if self.validate_openapi and body is not None:
            for problem in openapi.validate_body(
                spec.method, spec.openapi_path or route, body, multipart=multipart
            ):
                self.record_violation(Kind.OPENAPI_SCHEMA, problem, method=spec.method, route=route)
        return reply.status, reply.body, decision.headers

    def _rate_limited(
        self,
        spec: RouteSpec,
        route: str,
        retry_after_s: float,
        headers: dict[str, str],
        is_global: bool,
    ) -> tuple[int, Any, dict[str, str]]:
        self.record_violation(
            Kind.RATE_LIMITED, f"bucket {spec.bucket} exhausted", method=spec.method, route=route
        )
        body = {
            "message": "You are being rate limited.",
            "retry_after": round(retry_after_s, 3),
            "global": is_global,
        }
        return 429, body, headers

    def upload_url(self, attachment: Attachment) -> str:
        """Where the fake CDN serves a file attached to a command option: Discord's
        `cdn.discordapp.com/ephemeral-attachments/<application>/<attachment>/<filename>`, here."""
        path = f"{UPLOADS_PATH}/{self.application_id}/{attachment.id}/{attachment.filename}"
        return self.base_url + path

    async def _serve_upload(self, request: web.Request) -> web.StreamResponse:
        """A file attached to a command option, as the CDN sends it (404 if unknown)."""
        raw = request.match_info["id"]
        found = self.uploads.get(int(raw)) if raw.isdigit() else None
        if found is None or found.filename != request.match_info["filename"]:
            return web.Response(status=404, text="Not Found")
        return web.Response(body=found.data, content_type=found.content_type or None)

    async def _unimplemented(self, request: web.Request) -> web.StreamResponse:
        route = request.path.removeprefix(API_PREFIX)
        self.record_violation(
            Kind.UNIMPLEMENTED_ROUTE,
            f"{request.method} {request.path}",
            method=request.method,
            route=route,
        )
        body = {"message": "404: Not Found", "code": 0}
        self.wire.append(
            WireEntry(
                request.method,
                request.path,
                route,
                dict(request.query),
                None,
                404,
                body,
                at_s=time.monotonic(),
            )
        )
        return self._response(404, body, {})

    # -- gateway shortcut --------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event to the bot (buffered while it is disconnected)."""
        self.gateway.dispatch(event, data)
        self.notify()

    def guilds_of(self, user_id: int) -> Iterable[Guild]:
        """Guilds a user is a member of."""
        return [g for g in self.world.guilds.values() if user_id in g.members]


def _with_snowflake_patterns(template: str) -> str:
    """Make `{x_id}` match only snowflakes, so e.g. `/messages/pins` is not a message id."""

    def pattern(match: re.Match[str]) -> str:
        # Interaction webhook routes address the original response as @original.
        allowed = r"@original|\d+" if match[1] == "message_id" else r"\d+"
        return "{" + match[1] + ":" + allowed + "}"

    return re.sub(r"\{(\w+_id)\}", pattern, template)
