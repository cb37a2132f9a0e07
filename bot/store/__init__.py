"""The store, on SQLite (embedded) or PostgreSQL (shared): the one place SQL lives."""

from bot.store.db import DRIVER_ERRORS, Dialect
from bot.store.errors import (
    ConstraintError,
    MigrationError,
    QuestionLimitError,
    RecordNotFoundError,
    SchemaTooNewError,
    SchemaTooOldError,
    ShardsTakenError,
    StoreError,
)
from bot.store.migrate import Migration, bundled_migrations, load_migrations
from bot.store.sessions import INTERRUPTED_REASON
from bot.store.store import Store

__all__ = [
    "DRIVER_ERRORS",
    "INTERRUPTED_REASON",
    "ConstraintError",
    "Dialect",
    "Migration",
    "MigrationError",
    "QuestionLimitError",
    "RecordNotFoundError",
    "SchemaTooNewError",
    "SchemaTooOldError",
    "ShardsTakenError",
    "Store",
    "StoreError",
    "bundled_migrations",
    "load_migrations",
]
