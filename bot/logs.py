"""What the log shows: the bot's own lines by default, every library's too at DEBUG.

Libraries log for their own developers: httpx a line per request, discord.py its gateway
chatter, rate-limit retries and the voice support Council never uses. An operator needs the
bot's lines and the libraries' errors; the rest waits for `--verbose` or `LOG_LEVEL=DEBUG`.
"""

from __future__ import annotations

import logging
import os
from typing import ClassVar, TextIO

# The bot's own loggers: everything under these packages.
OWN_PACKAGES = ("bot", "cogs")

RESET = "\x1b[0m"
DIM = "\x1b[2m"


def wants_color(stream: TextIO) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set to anything but ""."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def is_own(logger_name: str) -> bool:
    """Whether a logger is the bot's own rather than a library's."""
    return any(logger_name == p or logger_name.startswith(f"{p}.") for p in OWN_PACKAGES)


class OwnLinesOnly(logging.Filter):
    """Lets through the bot's own records and the libraries' errors, nothing else."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether `record` is shown."""
        return is_own(record.name) or record.levelno >= logging.ERROR


class LogFormatter(logging.Formatter):
    """`time level logger: message`, the level coloured on a terminal that wants colour.

    With `brief_library_errors`, a library's error shows its exception in one line instead
    of a traceback (discord.py logs every reconnect attempt with one); the traceback is
    for DEBUG.
    """

    COLORS: ClassVar[dict[int, str]] = {
        logging.DEBUG: DIM,
        logging.WARNING: "\x1b[33m",
        logging.ERROR: "\x1b[31m",
        logging.CRITICAL: "\x1b[1;31m",
    }

    def __init__(self, *, use_color: bool, brief_library_errors: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.use_color = use_color
        self.brief_library_errors = brief_library_errors

    def format(self, record: logging.LogRecord) -> str:
        """One record as text; the record itself is left as it was for other handlers."""
        shown = logging.makeLogRecord(record.__dict__)
        # Padded before painting, so the columns line up with or without colour.
        shown.levelname = f"{record.levelname:<7}"
        if self.use_color and (color := self.COLORS.get(record.levelno)):
            shown.levelname = f"{color}{shown.levelname}{RESET}"
        exc = record.exc_info[1] if record.exc_info else None
        if self.brief_library_errors and exc is not None and not is_own(record.name):
            shown.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
            shown.args = None
            shown.exc_info = None
            shown.exc_text = None
        return super().format(shown)


def stderr_handler(stream: TextIO, *, everything: bool) -> logging.Handler:
    """The handler every command logs through: to `stream`, all records or only the bot's."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        LogFormatter(use_color=wants_color(stream), brief_library_errors=not everything)
    )
    if not everything:
        handler.addFilter(OwnLinesOnly())
    return handler
