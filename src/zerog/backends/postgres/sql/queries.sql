-- Named statements of the PostgreSQL backend: the SQLite backend's (same names, same
-- parameters, same result columns; see ../../sqlite/sql/queries.sql for what each is for), in
-- PostgreSQL's SQL and psycopg's placeholders (%s, %(name)s). JSON read from a document is
-- returned as text (->>), as SQLite's json_extract returns it.

-- name: schema_version
SELECT value FROM meta WHERE key = 'schema_version';

-- name: insert_job
INSERT INTO jobs (
    uuid, queue, type, state, priority, ready_at, expires_at, ttr_seconds, max_retries,
    attempts, lease_token, lease_expires_at, worker, control, created_at, updated_at,
    started_at, finished_at, doc
) VALUES (
    %(uuid)s, %(queue)s, %(type)s, %(state)s, %(priority)s, %(ready_at)s, %(expires_at)s,
    %(ttr_seconds)s, %(max_retries)s, %(attempts)s, %(lease_token)s, %(lease_expires_at)s,
    %(worker)s, %(control)s, %(created_at)s, %(updated_at)s, %(started_at)s, %(finished_at)s,
    %(doc)s
)
RETURNING seq;

-- name: add_tag
INSERT INTO tags (tag, job) VALUES (%s, %s) ON CONFLICT DO NOTHING;

-- name: add_history
-- n is the job's next entry number: every step that logs holds the job's row lock, so reading
-- it and inserting is one step.
INSERT INTO history (job, n, at, event, state, worker, detail)
SELECT v.job, coalesce((SELECT max(h.n) FROM history AS h WHERE h.job = v.job), 0) + 1,
       v.at, v.event, v.state, v.worker, v.detail
FROM (VALUES (%s::bigint, %s::float8, %s::text, %s::text, %s::text, %s::text))
    AS v (job, at, event, state, worker, detail);

-- name: history_cap
-- Unused by the PostgreSQL backend, which sets the cap per transaction (see schema.sql).
SELECT set_config('zerog.history_keep', '{keep}', false);

-- name: drop_history_cap
SELECT set_config('zerog.history_keep', '', false);

-- name: next_ready
SELECT * FROM jobs
WHERE queue = %(queue)s AND state IN ('waiting', 'scheduled') AND ready_at <= %(now)s
AND NOT EXISTS (SELECT 1 FROM queues WHERE name = %(queue)s AND paused_at IS NOT NULL)
AND NOT EXISTS (SELECT 1 FROM recurring WHERE queue = %(queue)s AND next_at <= %(now)s)
AND NOT EXISTS (SELECT 1 FROM limits)
AND NOT EXISTS (SELECT 1 FROM rate_limits)
AND NOT EXISTS (SELECT 1 FROM fair_keys WHERE queue = %(queue)s)
ORDER BY priority, seq
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: next_ready_plain
SELECT * FROM jobs
WHERE queue = %(queue)s AND state IN ('waiting', 'scheduled') AND ready_at <= %(now)s
ORDER BY priority, seq
LIMIT 1
FOR UPDATE SKIP LOCKED;

-- name: flow_probe
SELECT EXISTS (SELECT 1 FROM queues WHERE name = %(queue)s AND paused_at IS NOT NULL),
       EXISTS (SELECT 1 FROM recurring WHERE queue = %(queue)s AND next_at <= %(now)s),
       EXISTS (SELECT 1 FROM limits) OR EXISTS (SELECT 1 FROM rate_limits),
       EXISTS (SELECT 1 FROM fair_keys WHERE queue = %(queue)s);

-- name: ready_scan
SELECT seq, priority, expires_at, doc->>'throttles' FROM jobs
WHERE queue = %(queue)s AND state IN ('waiting', 'scheduled') AND ready_at <= %(now)s
AND (priority > %(priority)s OR (priority = %(priority)s AND seq > %(seq)s))
ORDER BY priority, seq
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: job_by_seq
SELECT * FROM jobs WHERE seq = %s;

-- name: running_throttles
SELECT queue, doc->>'throttles' FROM jobs WHERE state = 'running';

-- name: start_run
UPDATE jobs SET
    state = %(state)s, attempts = %(attempts)s, lease_token = %(lease_token)s,
    worker = %(worker)s, lease_expires_at = %(lease_expires_at)s, control = %(control)s,
    updated_at = %(updated_at)s, started_at = %(started_at)s
WHERE seq = %(seq)s;

