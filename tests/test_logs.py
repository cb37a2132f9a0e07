"""Logging set-up and the console's log lines: what is shown at which level, colour only where
it is wanted, and never a log line inside a persona's streaming reply."""

from __future__ import annotations

import io
import logging
import sys
from collections.abc import Callable

import pytest

from bot.__main__ import configure_logging
from bot.console import ConsolePresenter, LineSafeHandler, logs_beside
from bot.council.events import MemberStarted, TextDelta, TurnKey
from bot.council.models import ReplyKind
from bot.logs import LogFormatter, wants_color


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def configure(monkeypatch) -> Callable[..., Terminal]:
    """`configure_logging` on an unconfigured root logger, logging to a terminal it returns;
    NO_COLOR is unset unless the test sets it."""
    monkeypatch.delenv("NO_COLOR", raising=False)

    def configure(level: str, *, verbose: bool = False) -> Terminal:
        # Here, not in the fixture: pytest sets its own stderr and logging handlers after
        # fixtures run.
        terminal = Terminal()
        monkeypatch.setattr(sys, "stderr", terminal)
        root = logging.getLogger()
        monkeypatch.setattr(root, "handlers", [])
        monkeypatch.setattr(root, "level", root.level)
        for name in ("discord.http", "discord.webhook"):
            monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
        configure_logging(level, verbose=verbose)
        return terminal

    return configure


def _log_samples() -> None:
    logging.getLogger("bot.providers.base").info("own info")
    logging.getLogger("cogs.council").warning("own warning")
    logging.getLogger("httpx").info('HTTP Request: POST http://x/v1 "HTTP/1.1 200 OK"')
    logging.getLogger("discord.client").warning("PyNaCl is not installed")
    logging.getLogger("discord.gateway").info("Shard ID None has connected to Gateway")
    try:
        raise ConnectionError("Cannot connect to host discord.com:443")
    except ConnectionError:
        logging.getLogger("discord.client").exception("Attempting a reconnect in 1.50s")


