-- Version 4: no bloat in a long run (issue 16 #5). The claim reads only the partial index
-- jobs_ready (schema.sql: WHERE state IN ('waiting', 'scheduled')), so finished, failed and
-- running rows are never in the index a claim walks, however many there are. What a long run
-- can still pile up is dead versions: each claim and each settlement writes a new row version
-- and leaves the old one (and its entry in jobs_ready) for VACUUM. So:
--   * autovacuum visits jobs after 1% of its rows changed (plus 500), not PostgreSQL's
--     default 20%, with no cost delay: a queue of a million finished jobs would otherwise go
--     200,000 claims between visits, each claim stepping over the dead entries meanwhile;
--   * fillfactor 85 keeps room on each page, so the updates that change no indexed column
--     (touch, progress, steering) are HOT: no new index entry at all;
--   * jobs_leases, a partial index of running jobs by lease expiry, lets the rescue probe run
--     by every worker find an expired lease without reading every running job.
ALTER TABLE jobs SET (
    fillfactor = 85,
    autovacuum_vacuum_scale_factor = 0.01,
    autovacuum_vacuum_threshold = 500,
    autovacuum_vacuum_insert_scale_factor = 0.01,
    autovacuum_analyze_scale_factor = 0.02,
    autovacuum_vacuum_cost_delay = 0
);

CREATE INDEX IF NOT EXISTS jobs_leases ON jobs (lease_expires_at) WHERE state = 'running';
