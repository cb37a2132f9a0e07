-- PostgreSQL twin of ../0005_council_language.sql.
ALTER TABLE councils ADD COLUMN language TEXT NOT NULL DEFAULT '';
