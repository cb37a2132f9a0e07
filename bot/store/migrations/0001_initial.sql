-- 0001: the initial schema.
--
-- Migrations are append-only: never edit a released file, add 0002_<name>.sql instead. Each file
-- runs inside one transaction opened by the runner (bot/store/migrate.py), so a file must not
-- contain BEGIN/COMMIT. Foreign keys are off while a migration runs (SQLite's recommended way to
-- rebuild tables) and checked with PRAGMA foreign_key_check before the commit.
--
-- Times are ISO 8601 text in UTC with microseconds ("2025-01-31T12:00:00.000000+00:00"), so
-- they sort and compare as text. Discord ids (snowflakes) fit SQLite's 64-bit INTEGER.
-- Enum-like columns (format, status, kind) carry no CHECK: SQLite can only change a CHECK by
-- rebuilding the table, and the models validate every value on the way out.
-- AUTOINCREMENT keeps ids from ever being reused: persistent buttons carry reply ids.

CREATE TABLE sessions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id           INTEGER,
    channel_id         INTEGER,
    thread_id          INTEGER,
    host_id            INTEGER,
    topic              TEXT    NOT NULL,
    format             TEXT    NOT NULL,
    rounds             INTEGER NOT NULL,
    preset             TEXT,
    chair              TEXT,
    language           TEXT    NOT NULL,
    is_blind           INTEGER NOT NULL DEFAULT 0 CHECK (is_blind IN (0, 1)),
    budget_tokens      INTEGER,
    budget_usd         REAL,
    status             TEXT    NOT NULL,
    started_at         TEXT    NOT NULL,
    ended_at           TEXT,
    stop_reason        TEXT,
    synthesis_json     TEXT,
    summary_message_id INTEGER
);

-- The rowid is implicitly the last column of every index, so these also serve ORDER BY id.
CREATE INDEX sessions_by_guild_status ON sessions (guild_id, status);
CREATE INDEX sessions_by_status ON sessions (status);
CREATE INDEX sessions_by_channel_status ON sessions (channel_id, status);
CREATE INDEX sessions_by_thread ON sessions (thread_id);

CREATE TABLE members (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    persona    TEXT    NOT NULL,
    model_key  TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    provider   TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    color      TEXT    NOT NULL,
    avatar_url TEXT,
    alias      TEXT,
    PRIMARY KEY (session_id, position),
    -- Replies name their speaker by persona, so a persona sits at most once per session.
    UNIQUE (session_id, persona)
) WITHOUT ROWID;

CREATE TABLE rounds (
    session_id       INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    number           INTEGER NOT NULL,
    question         TEXT,
    started_at       TEXT    NOT NULL,
    finished_at      TEXT,
    first_message_id INTEGER,
    PRIMARY KEY (session_id, number)
) WITHOUT ROWID;

CREATE TABLE replies (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id       INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    round_number     INTEGER NOT NULL,
    persona          TEXT    NOT NULL,
    kind             TEXT    NOT NULL,
    status           TEXT    NOT NULL,
    text             TEXT    NOT NULL,
    error_kind       TEXT,
    error_message    TEXT,
    input_tokens     INTEGER NOT NULL DEFAULT 0,
    output_tokens    INTEGER NOT NULL DEFAULT 0,
    tokens_estimated INTEGER NOT NULL DEFAULT 0 CHECK (tokens_estimated IN (0, 1)),
    cost_usd         REAL    NOT NULL DEFAULT 0,
    latency_s        REAL,
    first_token_s    REAL,
    created_at       TEXT    NOT NULL,
    is_flagged       INTEGER NOT NULL DEFAULT 0 CHECK (is_flagged IN (0, 1))
);

CREATE INDEX replies_by_session_round ON replies (session_id, round_number);

-- A long reply is split over several Discord messages; position orders them.
CREATE TABLE reply_messages (
    reply_id   INTEGER NOT NULL REFERENCES replies (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    message_id INTEGER NOT NULL UNIQUE,
    PRIMARY KEY (reply_id, position)
) WITHOUT ROWID;

-- One current vote per user per reply; the primary key also serves lookups by reply.
CREATE TABLE votes (
    reply_id   INTEGER NOT NULL REFERENCES replies (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,
    value      TEXT    NOT NULL CHECK (value IN ('up', 'down')),
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (reply_id, user_id)
) WITHOUT ROWID;

CREATE TABLE audience_questions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id        INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    user_id           INTEGER,
    display_name      TEXT    NOT NULL,
    text              TEXT    NOT NULL,
    asked_at          TEXT    NOT NULL,
    answered_in_round INTEGER
);

CREATE INDEX audience_questions_by_session ON audience_questions (session_id, answered_in_round);

-- The settings are one JSON object validated by GuildSettings, so adding a setting needs no
-- migration; guild_id lives only in the key column.
CREATE TABLE guild_settings (
    guild_id      INTEGER PRIMARY KEY,
    settings_json TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL
);

CREATE TABLE persona_overrides (
    guild_id     INTEGER NOT NULL,
    persona      TEXT    NOT NULL,
    display_name TEXT,
    avatar_url   TEXT,
    color        TEXT,
    style        TEXT,
    updated_by   INTEGER,
    updated_at   TEXT    NOT NULL,
    PRIMARY KEY (guild_id, persona)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER,
    user_id    INTEGER,
    action     TEXT    NOT NULL,
    session_id INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    at         TEXT    NOT NULL
);

CREATE INDEX audit_log_by_guild ON audit_log (guild_id);
-- SQLite scans a child table on every parent delete unless its foreign key is indexed.
CREATE INDEX audit_log_by_session ON audit_log (session_id);