def test_wants_color_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert wants_color(Terminal())
    assert not wants_color(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_color(Terminal())
    # no-color.org: set and not empty. An empty NO_COLOR leaves colour on.
    monkeypatch.setenv("NO_COLOR", "")
    assert wants_color(Terminal())


def test_log_lines_are_coloured_on_a_terminal(configure):
    stderr = configure("INFO")
    logging.getLogger("bot.x").warning("careful")
    assert "\x1b[33mWARNING\x1b[0m bot.x: careful" in stderr.getvalue()


def test_no_color_keeps_escape_codes_out_of_the_log_even_on_a_terminal(configure, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    stderr = configure("INFO")
    logging.getLogger("bot.x").warning("careful")
    logging.getLogger("bot.x").error("broken")
    assert "WARNING bot.x: careful" in stderr.getvalue()
    assert "\x1b" not in stderr.getvalue()


def test_the_formatter_pads_the_level_alike_with_and_without_colour():
    record = logging.makeLogRecord({"name": "bot.x", "levelno": 20, "levelname": "INFO"})
    record.msg = "hello"
    plain = LogFormatter(use_color=False, brief_library_errors=False).format(record)
    painted = LogFormatter(use_color=True, brief_library_errors=False).format(record)
    assert plain.endswith(" INFO    bot.x: hello")
    assert painted == plain  # INFO is not coloured
    record.levelno, record.levelname = logging.ERROR, "ERROR"
    painted = LogFormatter(use_color=True, brief_library_errors=False).format(record)
    assert painted.endswith(" \x1b[31mERROR  \x1b[0m bot.x: hello")
    assert record.levelname == "ERROR"  # other handlers see the record unchanged


def test_the_default_level_shows_the_bots_own_lines_and_library_errors_in_one_line(configure):
    stderr = configure("INFO")
    _log_samples()
    text = stderr.getvalue()

    assert "bot.providers.base: own info" in text
    assert "cogs.council: own warning" in text
    assert "httpx" not in text
    assert "PyNaCl" not in text
    assert "Gateway" not in text
    # A library's error is shown, with its exception in one line and no traceback.
    assert (
        "discord.client: Attempting a reconnect in 1.50s "
        "(ConnectionError: Cannot connect to host discord.com:443)\n"
    ) in text
    assert "Traceback" not in text


@pytest.mark.parametrize(
    ("level", "verbose"), [("INFO", True), ("WARNING", True), ("DEBUG", False), ("debug", False)]
)
def test_verbose_or_debug_shows_every_librarys_lines_and_tracebacks(configure, level, verbose):
    stderr = configure(level, verbose=verbose)
    _log_samples()
    text = stderr.getvalue()

    assert "bot.providers.base: own info" in text
    assert 'httpx: HTTP Request: POST http://x/v1 "HTTP/1.1 200 OK"' in text
    assert "discord.client: PyNaCl is not installed" in text
    assert "discord.gateway: Shard ID None has connected to Gateway" in text
    assert "Traceback" in text
    # discord.py's DEBUG lines carry webhook tokens: never shown, even now.
    assert logging.getLogger("discord.webhook.async_").getEffectiveLevel() == logging.INFO


def test_a_higher_level_drops_the_bots_info_lines(configure):
    stderr = configure("WARNING")
    _log_samples()
    text = stderr.getvalue()
    assert "own info" not in text
    assert "own warning" in text
    assert "httpx" not in text


def _streaming(out: io.StringIO) -> tuple[ConsolePresenter, TurnKey]:
    return ConsolePresenter(out=out, use_color=False), TurnKey(1, "Orca", ReplyKind.ANSWER)


def _plain_log(out: io.StringIO) -> logging.Handler:
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("LOG %(message)s"))
    return handler


async def test_a_record_logged_mid_reply_is_written_after_the_streaming_line_ends():
    out = io.StringIO()
    presenter, turn = _streaming(out)
    logger = logging.getLogger("bot.test_logs.mid_reply")
    logger.propagate = False
    logger.addHandler(LineSafeHandler(presenter, _plain_log(out)))
    try:
        await presenter.handle(MemberStarted(turn, "Orca"))
        await presenter.handle(TextDelta(turn, "Cities should"))
        logger.warning("Heron failed")
        logger.warning("retrying")
        await presenter.handle(TextDelta(turn, "Cities should start small."))
    finally:
        logger.handlers.clear()
        logger.propagate = True

    assert out.getvalue() == (
        "\nOrca: Cities should\nLOG Heron failed\nLOG retrying\nOrca:  start small."
    )


async def test_a_record_logged_between_replies_is_written_as_it_is():
    out = io.StringIO()
    presenter, _ = _streaming(out)
    handler = LineSafeHandler(presenter, _plain_log(out))
    handler.handle(logging.makeLogRecord({"msg": "store open"}))
    assert out.getvalue() == "LOG store open\n"


async def test_a_record_its_handler_filters_out_does_not_cut_the_line():
    out = io.StringIO()
    presenter, turn = _streaming(out)
    inner = _plain_log(out)
    inner.addFilter(lambda record: record.name.startswith("bot"))
    handler = LineSafeHandler(presenter, inner)
    await presenter.handle(MemberStarted(turn, "Orca"))
    await presenter.handle(TextDelta(turn, "Cities"))
    handler.handle(logging.makeLogRecord({"name": "httpx", "msg": "HTTP Request"}))
    await presenter.handle(TextDelta(turn, "Cities should."))
    assert out.getvalue() == "\nOrca: Cities should."


def test_logs_beside_wraps_only_the_handlers_writing_to_the_presenters_file(tmp_path):
    logger = logging.getLogger("tests.test_logs.beside")
    with (tmp_path / "out").open("w") as out, (tmp_path / "other").open("w") as other:
        same, elsewhere = logging.StreamHandler(out), logging.StreamHandler(other)
        logger.handlers = [same, elsewhere]
        presenter = ConsolePresenter(out=out, use_color=False)
        try:
            with logs_beside(presenter, logger):
                assert elsewhere in logger.handlers
                assert same not in logger.handlers
                [beside] = [h for h in logger.handlers if isinstance(h, LineSafeHandler)]
                assert beside.inner is same
            assert set(logger.handlers) == {same, elsewhere}
        finally:
            logger.handlers = []
