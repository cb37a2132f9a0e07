-- Moderation of what the personas post: each reply's verdict, and each guild's rules.
-- A withheld reply keeps status 'withheld' (its text stays for hosts to review) until a host
-- releases it; `moderation` then says 'released'.
ALTER TABLE replies ADD COLUMN moderation TEXT NOT NULL DEFAULT 'allowed'
    CHECK (moderation IN ('allowed', 'withheld', 'spoiler', 'released'));
ALTER TABLE replies ADD COLUMN moderation_category TEXT;
ALTER TABLE replies ADD COLUMN moderation_source TEXT;
ALTER TABLE replies ADD COLUMN moderation_rule TEXT;

-- Hosts list a council's withheld replies, moderators a whole server's: few rows, kept apart.
CREATE INDEX replies_withheld ON replies (session_id) WHERE status = 'withheld';

-- A guild's blocked keywords (AutoMod's wildcards) and regular expressions.
CREATE TABLE moderation_rules (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('keyword', 'regex')),
    pattern    TEXT    NOT NULL,
    action     TEXT    NOT NULL CHECK (action IN ('withhold', 'spoiler')),
    category   TEXT,
    created_by INTEGER,
    created_at TEXT    NOT NULL,
    UNIQUE (guild_id, kind, pattern)
);

-- Keywords that exempt the text they cover from the guild's rules (AutoMod's allow_list).
CREATE TABLE moderation_allowed (
    guild_id   INTEGER NOT NULL,
    keyword    TEXT    NOT NULL,
    created_by INTEGER,
    created_at TEXT    NOT NULL,
    PRIMARY KEY (guild_id, keyword)
) WITHOUT ROWID;
