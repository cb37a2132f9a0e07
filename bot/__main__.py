"""The composition root and command line: `council-bot run | check | console | eval | ...`.

Resources (the store, the one httpx client) are opened here with `async with` and handed to
whoever needs them.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import re
import secrets
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from dotenv import load_dotenv

from bot.config import FORMATS, CouncilConfig, Settings, load_config, load_settings
from bot.errors import ConfigError, UnseatedError, UserFacingError

if TYPE_CHECKING:
    from bot.app import CouncilBot
    from bot.council.challenge_scores import QuestionResult
    from bot.council.models import AuditEntry
    from bot.council.spec import SessionSpec
    from bot.shards import ShardPlan

log = logging.getLogger("bot")

# The cogs loaded into the bot, as discord.py extensions.
EXTENSIONS = ("cogs.council", "cogs.personas", "cogs.admin", "cogs.provenance")

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
# What a shell reports for a process ended by Ctrl-C (128 + SIGINT).
EXIT_INTERRUPTED = 130

# How many audit entries `council-bot audit` prints unless told otherwise.
AUDIT_LIMIT = 50
SQLITE_INT_MAX = 2**63 - 1

VERBOSE_HELP = "log everything, libraries' requests included (as LOG_LEVEL=DEBUG)"


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and run the chosen command; returns the exit code.

    Every mistake an operator can make ends in one line on stderr saying what to do; anything
    else is a bug, logged with its traceback at DEBUG and named by an error id.
    """
    # .env fills the environment first, so provider keys named by the config resolve too.
    load_dotenv(override=False)
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, verbose=args.verbose)
        code: int = args.handler(args, settings)
    except ConfigError as exc:
        # One problem is one line; several are listed under a count.
        if len(exc.problems) == 1:
            print(f"council-bot: {exc.problems[0]}", file=sys.stderr)
        else:
            print(exc, file=sys.stderr)
        return EXIT_USAGE
    except UserFacingError as exc:
        for line in exc.message.splitlines():
            print(f"council-bot: {line}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except Exception as exc:
        error_id = secrets.token_hex(4)
        log.debug("unexpected error %s", error_id, exc_info=exc)
        print(
            f"council-bot: unexpected error (id {error_id}); run with LOG_LEVEL=DEBUG for details.",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return code


def configure_logging(level: str, *, verbose: bool = False) -> None:
    """Log to stderr: the bot's own lines at `level`; every library's too at DEBUG or `verbose`.

    A webhook token never reaches the log.
    """
    from bot.logs import stderr_handler

    level = "DEBUG" if verbose else level.upper()
    everything = logging.getLevelName(level) == logging.DEBUG
    logging.basicConfig(level=level, handlers=[stderr_handler(sys.stderr, everything=everything)])
    # discord.py's DEBUG lines carry webhook URLs, and a webhook URL holds its token.
    for name in ("discord.http", "discord.webhook"):
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLogger().level))


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake on the command line is one line, not the usage block."""

    def error(self, message: str) -> NoReturn:
        """Print `message` and where to read more; exit with EXIT_USAGE."""
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see `{self.prog} --help`)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="council-bot", description="Council: live AI councils on Discord.")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run the bot")
    run.add_argument(
        "--shards",
        help="run only these shards in this process, e.g. 0-3 or 0,2 (as SHARDS; see "
        "README, Running at scale)",
    )
    run.add_argument(
        "--shard-count", type=int, help="how many shards the bot runs in all (as SHARD_COUNT)"
    )
    run.add_argument(
        "--metrics-port",
        type=_port,
        help="serve /metrics and /healthz on this port (default: METRICS_PORT; none if unset)",
    )
    run.set_defaults(handler=_run)

    check = commands.add_parser("check", help="validate the config and reach every model")
    check.add_argument(
        "--preset",
        action="append",
        default=[],
        help="check only this preset's models (repeat for more; default: every preset)",
    )
    check.add_argument("--explain", action="store_true", help="say what to do about each failure")
    check.set_defaults(handler=_check)

    sync = commands.add_parser("sync", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="one guild's id (instant); global without it")
    sync.set_defaults(handler=_sync)

    invite = commands.add_parser("invite", help="print the link that adds the bot to a server")
    invite.add_argument(
        "--client-id", type=int, help="the application id (default: from the token)"
    )
    invite.set_defaults(handler=_invite)

    console = commands.add_parser("console", help="run a council in the terminal, no Discord")
    console.add_argument("topic", help="what the council discusses")
    console.add_argument("--preset", help="a preset from council.toml (default: default)")
    console.add_argument("--members", help="comma-separated persona names, e.g. Claude,Gemini")
    console.add_argument("--format", choices=FORMATS, help="parallel, debate, chaired or review")
    console.add_argument("--rounds", type=int, help="number of rounds (1-10)")
    console.add_argument("--chair", help="the persona who chairs")
    console.add_argument(
        "--language", help="a locale code such as ru that the models answer in (default: topic's)"
    )
    console.add_argument("--transcript", type=Path, help="write a Markdown transcript here")
    console.set_defaults(handler=_console)

    export = commands.add_parser("export", help="write a stored council's transcript")
    export.add_argument("session", type=int, help="the council's number, e.g. 12")
    export.add_argument(
        "--format",
        choices=("md", "json", "html"),
        default="md",
        help="md (default), json, or html (one self-contained web page)",
    )
    export.add_argument("--output", type=Path, help="write to this file instead of stdout")
    export.add_argument(
        "--with-votes",
        action="store_true",
        help="json only: include who voted what (Discord user ids; keep such files private)",
    )
    export.set_defaults(handler=_export)

    audit = commands.add_parser(
        "audit", help="list hosts' recorded actions, newest first (reads the database only)"
    )
    # Ids stay text here so that a bad one is refused in one line, not argparse's usage block.
    audit.add_argument("--guild", help="only this server's actions (its id)")
    audit.add_argument("--member", help="only this member's actions (their user id)")
    audit.add_argument("--action", help="only this kind of action, e.g. session.stop")
    audit.add_argument("--limit", help=f"at most this many (default {AUDIT_LIMIT})")
    audit.set_defaults(handler=_audit)

    halt = commands.add_parser(
        "halt",
        help="stop every council in a server and refuse new ones until resume-all "
        "(the running bot notices within seconds)",
    )
    halt.add_argument("--guild", required=True, help="the server's id")
    halt.add_argument("--reason", default="", help="why, shown in each stopped council's thread")
    halt.set_defaults(handler=_halt)

    resume_all = commands.add_parser(
        "resume-all", help="lift a halt: councils may start in the server again"
    )
    resume_all.add_argument("--guild", required=True, help="the server's id")
    resume_all.set_defaults(handler=_resume_all)

    _add_eval(commands)
    _add_migrate_store(commands)

    # Also after the command; SUPPRESS keeps a command's default from undoing an earlier -v.
    for command in commands.choices.values():
        command.add_argument(
            "-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP
        )
    return parser


def _add_eval(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`council-bot eval`: the challenge in the terminal."""
    evaluate = commands.add_parser(
        "eval",
        help="does the council beat one model? ask questions with known answers: each member "
        "alone, the majority vote, and the majority after one debate",
    )
    evaluate.add_argument(
        "--set", default="arithmetic", help="arithmetic (default) or a .json/.csv question file"
    )
    evaluate.add_argument("--count", type=int, default=10, help="how many questions (default 10)")
    evaluate.add_argument("--preset", help="the preset whose members answer (default: default)")
    evaluate.add_argument("--report", type=Path, help="write the report here (.json or .md)")
    evaluate.set_defaults(handler=_eval)


