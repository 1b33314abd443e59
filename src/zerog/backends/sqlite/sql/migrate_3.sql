-- Version 2 -> 3: dependencies, unique keys, debounce, recurring jobs, limits, config, statistics,
-- tracking and the retention index. Only new tables and indexes: the jobs table keeps its columns,
-- and documents written by version 2 read as if their new keys had their defaults (_rows). Idempotent
-- and run in one BEGIN IMMEDIATE transaction, like migrate_2.sql.

-- prune: finished jobs that retention may delete, by when they finished. Only the states prune
-- deletes are in it; failed jobs stay until an operator acts. Written with OR, not IN: SQLite
-- tests an IN list of more than two constants through a temporary table, built at every insert
-- and update of a job to decide whether the row belongs in this index.
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (finished_at, seq)
    WHERE state = 'complete' OR state = 'cancelled' OR state = 'expired';

-- Unique keys: the job (jobs.seq) holding each key while it is queued or running. A job's row
-- goes when it reaches a final state, so a key here is always held.
CREATE TABLE IF NOT EXISTS uniques (
    job INTEGER PRIMARY KEY,
    key TEXT    NOT NULL UNIQUE
);

-- Dependencies: job `job` waits (or waited) for job `on_job` (both jobs.seq); the record's
-- `depends` and `dependents` keep the same links by uuid, for readers. Keyed on `on_job`: a
-- settle asks "who waits for me?" in the same statement that checks the lease.
CREATE TABLE IF NOT EXISTS deps (
    on_job INTEGER NOT NULL,
    job    INTEGER NOT NULL,
    PRIMARY KEY (on_job, job)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS deps_by_job ON deps (job);

-- Debounce: what the store keeps per debounced call (see _common.debounce_plan), as JSON.
CREATE TABLE IF NOT EXISTS debounce (
    key TEXT PRIMARY KEY,
    doc TEXT NOT NULL
) WITHOUT ROWID;

-- Recurring jobs: `doc` is the recurrence (zerog.recurrence); queue and next_at are copies for
-- the reserve's lookup "does this queue owe a job now?". n keeps creation order.
CREATE TABLE IF NOT EXISTS recurring (
    n       INTEGER PRIMARY KEY,
    id      TEXT    NOT NULL UNIQUE,
    queue   TEXT    NOT NULL,
    next_at REAL    NOT NULL,
    doc     TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS recurring_due ON recurring (queue, next_at);

-- Concurrency limits: `queue:<name>` for a queue's own, any other name for a throttle.
CREATE TABLE IF NOT EXISTS limits (
    name    TEXT PRIMARY KEY,
    maximum INTEGER NOT NULL
) WITHOUT ROWID;

-- Shared config keys (zerog.config); value is JSON.
CREATE TABLE IF NOT EXISTS config (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Statistics per queue per UTC day (zerog.stats), as JSON.
CREATE TABLE IF NOT EXISTS stats (
    queue TEXT NOT NULL,
    day   REAL NOT NULL,
    doc   TEXT NOT NULL,
    PRIMARY KEY (queue, day)
) WITHOUT ROWID;

-- The list filters tracked= and recurrence=: only jobs that have the mark get a row.
CREATE TABLE IF NOT EXISTS tracked (
    job INTEGER PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS spawned (
    job        INTEGER PRIMARY KEY,
    recurrence TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS spawned_by_recurrence ON spawned (recurrence, job);

UPDATE meta SET value = '3' WHERE key = 'schema_version' AND value = '2';
