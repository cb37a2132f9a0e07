"""A local fake Discord that the real discord.py client connects to, for end-to-end tests.

`FakeDiscord` serves REST and the gateway on loopback; `Driver` acts as the users; the
`fixtures` module provides pytest fixtures (`fake_discord`, `discord_driver`).
"""

from tests.fakediscord.client import point_discord_py_at, pointed_at
from tests.fakediscord.driver import Driver, InteractionHandle, Upload
from tests.fakediscord.reader import DriverError, SeenButton, SeenMessage
from tests.fakediscord.rules import Kind
from tests.fakediscord.server import FakeDiscord, Violation, WireEntry
from tests.fakediscord.state import ChannelType, Overwrite, Perm

__all__ = [
    "ChannelType",
    "Driver",
    "DriverError",
    "FakeDiscord",
    "InteractionHandle",
    "Kind",
    "Overwrite",
    "Perm",
    "SeenButton",
    "SeenMessage",
    "Upload",
    "Violation",
    "WireEntry",
    "point_discord_py_at",
    "pointed_at",
]
