-- How many data rows the reader found shorter or longer than the header,
-- and how many rows (the header included) had broken quoting it repaired.
-- NULL for files stored before they were counted: those are read by the
-- rules they were profiled with.
ALTER TABLE files ADD COLUMN short_rows BIGINT;
ALTER TABLE files ADD COLUMN long_rows BIGINT;
ALTER TABLE files ADD COLUMN repaired_rows BIGINT;
