-- PostgreSQL twin of ../0008_oversight.sql.
ALTER TABLE councils ADD COLUMN charter TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN charter TEXT NOT NULL DEFAULT '';

ALTER TABLE sessions ADD COLUMN muted_json TEXT NOT NULL DEFAULT '[]';

CREATE TABLE guild_halts (
    guild_id  BIGINT PRIMARY KEY,
    reason    TEXT   NOT NULL DEFAULT '',
    halted_by BIGINT,
    by_name   TEXT   NOT NULL DEFAULT '',
    halted_at TEXT   NOT NULL
);

CREATE INDEX sessions_by_host ON sessions (host_id, guild_id, started_at);
