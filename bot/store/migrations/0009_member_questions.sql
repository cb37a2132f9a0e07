-- Questions members put to each other (from their replies' `ask:` footers, or their text),
-- and which reply answered each; a question never answered keeps answered_in_round NULL.
CREATE TABLE member_questions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id        INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    asker             TEXT    NOT NULL,
    addressee         TEXT    NOT NULL,
    text              TEXT    NOT NULL,
    round_asked       INTEGER NOT NULL,
    asked_in_reply    INTEGER REFERENCES replies (id) ON DELETE SET NULL,
    answered_in_round INTEGER,
    answer_reply_id   INTEGER REFERENCES replies (id) ON DELETE SET NULL
);

CREATE INDEX member_questions_by_session ON member_questions (session_id, id);

-- An audience question put to one member (its persona); NULL: to the whole council.
ALTER TABLE audience_questions ADD COLUMN addressee TEXT;
