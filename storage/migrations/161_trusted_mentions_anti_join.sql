-- trusted_mentions (migration 021) as an anti join on the excluded flags: the same rows (a mention
-- without a flag, or with excluded FALSE, counts), but the engine now reads only the flags that
-- exclude (a few thousand) instead of joining every mention's flag row to every read: each read of
-- the view scanned the whole mention_flags table (all 9.95M rows at 10M mentions), however narrow
-- its window.
CREATE OR REPLACE VIEW trusted_mentions AS
SELECT m.* FROM mentions m
WHERE NOT EXISTS (
    SELECT 1 FROM mention_flags f WHERE f.source = m.source AND f.native_id = m.native_id AND f.excluded
);
