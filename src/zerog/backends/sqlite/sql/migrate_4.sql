-- Version 3 -> 4: rate limits (a log of start times per name) and fair share (each key's turn).

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

UPDATE meta SET value = '4' WHERE key = 'schema_version' AND value = '3';
