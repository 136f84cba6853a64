-- The retention sweep (CALLPARK_RETENTION_DAYS) forgets, a small batch at a time, the callers
-- of the calls that ended before its window, the lot events and the calls with their agents'
-- legs. Each batch reads its rows in the order of an index, so that a sweep with nothing to
-- forget costs a few index pages, and one that has a backlog never scans what it already
-- forgot: the anonymised calls leave the partial index.
CREATE INDEX parked_calls_to_forget ON parked_calls (ended_at)
    WHERE caller_number IS NOT NULL OR caller_name IS NOT NULL OR recording_url IS NOT NULL;
CREATE INDEX calls_to_forget ON calls (recorded_at);
