-- Permanent councils: a guild's named line-ups, whose sessions remember each other.
CREATE TABLE councils (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id          INTEGER NOT NULL,
    name              TEXT    NOT NULL COLLATE NOCASE,
    preset            TEXT,
    members_json      TEXT    NOT NULL DEFAULT '[]',
    chair             TEXT,
    format            TEXT,
    rounds            INTEGER,
    memory_sessions   INTEGER NOT NULL DEFAULT 3,
    created_by        INTEGER,
    created_at        TEXT    NOT NULL,
    memory_cleared_at TEXT,
    UNIQUE (guild_id, name)
);

ALTER TABLE sessions ADD COLUMN council_id INTEGER REFERENCES councils (id) ON DELETE SET NULL;

CREATE INDEX sessions_by_council ON sessions (council_id, id);