def _add_migrate_store(commands: argparse._SubParsersAction[_Parser]) -> None:
    """`council-bot migrate-store`: move an installation from SQLite to PostgreSQL."""
    migrate_store = commands.add_parser(
        "migrate-store",
        help="copy a SQLite installation into an empty PostgreSQL database, ids and all",
    )
    migrate_store.add_argument(
        "--from",
        dest="source",
        required=True,
        help="the SQLite file: sqlite:///data/council.db (relative), sqlite:////abs/council.db, "
        "or a plain path",
    )
    migrate_store.add_argument(
        "--to", dest="target", required=True, help="postgresql://user:password@host/database"
    )
    migrate_store.set_defaults(handler=_migrate_store)


def _migrate_store(args: argparse.Namespace, settings: Settings) -> int:
    from bot.database_url import is_postgres_url, redact
    from bot.databases import migrate_store

    source = Path(args.source.removeprefix("sqlite:///"))
    if "://" in str(source):
        raise UserFacingError(f"--from must be a SQLite file (sqlite:///path), not {source}.")
    if not is_postgres_url(args.target):
        raise UserFacingError(f"--to must be a postgresql:// URL, not {redact(args.target)!r}.")
    copied = asyncio.run(migrate_store(source, args.target))
    width = max(len(c.table) for c in copied)
    for table in copied:
        print(f"{table.table:<{width}}  {table.source_rows:>9} -> {table.target_rows:>9}")
    total = sum(c.target_rows for c in copied)
    print(
        f"Copied {total} rows in {len(copied)} tables from {source} to {redact(args.target)}; "
        "every count matches. Set DATABASE_URL to it to run Council there."
    )
    return EXIT_OK


