-- PostgreSQL twin of ../0013_council_leases.sql.
-- Which process runs a council, until when (UTC ISO text, as every time column); a process
-- takes an expired lease over with one INSERT ... ON CONFLICT DO UPDATE ... WHERE.
CREATE TABLE council_leases (
    session_id BIGINT PRIMARY KEY,
    owner TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
