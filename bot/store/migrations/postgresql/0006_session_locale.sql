-- PostgreSQL twin of ../0006_session_locale.sql.
ALTER TABLE sessions ADD COLUMN locale TEXT NOT NULL DEFAULT '';
