"""What the store raises on purpose: its own errors, and one for broken constraints on either
database."""

from __future__ import annotations

from bot.errors import CouncilError, UserFacingError
from bot.i18n import tn


class StoreError(CouncilError):
    """Base of the store's own errors."""


class RecordNotFoundError(StoreError, LookupError):
    """A method was asked to change or use a record that does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"no {kind} {key} in the store")
        self.kind = kind
        self.key = key


class QuestionLimitError(StoreError, UserFacingError):
    """A member asked a council more questions than may wait for it at once."""

    def __init__(self, session_id: int, limit: int) -> None:
        super().__init__(tn("replies.ask.too-many-waiting", limit, session=session_id))
        self.session_id = session_id
        self.limit = limit


class QuestionQuotaError(StoreError, UserFacingError):
    """A member asked one council as many questions as the guild allows each member."""

    def __init__(self, session_id: int, limit: int) -> None:
        super().__init__(tn("replies.ask.council-limit", limit, session=session_id))
        self.session_id = session_id
        self.limit = limit


class MigrationError(StoreError):
    """A migration file is malformed or failed to apply; the database was left unchanged by it."""


class SchemaTooNewError(StoreError, UserFacingError):
    """The database was written by a newer Council than this one; refusing to touch it."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"The database {path} has schema version {found}, but this version of Council only "
            f"knows schema versions up to {known}. Upgrade Council, or point COUNCIL_DB (or "
            "DATABASE_URL) at another database; the database was not changed."
        )
        self.found = found
        self.known = known


class SchemaTooOldError(StoreError, UserFacingError):
    """A read-only tool found a database this Council has not migrated yet; it won't migrate."""

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"The database {path} has schema version {found}, older than this Council's "
            f"{known}: run `council-bot run` once to upgrade it. The database was not changed."
        )
        self.found = found
        self.known = known


class ConstraintError(StoreError):
    """A write broke a constraint of the schema: a missing parent (foreign key), a taken
    unique value, or a value a check refuses. Nothing of the write was kept."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind} constraint failed: {detail}")
        self.kind = kind


class ShardsTakenError(StoreError):
    """Another process already runs (part of) what this one claims in a shared database.

    `shard` is a shard it runs; `shard_count` the other count of shards it runs the bot with;
    neither: one of the two runs the whole bot, unsharded.
    """

    def __init__(self, *, shard: int | None = None, shard_count: int | None = None) -> None:
        if shard is not None:
            said = f"another process runs shard {shard}"
        elif shard_count is not None:
            said = f"another process runs the bot in {shard_count} shards"
        else:
            said = "another process runs the whole bot, or this one would"
        super().__init__(said)
        self.shard = shard
        self.shard_count = shard_count


class ClaimLostError(ShardsTakenError):
    """The connection holding this process's claim was lost (the server restarted, the network
    cut it) and the claim could not be taken again: another process took one of its shards in
    the meantime (`shard`, `shard_count` as for `ShardsTakenError`), or the database stayed
    out of reach (`is_unreachable`)."""

    def __init__(
        self,
        *,
        shard: int | None = None,
        shard_count: int | None = None,
        is_unreachable: bool = False,
    ) -> None:
        super().__init__(shard=shard, shard_count=shard_count)
        self.is_unreachable = is_unreachable
