-- Each scoring batch appends a row here instead of adding one to duplicate_watermark.scored
-- (which stays as the count before this migration). On a lake several workers score at once,
-- and their updates of that one row conflicted: both delete the same row, so one of them had
-- its whole batch rolled back. Appends from several workers never conflict. The scoring
-- watermark is duplicate_watermark.scored plus the rows here (storage.sentiment.marking_owed).
CREATE TABLE scored_batches (scored_at TIMESTAMP NOT NULL);
