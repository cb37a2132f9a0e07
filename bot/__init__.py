"""Council: a Discord bot that hosts live AI councils."""

__version__ = "0.1.0"
