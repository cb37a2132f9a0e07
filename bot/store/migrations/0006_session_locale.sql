-- The locale of the bot's own words in a council (its headers, notes and summary), decided
-- when it starts; '' shows them in English, as sessions stored before this column did.
ALTER TABLE sessions ADD COLUMN locale TEXT NOT NULL DEFAULT '';
