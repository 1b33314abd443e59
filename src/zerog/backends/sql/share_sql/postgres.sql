-- Rate limits and fair share on PostgreSQL (zerog.backends.sql.share): the statements of
-- rate_limits, rate_starts and fair_keys (made by migrate_3.sql).

-- name: rate_limits
SELECT name, maximum, per FROM rate_limits ORDER BY name COLLATE "C";

-- name: set_rate_limit
INSERT INTO rate_limits (name, maximum, per) VALUES (%s, %s, %s)
ON CONFLICT (name) DO UPDATE SET maximum = excluded.maximum, per = excluded.per;

-- name: unset_rate_limit
DELETE FROM rate_limits WHERE name = %s;

-- name: starts_of
-- The starts of a name after a time (those in its window, and any a later clock logged).
SELECT at FROM rate_starts WHERE name = %s AND at > %s;

-- name: add_start
INSERT INTO rate_starts (name, at) VALUES (%s, %s);

-- name: prune_starts
DELETE FROM rate_starts WHERE name = %s AND at < %s;

-- name: forget_starts
DELETE FROM rate_starts WHERE name NOT IN (SELECT name FROM rate_limits);

-- name: add_fair_key
INSERT INTO fair_keys (queue, key) VALUES (%s, %s) ON CONFLICT DO NOTHING;

-- name: add_keyless
-- A job without a key entered a fair queue: the keyless jobs take their turns as key ''.
INSERT INTO fair_keys (queue, key)
SELECT %s, '' WHERE EXISTS (SELECT 1 FROM fair_keys WHERE queue = %s)
ON CONFLICT DO NOTHING;

-- name: fair_keys
-- A fair queue's keys, least recently served first (never served: 0).
SELECT key, served FROM fair_keys WHERE queue = %s ORDER BY served, key COLLATE "C";

-- name: serve_key
INSERT INTO fair_keys (queue, key, served)
VALUES (%(queue)s, %(key)s, (SELECT coalesce(max(served), 0) + 1 FROM fair_keys WHERE queue = %(queue)s))
ON CONFLICT (queue, key) DO UPDATE SET served = excluded.served;

-- name: forget_key
DELETE FROM fair_keys WHERE queue = %s AND key = %s;

-- name: first_of_key
-- A key's first ready job at a priority (the jobs_fair index).
SELECT * FROM jobs
WHERE queue = %(queue)s AND doc->>'fair_key' = %(key)s
AND doc->>'fair_key' IS NOT NULL
AND state IN ('waiting', 'scheduled') AND priority = %(priority)s AND ready_at <= %(now)s
ORDER BY seq
LIMIT 1
FOR UPDATE SKIP LOCKED;

-- name: first_unkeyed
-- The first ready job without a key at a priority.
SELECT * FROM jobs
WHERE queue = %(queue)s AND state IN ('waiting', 'scheduled') AND ready_at <= %(now)s
AND priority = %(priority)s AND doc->>'fair_key' IS NULL
ORDER BY seq
LIMIT 1
FOR UPDATE SKIP LOCKED;

-- name: key_queued
-- Whether a key has a job ready or scheduled in the queue (else the key is forgotten).
SELECT EXISTS (
    SELECT 1 FROM jobs
    WHERE queue = %(queue)s AND doc->>'fair_key' = %(key)s
    AND doc->>'fair_key' IS NOT NULL AND state IN ('waiting', 'scheduled')
);
