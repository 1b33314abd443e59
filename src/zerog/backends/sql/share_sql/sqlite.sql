-- Rate limits and fair share on SQLite (zerog.backends.sql.share): the statements of
-- rate_limits, rate_starts and fair_keys (made by schema.sql / migrate_4.sql).

-- name: rate_limits
SELECT name, maximum, per FROM rate_limits ORDER BY name;

-- name: set_rate_limit
INSERT INTO rate_limits (name, maximum, per) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET maximum = excluded.maximum, per = excluded.per;

-- name: unset_rate_limit
DELETE FROM rate_limits WHERE name = ?;

-- name: starts_of
-- The starts of a name after a time (those in its window, and any a later clock logged).
SELECT at FROM rate_starts WHERE name = ? AND at > ?;

-- name: add_start
INSERT INTO rate_starts (name, at) VALUES (?, ?);

-- name: prune_starts
DELETE FROM rate_starts WHERE name = ? AND at < ?;

-- name: forget_starts
DELETE FROM rate_starts WHERE name NOT IN (SELECT name FROM rate_limits);

-- name: add_fair_key
INSERT OR IGNORE INTO fair_keys (queue, key) VALUES (?, ?);

-- name: add_keyless
-- A job without a key entered a fair queue: the keyless jobs take their turns as key ''.
INSERT OR IGNORE INTO fair_keys (queue, key)
SELECT ?, '' WHERE EXISTS (SELECT 1 FROM fair_keys WHERE queue = ?);

-- name: fair_keys
-- A fair queue's keys, least recently served first (never served: 0).
SELECT key, served FROM fair_keys WHERE queue = ? ORDER BY served, key;

-- name: serve_key
INSERT INTO fair_keys (queue, key, served)
VALUES (:queue, :key, (SELECT coalesce(max(served), 0) + 1 FROM fair_keys WHERE queue = :queue))
ON CONFLICT (queue, key) DO UPDATE SET served = excluded.served;

-- name: forget_key
DELETE FROM fair_keys WHERE queue = ? AND key = ?;

-- name: first_of_key
-- A key's first ready job at a priority (the jobs_fair index).
SELECT * FROM jobs
WHERE queue = :queue AND json_valid(doc) AND json_extract(doc, '$.fair_key') = :key
AND json_extract(doc, '$.fair_key') IS NOT NULL
AND state IN ('waiting', 'scheduled') AND priority = :priority AND ready_at <= :now
ORDER BY seq
LIMIT 1;

-- name: first_unkeyed
-- The first ready job without a key at a priority.
SELECT * FROM jobs
WHERE queue = :queue AND state IN ('waiting', 'scheduled') AND ready_at <= :now
AND priority = :priority
AND CASE WHEN json_valid(doc) THEN json_extract(doc, '$.fair_key') IS NULL ELSE 1 END
ORDER BY seq
LIMIT 1;

-- name: key_queued
-- Whether a key has a job ready or scheduled in the queue (else the key is forgotten).
SELECT EXISTS (
    SELECT 1 FROM jobs
    WHERE queue = :queue AND json_valid(doc) AND json_extract(doc, '$.fair_key') = :key
    AND json_extract(doc, '$.fair_key') IS NOT NULL AND state IN ('waiting', 'scheduled')
);
