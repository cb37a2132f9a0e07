-- PostgreSQL twin of ../0004_replies_by_time.sql.
CREATE INDEX replies_by_created_at ON replies (created_at);