-- name: touch
UPDATE jobs SET lease_expires_at = %(now)s + ttr_seconds
WHERE uuid = %(uuid)s AND state = 'running' AND lease_token = %(token)s
RETURNING control;

-- name: held
SELECT seq, attempts, ttr_seconds, control,
       EXISTS (SELECT 1 FROM uniques WHERE job = jobs.seq),
       EXISTS (SELECT 1 FROM deps WHERE on_job = jobs.seq)
FROM jobs
WHERE uuid = %(uuid)s AND state = 'running' AND lease_token = %(token)s
FOR UPDATE OF jobs;

-- name: held_with_lists
SELECT seq, attempts, ttr_seconds, control,
       EXISTS (SELECT 1 FROM uniques WHERE job = jobs.seq),
       EXISTS (SELECT 1 FROM deps WHERE on_job = jobs.seq),
       doc->>'events', doc->>'errors', doc->>'samples'
FROM jobs
WHERE uuid = %(uuid)s AND state = 'running' AND lease_token = %(token)s
FOR UPDATE OF jobs;

-- name: held_many
-- `held` for several leases at once (a batch's settlements: one round trip, not one each),
-- given as a JSON array of [uuid, token]; each row ends with the job's uuid. Locked in seq
-- order, as every step that locks several jobs locks them.
SELECT j.seq, j.attempts, j.ttr_seconds, j.control,
       EXISTS (SELECT 1 FROM uniques WHERE job = j.seq),
       EXISTS (SELECT 1 FROM deps WHERE on_job = j.seq),
       j.uuid
FROM jsonb_array_elements(%s::jsonb) AS e (lease)
JOIN jobs AS j ON j.uuid = e.lease->>0 AND j.lease_token = (e.lease->>1)::bigint
WHERE j.state = 'running'
ORDER BY j.seq
FOR UPDATE OF j;

-- name: any_to_rescue
(SELECT 1 FROM jobs WHERE state = 'running' AND lease_expires_at <= %(now)s LIMIT 1)
UNION ALL
(SELECT 1 FROM jobs WHERE state IN ('waiting', 'scheduled') AND expires_at <= %(now)s LIMIT 1)
LIMIT 1;

-- name: to_rescue
-- One SELECT, not a UNION: FOR UPDATE needs it. A job settled, claimed or rescued meanwhile
-- is skipped (locked) or dropped (its new version no longer matches).
SELECT seq, uuid, state, attempts, max_retries, CASE WHEN state = 'running' THEN doc END
FROM jobs
WHERE (state = 'running' AND lease_expires_at <= %(now)s)
   OR (state IN ('waiting', 'scheduled') AND expires_at <= %(now)s)
ORDER BY seq
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED;

-- name: job_state
SELECT seq, state FROM jobs WHERE uuid = %s FOR UPDATE;

-- name: set_control
UPDATE jobs SET control = %s WHERE seq = %s;

-- name: end_lease
UPDATE jobs SET lease_expires_at = %s WHERE seq = %s;

-- name: uuid_of
SELECT uuid FROM jobs WHERE seq = %s;

-- name: oldest_failed
SELECT seq, uuid, state FROM jobs
WHERE queue = %(queue)s AND state = 'failed'
ORDER BY coalesce(finished_at, 0), seq
LIMIT %(limit)s
FOR UPDATE;

-- name: job
SELECT * FROM jobs WHERE uuid = %s;

-- name: job_for_update
SELECT * FROM jobs WHERE uuid = %s FOR UPDATE;

-- name: lock_key
-- What spans jobs (a unique key, a debounce key, the limits, a day's statistics) is decided
-- under a transaction-level advisory lock keyed by it, taken in a statement of its own: the
-- statements after it see what the lock's previous holder committed (READ COMMITTED).
SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || ':' || %s, 0));

-- name: history
SELECT at, event, state, worker, detail FROM history WHERE job = %s ORDER BY n;

-- name: counts
SELECT queue, state, count(*) FROM jobs GROUP BY queue, state;

-- name: table_columns
SELECT column_name::text FROM information_schema.columns
WHERE table_schema = current_schema() AND table_name = 'jobs'
ORDER BY ordinal_position;

-- name: paused_queues
-- COLLATE "C": names sort by code point, as SQLite sorts them, whatever the database's locale.
SELECT name FROM queues WHERE paused_at IS NOT NULL ORDER BY name COLLATE "C";

