-- Where each member stands after each round, as it stated it in its reply's footer.
CREATE TABLE stances (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id     INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    round_number   INTEGER NOT NULL,
    persona        TEXT    NOT NULL,
    label          TEXT    NOT NULL,
    claim          TEXT    NOT NULL DEFAULT '',
    confidence     REAL,
    is_changed     INTEGER NOT NULL DEFAULT 0 CHECK (is_changed IN (0, 1)),
    previous_label TEXT,
    reason         TEXT,
    UNIQUE (session_id, round_number, persona)
);

CREATE INDEX stances_by_persona ON stances (persona, is_changed);
