-- Challenge mode (issue 17). Question sets a server's admins upload, kept canonical as JSON
-- ([{"question", "answer", "choices"?}]); a name is unique within its server.
CREATE TABLE challenge_sets (
    guild_id       INTEGER NOT NULL,
    name           TEXT    NOT NULL,
    questions      TEXT    NOT NULL,
    question_count INTEGER NOT NULL,
    uploaded_by    INTEGER NOT NULL,
    uploaded_at    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, name)
);

-- A challenge run in a channel, with a copy of the questions it asks, so that one a restart
-- interrupted carries on (ended_at NULL) even if its set was removed meanwhile.
CREATE TABLE challenges (
    id         INTEGER PRIMARY KEY,
    guild_id   INTEGER NOT NULL,
    channel_id INTEGER NOT NULL,
    user_id    INTEGER NOT NULL,
    set_name   TEXT    NOT NULL,
    preset     TEXT,
    locale     TEXT,
    questions  TEXT    NOT NULL,
    started_at TEXT    NOT NULL,
    ended_at   TEXT
);

CREATE INDEX challenges_unfinished ON challenges (ended_at, id);

-- Each question once posted (its message carries the prediction buttons) and, once revealed,
-- the members' answers alone and after debate (JSON); predictions close at the reveal.
CREATE TABLE challenge_questions (
    challenge_id INTEGER NOT NULL REFERENCES challenges (id) ON DELETE CASCADE,
    number       INTEGER NOT NULL,
    message_id   INTEGER NOT NULL,
    result       TEXT,
    revealed_at  TEXT,
    PRIMARY KEY (challenge_id, number)
);

-- The audience's predictions: one per member per question, changeable until the reveal.
CREATE TABLE challenge_predictions (
    challenge_id INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    user_id      INTEGER NOT NULL,
    prediction   TEXT    NOT NULL CHECK (prediction IN ('right', 'wrong')),
    made_at      TEXT    NOT NULL,
    PRIMARY KEY (challenge_id, number, user_id),
    FOREIGN KEY (challenge_id, number)
        REFERENCES challenge_questions (challenge_id, number) ON DELETE CASCADE
);