-- name: pause_queue
INSERT INTO queues (name, paused_at) VALUES (%(name)s, %(now)s)
ON CONFLICT (name) DO UPDATE SET paused_at = coalesce(queues.paused_at, excluded.paused_at);

-- name: resume_queue
UPDATE queues SET paused_at = NULL WHERE name = %(name)s;

-- name: register_worker
INSERT INTO workers (id, started_at, last_seen, doc)
VALUES (%(id)s, %(started_at)s, %(now)s, %(doc)s)
ON CONFLICT (id) DO UPDATE SET
    started_at = excluded.started_at, last_seen = excluded.last_seen, doc = excluded.doc;

-- name: unregister_worker
DELETE FROM workers WHERE id = %s;

-- name: any_stale_worker
SELECT 1 FROM workers WHERE last_seen < %(cutoff)s LIMIT 1;

-- name: prune_workers
DELETE FROM workers WHERE last_seen < %(cutoff)s;

-- name: live_workers
SELECT last_seen, doc FROM workers WHERE last_seen >= %(cutoff)s
ORDER BY coalesce(started_at, 0), id COLLATE "C";

-- name: jobs_by_uuids
SELECT j.uuid, j.seq, j.state
FROM jsonb_array_elements_text(%s::jsonb) AS e (value) JOIN jobs AS j ON j.uuid = e.value
ORDER BY j.seq
FOR UPDATE OF j;

-- name: add_dependency
INSERT INTO deps (on_job, job) VALUES (%s, %s) ON CONFLICT DO NOTHING;

-- name: drop_dependency
DELETE FROM deps WHERE on_job = %s AND job = %s;

-- name: drop_dependents
DELETE FROM deps WHERE on_job = %s;

-- name: append_dependent
UPDATE jobs SET doc = jsonb_set(doc, '{dependents}',
    coalesce(nullif(doc->'dependents', 'null'::jsonb), '[]'::jsonb)
    || jsonb_build_array(%(uuid)s::text))
WHERE seq = %(seq)s;

-- name: dependents
SELECT j.seq, j.uuid, j.state, j.ready_at, j.doc->>'depends', j.doc->>'blocked_by'
FROM deps AS d JOIN jobs AS j ON j.seq = d.job
WHERE d.on_job = %s
ORDER BY d.job
FOR UPDATE OF j;

-- name: waiting_dependents
SELECT j.seq, j.state, j.doc->>'blocked_by'
FROM deps AS d JOIN jobs AS j ON j.seq = d.job
WHERE d.on_job = %s AND j.state = 'depends'
ORDER BY d.job
FOR UPDATE OF j;

-- name: dependency_links
SELECT seq, doc->>'depends', doc->>'dependents' FROM jobs WHERE uuid = %s FOR UPDATE;

-- name: unique_holder
SELECT j.uuid, j.state FROM uniques AS u JOIN jobs AS j ON j.seq = u.job WHERE u.key = %s;

-- name: hold_unique
-- A key has one holder: taking it replaces a former holder's row (SQLite's OR REPLACE).
INSERT INTO uniques (job, key) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET job = excluded.job;

-- name: free_unique
DELETE FROM uniques WHERE job = %s;

-- name: hold_unique_again
INSERT INTO uniques (job, key)
SELECT seq, doc->>'unique_key' FROM jobs
WHERE seq = %s AND coalesce(doc->>'unique_key', '') <> ''
ON CONFLICT (key) DO UPDATE SET job = excluded.job;

-- name: unique_key_of
SELECT doc->>'unique_key' FROM jobs WHERE seq = %s;

-- name: debounce_entry
SELECT doc FROM debounce WHERE key = %s;

-- name: set_debounce
INSERT INTO debounce (key, doc) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET doc = excluded.doc;

-- name: due_recurrences
-- Of claimers spawning at once, one takes each recurrence; the others skip it.
SELECT n, doc FROM recurring WHERE queue = %(queue)s AND next_at <= %(now)s ORDER BY n
FOR UPDATE SKIP LOCKED;

-- name: save_recurrence
UPDATE recurring SET queue = %(queue)s, next_at = %(next_at)s, doc = %(doc)s WHERE n = %(n)s;

-- name: recur
INSERT INTO recurring (id, queue, next_at, doc) VALUES (%(id)s, %(queue)s, %(next_at)s, %(doc)s)
ON CONFLICT (id) DO UPDATE SET
    queue = excluded.queue,
    next_at = excluded.next_at,
    doc = jsonb_set(excluded.doc, '{count}', coalesce(recurring.doc->'count', 'null'::jsonb));

