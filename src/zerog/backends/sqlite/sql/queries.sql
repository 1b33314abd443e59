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
)
RETURNING seq;

-- name: add_tag
INSERT OR IGNORE INTO tags (tag, job) VALUES (?, ?);

-- name: add_history
-- n is the job's next entry number; the write lock makes reading it and inserting one step.
INSERT INTO history (job, n, at, event, state, worker, detail)
VALUES (?1, (SELECT coalesce(max(n), 0) + 1 FROM history WHERE job = ?1), ?2, ?3, ?4, ?5, ?6);

-- name: history_cap
-- max-job-history: a TEMP trigger (this connection's own) with the cap written in for {keep} (DDL
-- takes no parameters), so that the cap costs no statement per entry, only this WHEN test.
CREATE TEMP TRIGGER history_cap AFTER INSERT ON main.history WHEN NEW.n > {keep}
BEGIN
    DELETE FROM history WHERE job = NEW.job AND n <= NEW.n - {keep};
END;

-- name: drop_history_cap
DROP TRIGGER IF EXISTS temp.history_cap;

-- name: next_ready
-- The state list must stay literally equal to the jobs_ready index's, or the index is not used.
-- The fast path: a paused queue, a queue that owes a recurring job and any limit make it find
-- nothing, and the reserve step looks closer (flow_probe). Each NOT EXISTS is one lookup, made
-- once per call. :limit is 1 for one reserve, more for a worker's batch.
SELECT * FROM jobs
WHERE queue = :queue AND state IN ('waiting', 'scheduled') AND ready_at <= :now
AND NOT EXISTS (SELECT 1 FROM queues WHERE name = :queue AND paused_at IS NOT NULL)
AND NOT EXISTS (SELECT 1 FROM recurring WHERE queue = :queue AND next_at <= :now)
AND NOT EXISTS (SELECT 1 FROM limits)
AND NOT EXISTS (SELECT 1 FROM rate_limits)
AND NOT EXISTS (SELECT 1 FROM fair_keys WHERE queue = :queue)
ORDER BY priority, seq
LIMIT :limit;

-- name: next_ready_plain
-- next_ready once flow_probe has looked: the queue is not paused and owes no recurring job.
SELECT * FROM jobs
WHERE queue = :queue AND state IN ('waiting', 'scheduled') AND ready_at <= :now
ORDER BY priority, seq
LIMIT 1;

-- name: flow_probe
-- Why next_ready found nothing: is the queue paused, does it owe a recurring job, is any limit
-- (or rate limit) set, has the queue fair keys?
SELECT EXISTS (SELECT 1 FROM queues WHERE name = :queue AND paused_at IS NOT NULL),
       EXISTS (SELECT 1 FROM recurring WHERE queue = :queue AND next_at <= :now),
       EXISTS (SELECT 1 FROM limits) OR EXISTS (SELECT 1 FROM rate_limits),
       EXISTS (SELECT 1 FROM fair_keys WHERE queue = :queue);

-- name: ready_scan
-- The next ready jobs after (priority, seq), with their throttles, when limits are set.
SELECT seq, priority, expires_at, json_extract(doc, '$.throttles') FROM jobs
WHERE queue = :queue AND state IN ('waiting', 'scheduled') AND ready_at <= :now
AND (priority > :priority OR (priority = :priority AND seq > :seq))
ORDER BY priority, seq
LIMIT :limit;

-- name: job_by_seq
SELECT * FROM jobs WHERE seq = ?;

