-- A guild's daily spend sums the replies made in the last 24 hours, whenever their sessions
-- started: this index reads only those replies instead of the guild's whole history.
CREATE INDEX replies_by_created_at ON replies (created_at);