-- name: unrecur
DELETE FROM recurring WHERE id = %s;

-- name: recurrences
SELECT doc FROM recurring WHERE %(queue)s::text IS NULL OR queue = %(queue)s::text ORDER BY n;

-- name: recurrence
SELECT n, doc FROM recurring WHERE id = %s FOR UPDATE;

-- name: limits
SELECT name, maximum FROM limits ORDER BY name COLLATE "C";

-- name: set_limit
INSERT INTO limits (name, maximum) VALUES (%s, %s)
ON CONFLICT (name) DO UPDATE SET maximum = excluded.maximum;

-- name: unset_limit
DELETE FROM limits WHERE name = %s;

-- name: config
SELECT key, value FROM config ORDER BY key COLLATE "C";

-- name: set_config
INSERT INTO config (key, value) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: unset_config
DELETE FROM config WHERE key = %s;

-- name: stats
SELECT doc FROM stats WHERE queue = %s AND day = %s;

-- name: set_stats
INSERT INTO stats (queue, day, doc) VALUES (%s, %s, %s)
ON CONFLICT (queue, day) DO UPDATE SET doc = excluded.doc;

-- name: drop_stats_before
DELETE FROM stats WHERE day < %s;

-- name: stats_before
SELECT queue, day, doc FROM stats WHERE day < %s;

-- name: remove_tag
DELETE FROM tags WHERE tag = %s AND job = %s;

-- name: top_tags
SELECT tag, count(*) AS jobs FROM tags GROUP BY tag ORDER BY jobs DESC, tag COLLATE "C" LIMIT %s;

-- name: track
INSERT INTO tracked (job) VALUES (%s) ON CONFLICT DO NOTHING;

-- name: untrack
DELETE FROM tracked WHERE job = %s;

-- name: add_spawned
INSERT INTO spawned (job, recurrence) VALUES (%s, %s) ON CONFLICT DO NOTHING;

-- --- retention: the jobs_finished index is (finished_at DESC NULLS LAST, seq DESC) ------------

-- name: finished_boundary
SELECT finished_at, seq FROM jobs
WHERE state IN ('complete', 'cancelled', 'expired')
ORDER BY finished_at DESC NULLS LAST, seq DESC
LIMIT 1 OFFSET %(keep)s;

-- name: doomed_by_age
SELECT seq FROM jobs
WHERE state IN ('complete', 'cancelled', 'expired') AND finished_at < %(cutoff)s
ORDER BY finished_at DESC NULLS LAST, seq DESC
LIMIT %(limit)s;

-- name: doomed_by_count
SELECT seq FROM jobs
WHERE state IN ('complete', 'cancelled', 'expired')
AND (finished_at < %(finished_at)s OR (finished_at = %(finished_at)s AND seq <= %(seq)s))
ORDER BY finished_at DESC NULLS LAST, seq DESC
LIMIT %(limit)s;

-- name: delete_tags_of
-- The tags of the jobs in the JSON array of seqs, found through each job's own list.
DELETE FROM tags WHERE (tag, job) IN (
    SELECT t.value, j.seq
    FROM jobs AS j, jsonb_array_elements_text(
        CASE WHEN jsonb_typeof(j.doc->'tags') = 'array' THEN j.doc->'tags' ELSE '[]' END
    ) AS t (value)
    WHERE j.seq IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value))
);

-- name: delete_spawned_of
DELETE FROM spawned
WHERE job IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: delete_tracked_of
DELETE FROM tracked
WHERE job IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: delete_uniques_of
DELETE FROM uniques
WHERE job IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: delete_deps_of
DELETE FROM deps
WHERE on_job IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: delete_deps_on
DELETE FROM deps
WHERE job IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: delete_history_of
DELETE FROM history
WHERE job IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: delete_jobs
DELETE FROM jobs
WHERE seq IN (SELECT e.value::bigint FROM jsonb_array_elements_text(%s::jsonb) AS e (value));

-- name: quarantine
UPDATE jobs SET
    state = 'failed', doc = %(doc)s::jsonb, worker = NULL, lease_expires_at = NULL,
    control = NULL, updated_at = %(now)s, finished_at = %(now)s
WHERE seq = %(seq)s;

-- name: next_due
SELECT min(ready_at) FROM jobs
WHERE queue = %(queue)s AND state IN ('waiting', 'scheduled') AND ready_at > %(now)s;
