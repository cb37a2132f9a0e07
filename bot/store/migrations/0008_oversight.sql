-- Human oversight of councils (issue 16).
-- A permanent council's charter, copied onto each session it convenes so that exports show
-- the rules the session ran under; '' for none.
ALTER TABLE councils ADD COLUMN charter TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN charter TEXT NOT NULL DEFAULT '';

-- The members a host muted in a session, as a JSON list of persona names, kept so that a
-- resumed council (after a pause or a restart) still leaves them out.
ALTER TABLE sessions ADD COLUMN muted_json TEXT NOT NULL DEFAULT '[]';

-- Guilds whose councils are halted until a manager (or the operator) lifts the halt.
-- halted_by is NULL when the operator halted it from the shell.
CREATE TABLE guild_halts (
    guild_id  INTEGER PRIMARY KEY,
    reason    TEXT    NOT NULL DEFAULT '',
    halted_by INTEGER,
    by_name   TEXT    NOT NULL DEFAULT '',
    halted_at TEXT    NOT NULL
);

-- Councils a member started in a guild lately, for the per-member daily limit.
CREATE INDEX sessions_by_host ON sessions (host_id, guild_id, started_at);
