-- The zerog job store, version 3 (migrate_2.sql and migrate_3.sql turn older files into this). Every
-- statement is idempotent (IF NOT EXISTS / OR IGNORE), so several processes opening a fresh file at
-- once may all run this; BEGIN IMMEDIATE serialises them.

CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per job. The keys a query filters, orders or changes at every step are columns; every
-- other key of the record lives in `doc`, a JSON object. Column order is part of the contract
-- with _rows.COLUMNS (checked when a backend opens): seq first, doc last.
CREATE TABLE IF NOT EXISTS jobs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,  -- put order (FIFO), never reused.
    uuid             TEXT    NOT NULL UNIQUE,
    queue            TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    state            TEXT    NOT NULL,
    priority         INTEGER NOT NULL,
    ready_at         REAL    NOT NULL,
    expires_at       REAL,
    ttr_seconds      REAL    NOT NULL,
    max_retries      INTEGER NOT NULL,
    attempts         INTEGER NOT NULL,
    lease_token      INTEGER NOT NULL,
    lease_expires_at REAL,
    worker           TEXT,
    control          TEXT,
    created_at       REAL    NOT NULL,
    updated_at       REAL    NOT NULL,
    started_at       REAL,
    finished_at      REAL,
    doc              TEXT    NOT NULL
);

-- reserve: the first ready job of a queue, by priority then put order; ready_at rides along so
-- jobs scheduled for later are skipped without reading their rows.
CREATE INDEX IF NOT EXISTS jobs_ready ON jobs (queue, priority, seq, ready_at)
    WHERE state IN ('waiting', 'scheduled');
-- rescue_expired: ready jobs that have a TTL. Running jobs are found through jobs_by_state:
-- there are only as many as workers run at once, and an index on lease_expires_at would cost
-- two page writes at every reserve, touch and settle.
CREATE INDEX IF NOT EXISTS jobs_ttl ON jobs (expires_at)
    WHERE state IN ('waiting', 'scheduled') AND expires_at IS NOT NULL;
-- list: newest first under each filter.
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state, seq);
CREATE INDEX IF NOT EXISTS jobs_by_queue ON jobs (queue, seq);
CREATE INDEX IF NOT EXISTS jobs_by_type ON jobs (type, seq);

-- Tags for the list filter (the record's `tags` stays in doc for reading). `job` is jobs.seq.
CREATE TABLE IF NOT EXISTS tags (
    tag TEXT    NOT NULL,
    job INTEGER NOT NULL,
    PRIMARY KEY (tag, job)
) WITHOUT ROWID;

-- Every state change of every job: entry n (1, 2, ...) of job `job` (jobs.seq). Clustered on
-- (job, n), WITHOUT ROWID, so that an entry is one B-tree write, not a row and an index entry.
CREATE TABLE IF NOT EXISTS history (
    job    INTEGER NOT NULL,
    n      INTEGER NOT NULL,
    at     REAL    NOT NULL,
    event  TEXT    NOT NULL,
    state  TEXT    NOT NULL,
    worker TEXT,
    detail TEXT,
    PRIMARY KEY (job, n)
) WITHOUT ROWID;

-- Queues that have settings of their own; a queue with no row has none. paused_at: when an
-- operator paused it (NULL: it is served). Reserve reads this small table in its transaction.
CREATE TABLE IF NOT EXISTS queues (
    name      TEXT PRIMARY KEY,
    paused_at REAL
) WITHOUT ROWID;

-- The worker registry: one row per live worker process, refreshed by its heartbeat thread.
-- `doc` is the worker's entry as JSON (host, pid, queues, jobs, version, ...); `last_seen` is
-- the backend's clock at the last refresh, and rows not refreshed for a while are pruned.
CREATE TABLE IF NOT EXISTS workers (
    id         TEXT PRIMARY KEY,
    started_at REAL,
    last_seen  REAL NOT NULL,
    doc        TEXT NOT NULL
) WITHOUT ROWID;

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

-- Rate limits: at most `maximum` jobs counting against `name` start per `per` seconds.
CREATE TABLE IF NOT EXISTS rate_limits (
    name    TEXT PRIMARY KEY,
    maximum INTEGER NOT NULL,
    per     REAL    NOT NULL
) WITHOUT ROWID;

-- The starts logged against each rate-limited name, pruned once out of its window.
CREATE TABLE IF NOT EXISTS rate_starts (
    name TEXT NOT NULL,
    at   REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_starts_by_name ON rate_starts (name, at);

-- Fair share: the keys of a queue's jobs, and the turn at which each was last served.
CREATE TABLE IF NOT EXISTS fair_keys (
    queue  TEXT    NOT NULL,
    key    TEXT    NOT NULL,
    served INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (queue, key)
) WITHOUT ROWID;

-- A key's next ready job; only jobs that have a key are in it. json_valid comes first: a
-- damaged document is left out of the index (json_extract would refuse the row's every write).
CREATE INDEX IF NOT EXISTS jobs_fair
    ON jobs (queue, json_extract(doc, '$.fair_key'), priority, seq)
    WHERE state IN ('waiting', 'scheduled') AND json_valid(doc)
    AND json_extract(doc, '$.fair_key') IS NOT NULL;

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

INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '4');