def _load(settings: Settings) -> CouncilConfig:
    return load_config(settings.council_config, os.environ)


def _load_for_bot(settings: Settings) -> CouncilConfig:
    """The config as the bot runs it: a persona it can't seat is a warning, not a refusal."""
    config = load_config(settings.council_config, os.environ, is_lenient=True)
    for warning in config.warnings:
        log.warning("%s", warning)
    for problem in config.unseated.values():
        log.warning("%s", problem.operator_line())
    return config


def _run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.shards import parse_shard_plan, rest_share_per_s

    shards = parse_shard_plan(
        args.shards if args.shards is not None else settings.shards,
        args.shard_count if args.shard_count is not None else settings.shard_count,
    )
    rest_share_per_s(settings.rest_share, shards)  # refused here, in one line, if malformed
    # The config first: on a first run its warnings name each provider key still to fill in.
    config = _load_for_bot(settings)
    _require_token(settings)
    if args.metrics_port is not None:
        settings = settings.model_copy(update={"metrics_port": args.metrics_port})
    asyncio.run(_until_terminated(_serve(settings, config, shards=shards)))
    return EXIT_OK


async def _until_terminated(serve: Coroutine[Any, Any, int]) -> int:
    """Await `serve`; SIGTERM (a service manager's stop) ends it as Ctrl-C does, closing the
    bot in order, and that is a clean exit. A second SIGTERM ends the process at once."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    if task is None:
        raise RuntimeError("_until_terminated runs in a task")
    is_terminated = False

    def terminate() -> None:
        nonlocal is_terminated
        is_terminated = True
        loop.remove_signal_handler(signal.SIGTERM)
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await serve
    except asyncio.CancelledError:
        # Cancelled by Ctrl-C too (or only): asyncio.run reports that as KeyboardInterrupt.
        if not is_terminated or task.uncancel() > 0:
            raise
        return 0
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _port(text: str) -> int:
    """An argparse type: a TCP port from 1 to 65535."""
    if not re.fullmatch(r"[0-9]{1,5}", text) or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"must be a port from 1 to 65535, not {text!r}")
    return int(text)


def _sync(args: argparse.Namespace, settings: Settings) -> int:
    _require_token(settings)
    config = _load_for_bot(settings)
    count = asyncio.run(_serve(settings, config, sync_guild=args.guild or 0))
    where = f"guild {args.guild}" if args.guild else "all guilds (may take up to an hour)"
    print(f"Synced {count} commands to {where}.")
    return EXIT_OK


def _require_token(settings: Settings) -> None:
    if settings.discord_token is None or not settings.discord_token.get_secret_value():
        raise UserFacingError(
            "DISCORD_TOKEN is not set: put your bot token in .env (see .env.example) "
            "or in the environment."
        )


async def _serve(
    settings: Settings,
    config: CouncilConfig,
    *,
    sync_guild: int | None = None,
    shards: ShardPlan | None = None,
) -> int:
    """Run the bot (the `shards` of it, if given); or, given `sync_guild` (0 for global), only
    register its commands."""
    from bot.app import CouncilBot, ShardedCouncilBot, apply_discord_endpoints
    from bot.council.screening import ModelCheck
    from bot.database_url import redact
    from bot.databases import claim_shards, open_store, run_lock
    from bot.discord_ui.health import GatewayWatch
    from bot.leases import CouncilLeases
    from bot.metrics import Metrics
    from bot.providers.moderation import build_moderation_model
    from bot.providers.registry import build_providers, connections_for, new_http_client
    from bot.sessions import SessionManager

    apply_discord_endpoints(settings)
    async with AsyncExitStack() as resources:
        if sync_guild is None:
            resources.enter_context(run_lock(settings.store_location, shards))
        store = await resources.enter_async_context(open_store(settings.store_location))
        if sync_guild is None:
            await resources.enter_async_context(
                claim_shards(store, settings.store_location, shards)
            )
        client = await resources.enter_async_context(new_http_client(connections_for(config)))
        providers = build_providers(config, os.environ, client)
        moderation = build_moderation_model(config, os.environ, client)
        metrics = Metrics()
        manager = SessionManager(
            config=config,
            providers=providers,
            store=store,
            moderation=ModelCheck.configured(config.moderation, moderation),
            leases=CouncilLeases(store, ttl_s=settings.lease_ttl_s),
            watcher=metrics.watch(),
        )
        metrics.count_councils(manager.running)
        if shards is not None:
            log.info("running shards %s", shards.describe())
        gateway = GatewayWatch()
        if sync_guild is None and settings.metrics_port is not None:
            from bot.metrics_server import Health, serve_metrics

            await resources.enter_async_context(
                serve_metrics(
                    settings.metrics_host, settings.metrics_port, metrics, Health(store, gateway)
                )
            )
        log.info(
            "store %s open with %d sessions; %d providers ready",
            redact(str(settings.store_location)),
            await store.count_sessions(),
            len(providers),
        )

        # Some shards of the bot in this process, or the whole bot unsharded.
        bot_class: Callable[..., CouncilBot] = (
            CouncilBot
            if shards is None
            else functools.partial(ShardedCouncilBot, shard_plan=shards)
        )

        def new_bot() -> CouncilBot:
            bot = bot_class(
                settings=settings,
                config=config,
                store=store,
                manager=manager,
                extensions=EXTENSIONS,
                metrics=metrics,
                shutdown_grace_s=settings.shutdown_grace_s,
            )
            gateway.client = bot
            return bot

        token = settings.discord_token.get_secret_value() if settings.discord_token else ""
        return await _connect(new_bot, token, sync_guild=sync_guild)


async def _connect(new_bot: Callable[[], CouncilBot], token: str, *, sync_guild: int | None) -> int:
    """Log in and serve until closed, or only sync; return how many commands were synced.

    While Discord can't be reached, `run` tries again after growing waits, one line each time;
    `sync` says so once. A token Discord refuses ends either at once.
    """
    import discord

    from bot.discord_ui.connection import (
        UNREACHABLE,
        ReconnectNotices,
        describe,
        login_refused,
        reconnect_waits,
        shards_refused,
        unreachable_error,
    )

    notices = ReconnectNotices()
    discord_log = logging.getLogger("discord.client")
    if not log.isEnabledFor(logging.DEBUG):
        discord_log.addFilter(notices)
    waits = reconnect_waits()
    try:
        while True:
            # A fresh client for each attempt: discord.py's login can't be repeated on one.
            try:
                async with new_bot() as bot:
                    notices.client = bot
                    await bot.login(token)  # runs setup_hook, which loads the cogs
                    if sync_guild is not None:
                        return await bot.sync_commands(sync_guild or None)
                    await bot.connect()
                    return 0
            except discord.LoginFailure:
                raise login_refused() from None
            except discord.ConnectionClosed as exc:
                if (refusal := shards_refused(exc)) is None:
                    raise
                raise refusal from None
            except UNREACHABLE as exc:
                if sync_guild is not None:
                    raise unreachable_error(exc) from exc
                wait = next(waits)
                log.warning("Can't reach Discord (%s); trying again in %d s.", describe(exc), wait)
                await asyncio.sleep(wait)
    finally:
        discord_log.removeFilter(notices)


def _invite(args: argparse.Namespace, settings: Settings) -> int:
    from bot.discord_ui.invite import client_id_from_token, invite_url

    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    client_id = args.client_id or client_id_from_token(token)
    if client_id is None and not token:
        raise UserFacingError(
            "give --client-id (the Application ID from the Discord developer portal), "
            "or set DISCORD_TOKEN."
        )
    if client_id is None:
        raise UserFacingError(
            "DISCORD_TOKEN is malformed: a bot token starts with the application id. Copy it "
            "again from the developer portal (Bot > Reset Token), or give --client-id "
            "(the Application ID)."
        )
    print(invite_url(client_id))
    return EXIT_OK


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from bot.check import models_to_check, name_font_warnings
    from bot.render.text import default_fonts

    config = _load(settings)
    model_keys = models_to_check(config, args.preset)
    fonts = name_font_warnings([p.name for p in config.personas], default_fonts())
    warnings = [*map(str, config.warnings), *fonts]
    warned = f", {len(warnings)} warning(s):" if warnings else ""
    print(f"{settings.council_config}: configuration OK{warned}")
    for warning in warnings:
        print(f"  - {warning}")
    return asyncio.run(_check_models(config, model_keys, explain=args.explain))


async def _check_models(config: CouncilConfig, model_keys: list[str], *, explain: bool) -> int:
    from bot.check import (
        check_models,
        check_moderation,
        format_advice,
        format_results,
        ping_providers,
    )
    from bot.providers.registry import connections_for, new_http_client

    async with new_http_client(connections_for(config)) as client:
        providers = ping_providers(config, os.environ, client)
        results = await check_models(config, providers, model_keys, os.environ)
        if (moderation := await check_moderation(config, os.environ, client)) is not None:
            results.append(moderation)
    print(format_results(results))
    if explain and (advice := format_advice(results, config)):
        print(f"\n{advice}")
    return EXIT_OK if all(r.is_ok for r in results) else EXIT_FAILED


def _console(args: argparse.Namespace, settings: Settings) -> int:
    from bot.council.spec import build_spec

    config = _load(settings)
    members = [m for m in args.members.split(",") if m.strip()] if args.members else None
    try:
        spec = build_spec(
            config,
            args.topic,
            preset=args.preset,
            members=members,
            chair=args.chair,
            format=args.format,
            rounds=args.rounds,
            language=args.language,
        )
    except UnseatedError as exc:
        for problem in exc.problems:
            print(f"council-bot: {problem.operator_line()}", file=sys.stderr)
        return EXIT_USAGE
    is_finished, markdown = asyncio.run(_run_console(settings, config, spec))
    if args.transcript is not None:
        args.transcript.parent.mkdir(parents=True, exist_ok=True)
        args.transcript.write_text(markdown, encoding="utf-8")
        print(f"Transcript written to {args.transcript}")
    return EXIT_OK if is_finished else EXIT_FAILED


async def _run_console(
    settings: Settings, config: CouncilConfig, spec: SessionSpec
) -> tuple[bool, str]:
    """Run the session; return whether it finished and its Markdown transcript."""
    from bot.console import ConsolePresenter, logs_beside, run_console
    from bot.council.engine import SessionRun
    from bot.council.models import SessionStatus
    from bot.council.screening import ModelCheck, Screening
    from bot.databases import open_store
    from bot.logs import wants_color
    from bot.providers.moderation import build_moderation_model
    from bot.providers.registry import build_providers, connections_for, new_http_client
    from bot.render.transcript import render_markdown

    presenter = ConsolePresenter(
        out=sys.stdout,
        colors={seat.name: seat.color for seat in (*spec.members, spec.chair) if seat},
        use_color=wants_color(sys.stdout),
    )
    async with (
        open_store(settings.store_location) as store,
        new_http_client(connections_for(config)) as client,
    ):
        run = await SessionRun.open(
            spec,
            config=config,
            providers=build_providers(config, os.environ, client),
            store=store,
            presenter=presenter,
            # The terminal has no guild and so no guild rules: only the operator's model.
            screening=Screening(
                model=ModelCheck.configured(
                    config.moderation, build_moderation_model(config, os.environ, client)
                )
            ),
        )
        with logs_beside(presenter):
            session = await run_console(run, presenter, is_interactive=sys.stdin.isatty())
        markdown = render_markdown(await store.session_record(session.id))
    return session.status is SessionStatus.FINISHED, markdown


def _export(args: argparse.Namespace, settings: Settings) -> int:
    if args.with_votes and args.format != "json":
        raise UserFacingError("--with-votes needs --format json: a transcript has no voters.")
    text = asyncio.run(
        _export_text(settings.store_location, args.session, args.format, with_votes=args.with_votes)
    )
    if args.output is None:
        # Bytes, so that a transcript's emoji survive a terminal with a non-UTF-8 locale.
        sys.stdout.buffer.write(text.encode())
        sys.stdout.flush()
        return EXIT_OK
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"Council #{args.session} written to {args.output}")
    return EXIT_OK


async def _export_text(db: Path | str, session_id: int, format: str, *, with_votes: bool) -> str:
    """The stored session as Markdown, JSON (with who voted what, if asked) or an HTML page.

    The database is only read: never created, migrated or written.

    Raises:
        UserFacingError: there is no such session, or the database can't be read.
    """
    from bot.database_url import redact
    from bot.databases import open_store_read_only
    from bot.render.export import export_json
    from bot.render.html import render_html
    from bot.render.transcript import render_markdown

    async with open_store_read_only(db) as store:
        if await store.get_session(session_id) is None:
            raise UserFacingError(f"There is no council #{session_id} in {redact(str(db))}.")
        record = await store.session_record(session_id)
        if format == "md":
            return render_markdown(record)
        if format == "html":
            return render_html(record)
        return export_json(record, await store.votes(session_id) if with_votes else None)


def _audit(args: argparse.Namespace, settings: Settings) -> int:
    guild_id = _number(args.guild, "--guild", "a server id")
    user_id = _number(args.member, "--member", "a user id")
    limit = _number(args.limit, "--limit", "a count") or AUDIT_LIMIT
    from bot.databases import open_store_read_only

    async def entries() -> list[AuditEntry]:
        async with open_store_read_only(settings.store_location) as store:
            return await store.audit_log(guild_id, limit, user_id=user_id, action=args.action)

    found = asyncio.run(entries())
    text = format_audit(found) if found else "No recorded actions match."
    # Bytes, as in export: a persona's or council's name may hold emoji the locale can't encode.
    sys.stdout.buffer.write(f"{text}\n".encode())
    sys.stdout.flush()
    return EXIT_OK


def _halt(args: argparse.Namespace, settings: Settings) -> int:
    from bot.council.spec import clean_text
    from bot.databases import open_existing_store
    from bot.halts import REASON_MAX_CHARS, record_halt

    guild_id = _required_number(args.guild, "--guild", "a server id")
    reason = " ".join(clean_text(args.reason).split())
    if len(reason) > REASON_MAX_CHARS:
        raise UserFacingError(f"--reason must be at most {REASON_MAX_CHARS} characters.")

    async def halt() -> None:
        async with open_existing_store(settings.store_location) as store:
            await record_halt(store, guild_id, reason, user_id=None)

    asyncio.run(halt())
    print(
        f"Halted every council in server {guild_id}: a running bot stops them within a few "
        f"seconds, and none starts until `council-bot resume-all --guild {guild_id}`."
    )
    return EXIT_OK


def _resume_all(args: argparse.Namespace, settings: Settings) -> int:
    guild_id = _required_number(args.guild, "--guild", "a server id")
    from bot.databases import open_existing_store
    from bot.halts import lift_halt

    async def lift() -> bool:
        async with open_existing_store(settings.store_location) as store:
            return await lift_halt(store, guild_id, user_id=None) is not None

    if not asyncio.run(lift()):
        raise UserFacingError(f"Server {guild_id} is not halted: there is nothing to resume.")
    print(f"Councils may start in server {guild_id} again.")
    return EXIT_OK


def _eval(args: argparse.Namespace, settings: Settings) -> int:
    from bot.council.challenge import load_questions
    from bot.council.challenge_run import contenders_for, run_challenge
    from bot.providers.registry import build_providers, connections_for, new_http_client
    from bot.render.challenge import ChallengeReport, question_line, render_report, summary_lines

    report_path: Path | None = args.report
    if report_path is not None and report_path.suffix.lower() not in (".json", ".md"):
        raise UserFacingError(f"--report must name a .json or .md file, not {str(report_path)!r}.")
    questions = load_questions(args.set, args.count)
    config = _load(settings)

    def say(line: str) -> None:
        # Bytes, as in export: a reply quoted back may hold what the locale can't encode.
        sys.stdout.buffer.write(f"{line}\n".encode())
        sys.stdout.flush()

    async def evaluate() -> ChallengeReport:
        async with new_http_client(connections_for(config)) as client:
            contenders = contenders_for(
                config, build_providers(config, os.environ, client), args.preset
            )
            names = tuple(c.name for c in contenders)

            async def heard(number: int, result: QuestionResult) -> None:
                say(question_line(number, result, names))

            results = await run_challenge(questions, contenders, on_result=heard)
        return ChallengeReport(args.set, args.preset or "default", names, tuple(results))

    try:
        report = asyncio.run(evaluate())
    except UnseatedError as exc:
        for problem in exc.problems:
            print(f"council-bot: {problem.operator_line()}", file=sys.stderr)
        return EXIT_USAGE
    for line in summary_lines(report):
        say(line)
    if report_path is not None:
        report_path.parent.mkdir(parents=True, exist_ok=True)
        report_path.write_text(render_report(report, report_path.suffix), encoding="utf-8")
        say(f"Report written to {report_path}")
    return EXIT_OK


def _required_number(text: str, option: str, what: str) -> int:
    """`_number` for an option argparse already requires."""
    number = _number(text, option, what)
    if number is None:  # argparse requires the option, so this can't be reached
        raise UserFacingError(f"{option} is required.")
    return number


def _number(text: str | None, option: str, what: str) -> int | None:
    """`text` as a whole number above 0 that SQLite can hold, or None if the option was not given.

    Raises:
        UserFacingError: it is not one.
    """
    if text is None:
        return None
    # SQLite's integers are 64-bit signed; a bigger one could only fail, and not in one line.
    if not re.fullmatch(r"[0-9]{1,19}", text) or not 1 <= int(text) <= SQLITE_INT_MAX:
        raise UserFacingError(f"{option} must be {what}, a whole number above 0, not {text!r}.")
    return int(text)


def format_audit(entries: Sequence[AuditEntry]) -> str:
    """A plain-text table of audit entries: time (UTC), server, member, action, council, detail."""
    header = ("time (UTC)", "server", "member", "action", "council", "detail")
    rows = [
        (
            e.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
            "-" if e.guild_id is None else str(e.guild_id),
            "automatic" if e.user_id is None else str(e.user_id),
            e.action,
            "-" if e.session_id is None else f"#{e.session_id}",
            # One entry, one line: a detail's own line breaks would tear the table.
            " ".join(e.detail.split()),
        )
        for e in entries
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(5)]
    return "\n".join(
        "  ".join([*(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)), row[5]]).rstrip()
        for row in (header, *rows)
    )


if __name__ == "__main__":
    sys.exit(main())