-- name: running_throttles
-- What the running jobs count against (their queue's limit and their throttles); jobs_by_state
-- reads only the running rows, as many as workers run at once.
SELECT queue, json_extract(doc, '$.throttles') FROM jobs WHERE state = 'running';

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
-- The last two: whether the job holds a unique key and whether jobs wait for it, which its
-- settlement must then update (two primary-key lookups, in the same statement).
SELECT seq, attempts, ttr_seconds, control,
       EXISTS (SELECT 1 FROM uniques WHERE job = jobs.seq),
       EXISTS (SELECT 1 FROM deps WHERE on_job = jobs.seq)
FROM jobs
WHERE uuid = :uuid AND state = 'running' AND lease_token = :token;

-- name: held_with_lists
-- `held`, plus the lists a progress report or an error appends to.
SELECT seq, attempts, ttr_seconds, control,
       EXISTS (SELECT 1 FROM uniques WHERE job = jobs.seq),
       EXISTS (SELECT 1 FROM deps WHERE on_job = jobs.seq),
       json_extract(doc, '$.events'), json_extract(doc, '$.errors'), json_extract(doc, '$.samples')
FROM jobs
WHERE uuid = :uuid AND state = 'running' AND lease_token = :token;

-- name: held_many
-- `held` for several leases at once (a batch's settlements), given as a JSON array of
-- [uuid, token]; each row ends with the job's uuid.
SELECT j.seq, j.attempts, j.ttr_seconds, j.control,
       EXISTS (SELECT 1 FROM uniques WHERE job = j.seq),
       EXISTS (SELECT 1 FROM deps WHERE on_job = j.seq),
       j.uuid
FROM json_each(?) AS e
JOIN jobs AS j ON j.uuid = json_extract(e.value, '$[0]')
    AND j.lease_token = json_extract(e.value, '$[1]')
WHERE j.state = 'running'
ORDER BY j.seq;

-- name: any_to_rescue
-- INDEXED BY jobs_ttl: with no ANALYZE statistics the planner would read every ready job
-- through jobs_by_state; the partial index holds only the ready jobs that have a TTL.
SELECT 1 FROM jobs WHERE state = 'running' AND lease_expires_at <= :now
UNION ALL
SELECT 1 FROM jobs INDEXED BY jobs_ttl
WHERE state IN ('waiting', 'scheduled') AND expires_at <= :now
LIMIT 1;

-- name: to_rescue
-- Running jobs whose lease expired and ready jobs past their TTL, in put order; a running
-- one's whole document (read in Python: a damaged one is quarantined, not a failed statement).
SELECT seq, uuid, state, attempts, max_retries, doc
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

-- name: end_lease
UPDATE jobs SET lease_expires_at = ? WHERE seq = ?;

-- name: uuid_of
SELECT uuid FROM jobs WHERE seq = ?;

-- name: oldest_failed
SELECT seq, uuid, state FROM jobs
WHERE queue = :queue AND state = 'failed'
ORDER BY coalesce(finished_at, 0), seq
LIMIT :limit;

-- name: job
SELECT * FROM jobs WHERE uuid = ?;

-- name: job_for_update
-- The same as job: SQLite's write transaction holds the whole file.
SELECT * FROM jobs WHERE uuid = ?;

-- name: lock_key
-- Nothing to lock: SQLite has one writer at a time (PostgreSQL takes an advisory lock here).
SELECT ?;

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

-- --- flow: dependencies ---------------------------------------------------------------------

-- name: jobs_by_uuids
-- The jobs named in a JSON array of uuids (those that exist).
SELECT j.uuid, j.seq, j.state FROM json_each(?) AS e JOIN jobs AS j ON j.uuid = e.value;

-- name: add_dependency
INSERT OR IGNORE INTO deps (on_job, job) VALUES (?, ?);

-- name: drop_dependency
DELETE FROM deps WHERE on_job = ? AND job = ?;

-- name: drop_dependents
DELETE FROM deps WHERE on_job = ?;

-- name: append_dependent
UPDATE jobs SET doc = json_set(doc, '$.dependents', json(json_insert(
    coalesce(json_extract(doc, '$.dependents'), '[]'), '$[#]', :uuid)))
WHERE seq = :seq;

-- name: dependents
-- The jobs that wait (or waited) for job ?, with what a completion changes in them.
SELECT j.seq, j.uuid, j.state, j.ready_at,
       json_extract(j.doc, '$.depends'), json_extract(j.doc, '$.blocked_by')
FROM deps AS d JOIN jobs AS j ON j.seq = d.job
WHERE d.on_job = ?
ORDER BY d.job;

-- name: waiting_dependents
-- The jobs in `depends` that wait for job ?, with their blocked_by.
SELECT j.seq, j.state, json_extract(j.doc, '$.blocked_by')
FROM deps AS d JOIN jobs AS j ON j.seq = d.job
WHERE d.on_job = ? AND j.state = 'depends'
ORDER BY d.job;

-- name: dependency_links
-- A job's seq, its unfinished dependencies and its dependents, by uuid.
SELECT seq, json_extract(doc, '$.depends'), json_extract(doc, '$.dependents')
FROM jobs WHERE uuid = ?;

-- --- flow: unique keys and debounce ---------------------------------------------------------

-- name: unique_holder
SELECT j.uuid, j.state FROM uniques AS u JOIN jobs AS j ON j.seq = u.job WHERE u.key = ?;

-- name: hold_unique
-- A key has one holder: taking it replaces a former holder's row.
INSERT OR REPLACE INTO uniques (job, key) VALUES (?, ?);

-- name: free_unique
DELETE FROM uniques WHERE job = ?;

-- name: hold_unique_again
-- A job retried out of a final state takes its key again (the caller checked no one holds it).
INSERT OR REPLACE INTO uniques (job, key)
SELECT seq, json_extract(doc, '$.unique_key') FROM jobs
WHERE seq = ? AND coalesce(json_extract(doc, '$.unique_key'), '') != '';

-- name: unique_key_of
SELECT json_extract(doc, '$.unique_key') FROM jobs WHERE seq = ?;

-- name: debounce_entry
SELECT doc FROM debounce WHERE key = ?;

-- name: set_debounce
INSERT INTO debounce (key, doc) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET doc = excluded.doc;

-- --- flow: recurring jobs -------------------------------------------------------------------

-- name: due_recurrences
SELECT n, doc FROM recurring WHERE queue = :queue AND next_at <= :now ORDER BY n;

-- name: save_recurrence
UPDATE recurring SET queue = :queue, next_at = :next_at, doc = :doc WHERE n = :n;

-- name: recur
-- A recurrence stored again under its id keeps its place and its count (spawned ids never repeat).
INSERT INTO recurring (id, queue, next_at, doc) VALUES (:id, :queue, :next_at, :doc)
ON CONFLICT (id) DO UPDATE SET
    queue = excluded.queue,
    next_at = excluded.next_at,
    doc = json_set(excluded.doc, '$.count', json_extract(recurring.doc, '$.count'));

-- name: unrecur
DELETE FROM recurring WHERE id = ?;

-- name: recurrences
SELECT doc FROM recurring WHERE :queue IS NULL OR queue = :queue ORDER BY n;

-- name: recurrence
SELECT n, doc FROM recurring WHERE id = ?;

-- --- flow: limits, config, statistics -------------------------------------------------------

-- name: limits
SELECT name, maximum FROM limits ORDER BY name;

-- name: set_limit
INSERT INTO limits (name, maximum) VALUES (?, ?)
ON CONFLICT (name) DO UPDATE SET maximum = excluded.maximum;

-- name: unset_limit
DELETE FROM limits WHERE name = ?;

-- name: config
SELECT key, value FROM config ORDER BY key;

-- name: set_config
INSERT INTO config (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- name: unset_config
DELETE FROM config WHERE key = ?;

-- name: stats
SELECT doc FROM stats WHERE queue = ? AND day = ?;

-- name: set_stats
INSERT INTO stats (queue, day, doc) VALUES (?, ?, ?)
ON CONFLICT (queue, day) DO UPDATE SET doc = excluded.doc;

-- name: drop_stats_before
DELETE FROM stats WHERE day < ?;

-- name: stats_before
SELECT queue, day, doc FROM stats WHERE day < ?;

-- --- flow: tags, tracking, spawned jobs -----------------------------------------------------

-- name: remove_tag
DELETE FROM tags WHERE tag = ? AND job = ?;

-- name: top_tags
SELECT tag, count(*) AS jobs FROM tags GROUP BY tag ORDER BY jobs DESC, tag LIMIT ?;

-- name: track
INSERT OR IGNORE INTO tracked (job) VALUES (?);

-- name: untrack
DELETE FROM tracked WHERE job = ?;

-- name: add_spawned
INSERT OR IGNORE INTO spawned (job, recurrence) VALUES (?, ?);

-- --- retention ------------------------------------------------------------------------------
-- INDEXED BY jobs_finished: with no ANALYZE statistics the planner may prefer jobs_by_state,
-- which would read every finished row to sort them by finish time. The state test must stay
-- literally equal to the index's, or the index is not used.

-- name: finished_boundary
-- The newest finished job past the count to keep (OFFSET :keep, newest first), if any.
SELECT finished_at, seq FROM jobs INDEXED BY jobs_finished
WHERE (state = 'complete' OR state = 'cancelled' OR state = 'expired')
ORDER BY finished_at DESC, seq DESC
LIMIT 1 OFFSET :keep;

-- name: doomed_by_age
SELECT seq FROM jobs INDEXED BY jobs_finished
WHERE (state = 'complete' OR state = 'cancelled' OR state = 'expired') AND finished_at < :cutoff
ORDER BY finished_at DESC, seq DESC
LIMIT :limit;

-- name: doomed_by_count
-- The boundary job and every job that finished before it.
SELECT seq FROM jobs INDEXED BY jobs_finished
WHERE (state = 'complete' OR state = 'cancelled' OR state = 'expired')
AND (finished_at < :finished_at OR (finished_at = :finished_at AND seq <= :seq))
ORDER BY finished_at DESC, seq DESC
LIMIT :limit;

-- name: delete_tags_of
-- The tags of the jobs in the JSON array ?1 of seqs, found through each job's own list (these
-- deletes run before delete_jobs).
DELETE FROM tags WHERE (tag, job) IN (
    SELECT t.value, j.seq FROM jobs AS j, json_each(j.doc, '$.tags') AS t
    WHERE j.seq IN (SELECT value FROM json_each(?1))
);

-- name: delete_spawned_of
DELETE FROM spawned WHERE job IN (SELECT value FROM json_each(?1));

-- name: delete_tracked_of
DELETE FROM tracked WHERE job IN (SELECT value FROM json_each(?1));

-- name: delete_uniques_of
DELETE FROM uniques WHERE job IN (SELECT value FROM json_each(?1));

-- name: delete_deps_of
DELETE FROM deps WHERE on_job IN (SELECT value FROM json_each(?1));

-- name: delete_deps_on
DELETE FROM deps WHERE job IN (SELECT value FROM json_each(?1));

-- name: delete_history_of
DELETE FROM history WHERE job IN (SELECT value FROM json_each(?1));

-- name: delete_jobs
DELETE FROM jobs WHERE seq IN (SELECT value FROM json_each(?1));

-- name: quarantine
-- A job whose document cannot be read ends failed, with the valid document :doc (its error
-- and its raw text), its lease cleared.
UPDATE jobs SET
    state = 'failed', doc = :doc, worker = NULL, lease_expires_at = NULL, control = NULL,
    updated_at = :now, finished_at = :now
WHERE seq = :seq;

-- name: next_due
-- When the queue's first job scheduled for later falls due (an idle worker wakes then). The
-- ready index holds it; an idle queue has no waiting job, so this reads its scheduled ones.
SELECT min(ready_at) FROM jobs INDEXED BY jobs_ready
WHERE queue = :queue AND state IN ('waiting', 'scheduled') AND ready_at > :now;
