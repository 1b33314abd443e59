-- Version 2 -> 3: rate limits (a log of start times per name) and fair share (each key's turn).

-- Rate limits: at most `maximum` jobs counting against `name` start per `per` seconds.
CREATE TABLE IF NOT EXISTS rate_limits (
    name    text   PRIMARY KEY,
    maximum bigint NOT NULL,
    per     float8 NOT NULL
);

-- The starts logged against each rate-limited name, pruned once out of its window.
CREATE TABLE IF NOT EXISTS rate_starts (
    name text   NOT NULL,
    at   float8 NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_starts_by_name ON rate_starts (name, at);

-- Fair share: the keys of a queue's jobs, and the turn at which each was last served.
CREATE TABLE IF NOT EXISTS fair_keys (
    queue  text   NOT NULL,
    key    text   NOT NULL,
    served bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (queue, key)
);

-- A key's next ready job; only jobs that have a key are in it.
CREATE INDEX IF NOT EXISTS jobs_fair ON jobs (queue, (doc->>'fair_key'), priority, seq)
    WHERE state IN ('waiting', 'scheduled') AND doc->>'fair_key' IS NOT NULL;
