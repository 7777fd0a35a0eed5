-- Items a source skipped because they did not fit its schema (collectors/items.py): how many
-- in each run and what was wrong with the first, and the same for a source's last run.
ALTER TABLE collect_runs ADD COLUMN item_errors INTEGER DEFAULT 0;
ALTER TABLE collect_runs ADD COLUMN item_error VARCHAR;
ALTER TABLE source_health ADD COLUMN last_item_errors INTEGER DEFAULT 0;
ALTER TABLE source_health ADD COLUMN last_item_error VARCHAR;
