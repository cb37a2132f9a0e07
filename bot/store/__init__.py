"""The embedded SQLite store: the one place SQL lives."""

from bot.store.errors import (
    MigrationError,
    QuestionLimitError,
    RecordNotFoundError,
    SchemaTooNewError,
    SchemaTooOldError,
    StoreError,
)
from bot.store.migrate import Migration, bundled_migrations, load_migrations
from bot.store.sessions import INTERRUPTED_REASON
from bot.store.store import Store

__all__ = [
    "INTERRUPTED_REASON",
    "Migration",
    "MigrationError",
    "QuestionLimitError",
    "RecordNotFoundError",
    "SchemaTooNewError",
    "SchemaTooOldError",
    "Store",
    "StoreError",
    "bundled_migrations",
    "load_migrations",
]
