-- PostgreSQL twin of ../0012_question_messages.sql.
-- The Discord message that shows a question one member put to another (the asking reply's
-- last message, or a note right after it), so that an answer links back to it after a restart.
ALTER TABLE member_questions ADD COLUMN message_id BIGINT;
