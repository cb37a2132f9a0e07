-- PostgreSQL twin of ../0010_speaking_order.sql.
ALTER TABLE sessions ADD COLUMN speaking_order TEXT NOT NULL DEFAULT 'rotating';
ALTER TABLE sessions ADD COLUMN end_on_agreement SMALLINT NOT NULL DEFAULT 0;
