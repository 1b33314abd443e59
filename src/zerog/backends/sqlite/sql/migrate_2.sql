-- Version 1 -> 2: the queues table (queue pause) and the worker registry. Idempotent, run in one
-- BEGIN IMMEDIATE transaction, so that several processes opening a version 1 file at once may all
-- run it: the first one migrates, the others find nothing left to do.

CREATE TABLE IF NOT EXISTS queues (
    name      TEXT PRIMARY KEY,
    paused_at REAL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS workers (
    id         TEXT PRIMARY KEY,
    started_at REAL,
    last_seen  REAL NOT NULL,
    doc        TEXT NOT NULL
) WITHOUT ROWID;

UPDATE meta SET value = '2' WHERE key = 'schema_version' AND value = '1';
