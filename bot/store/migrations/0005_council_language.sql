-- A permanent council's language, as a locale code; '' lets its sessions answer in the
-- language of each topic, as councils saved before this column did.
ALTER TABLE councils ADD COLUMN language TEXT NOT NULL DEFAULT '';
