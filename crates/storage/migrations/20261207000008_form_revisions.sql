-- A draft version is edited in place; its revision counts the saves so that two editors of the
-- same draft cannot overwrite each other unnoticed (optimistic locking: ETag "version.revision").
ALTER TABLE form_versions ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
