-- The zerog job store, version 2 (migrate_2.sql turns a version 1 file into this). Every statement is idempotent (IF NOT EXISTS / OR IGNORE), so
-- several processes opening a fresh file at once may all run this; BEGIN IMMEDIATE serialises them.

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

INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '2');
