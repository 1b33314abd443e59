-- Named statements of the SQLite backend; each starts with a "-- name: <name>" line.
-- Parameters are named after record keys where they carry one.

-- name: schema_version
SELECT value FROM meta WHERE key = 'schema_version';

-- name: insert_job
INSERT INTO jobs (
    uuid, queue, type, state, priority, ready_at, expires_at, ttr_seconds, max_retries,
    attempts, lease_token, lease_expires_at, worker, control, created_at, updated_at,
    started_at, finished_at, doc
) VALUES (
    :uuid, :queue, :type, :state, :priority, :ready_at, :expires_at, :ttr_seconds, :max_retries,
    :attempts, :lease_token, :lease_expires_at, :worker, :control, :created_at, :updated_at,
    :started_at, :finished_at, :doc
);

-- name: add_tag
INSERT OR IGNORE INTO tags (tag, job) VALUES (?, ?);

-- name: add_history
-- n is the job's next entry number; the write lock makes reading it and inserting one step.
INSERT INTO history (job, n, at, event, state, worker, detail)
VALUES (?1, (SELECT coalesce(max(n), 0) + 1 FROM history WHERE job = ?1), ?2, ?3, ?4, ?5, ?6);

-- name: next_ready
-- The state list must stay literally equal to the jobs_ready index's, or the index is not used.
-- A paused queue has none: the NOT EXISTS is one primary-key lookup, made once per call.
SELECT * FROM jobs
WHERE queue = :queue AND state IN ('waiting', 'scheduled') AND ready_at <= :now
AND NOT EXISTS (SELECT 1 FROM queues WHERE name = :queue AND paused_at IS NOT NULL)
ORDER BY priority, seq
LIMIT 1;

-- name: start_run
UPDATE jobs SET
    state = :state, attempts = :attempts, lease_token = :lease_token, worker = :worker,
    lease_expires_at = :lease_expires_at, control = :control, updated_at = :updated_at,
    started_at = :started_at
WHERE seq = :seq;

-- name: touch
UPDATE jobs SET lease_expires_at = :now + ttr_seconds
WHERE uuid = :uuid AND state = 'running' AND lease_token = :token
RETURNING control;

-- name: held
SELECT seq, attempts, ttr_seconds, control FROM jobs
WHERE uuid = :uuid AND state = 'running' AND lease_token = :token;

-- name: held_with_lists
-- `held`, plus the lists a progress report or an error appends to.
SELECT seq, attempts, ttr_seconds, control,
       json_extract(doc, '$.events'), json_extract(doc, '$.errors'), json_extract(doc, '$.samples')
FROM jobs
WHERE uuid = :uuid AND state = 'running' AND lease_token = :token;

-- name: any_to_rescue
-- INDEXED BY jobs_ttl: with no ANALYZE statistics the planner would read every ready job
-- through jobs_by_state; the partial index holds only the ready jobs that have a TTL.
SELECT 1 FROM jobs WHERE state = 'running' AND lease_expires_at <= :now
UNION ALL
SELECT 1 FROM jobs INDEXED BY jobs_ttl
WHERE state IN ('waiting', 'scheduled') AND expires_at <= :now
LIMIT 1;

-- name: to_rescue
-- Running jobs whose lease expired and ready jobs past their TTL, in put order.
SELECT seq, uuid, state, attempts, max_retries, json_extract(doc, '$.errors')
FROM jobs
WHERE state = 'running' AND lease_expires_at <= :now
UNION ALL
SELECT seq, uuid, state, attempts, max_retries, NULL
FROM jobs INDEXED BY jobs_ttl
WHERE state IN ('waiting', 'scheduled') AND expires_at <= :now
ORDER BY seq
LIMIT :limit;

-- name: job_state
SELECT seq, state FROM jobs WHERE uuid = ?;

-- name: set_control
UPDATE jobs SET control = ? WHERE seq = ?;

-- name: oldest_failed
SELECT seq, uuid, state FROM jobs
WHERE queue = :queue AND state = 'failed'
ORDER BY coalesce(finished_at, 0), seq
LIMIT :limit;

-- name: job
SELECT * FROM jobs WHERE uuid = ?;

-- name: history
SELECT at, event, state, worker, detail FROM history WHERE job = ? ORDER BY n;

-- name: counts
SELECT queue, state, count(*) FROM jobs GROUP BY queue, state;

-- name: table_columns
SELECT name FROM pragma_table_info('jobs') ORDER BY cid;

-- name: paused_queues
SELECT name FROM queues WHERE paused_at IS NOT NULL ORDER BY name;

-- name: pause_queue
-- Pausing a paused queue keeps the time it was first paused.
INSERT INTO queues (name, paused_at) VALUES (:name, :now)
ON CONFLICT (name) DO UPDATE SET paused_at = coalesce(queues.paused_at, excluded.paused_at);

-- name: resume_queue
UPDATE queues SET paused_at = NULL WHERE name = :name;

-- name: register_worker
INSERT INTO workers (id, started_at, last_seen, doc) VALUES (:id, :started_at, :now, :doc)
ON CONFLICT (id) DO UPDATE SET
    started_at = excluded.started_at, last_seen = excluded.last_seen, doc = excluded.doc;

-- name: unregister_worker
DELETE FROM workers WHERE id = ?;

-- name: any_stale_worker
SELECT 1 FROM workers WHERE last_seen < :cutoff LIMIT 1;

-- name: prune_workers
DELETE FROM workers WHERE last_seen < :cutoff;

-- name: live_workers
SELECT last_seen, doc FROM workers WHERE last_seen >= :cutoff ORDER BY coalesce(started_at, 0), id;
