-- The host steers (issue 17): who speaks when in a sequential council, and whether it ends
-- itself when the members' positions hold for a whole round; kept so a resumed council keeps
-- them.
ALTER TABLE sessions ADD COLUMN speaking_order TEXT NOT NULL DEFAULT 'rotating';
ALTER TABLE sessions ADD COLUMN end_on_agreement INTEGER NOT NULL DEFAULT 0;
