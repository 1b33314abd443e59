-- Named statements of the beanstalk backend's SQLite record store; each starts with a
-- "-- name: <name>" line. They read the SQLite backend's `jobs` table and write only
-- `beanstalk_entries` and `beanstalk_meta`; jobs rows are written by the SQLite backend's steps.

-- name: claim_row
-- A job's whole row (seq first, doc last, as `SELECT * FROM jobs`), then its entry.
SELECT jobs.*, e.bid, e.due_at FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.uuid = ?;

-- name: entry_row
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.uuid = ?;

-- name: entry_row_by_seq
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.seq = ?;

-- name: ready_after
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.state IN ('waiting', 'scheduled') AND jobs.seq > :after
ORDER BY jobs.seq
LIMIT :limit;

-- name: set_entry
INSERT INTO beanstalk_entries (job, bid, due_at, delayed_until)
VALUES (:job, :bid, :due_at, :delayed_until)
ON CONFLICT (job) DO UPDATE SET
    bid = excluded.bid, due_at = excluded.due_at, delayed_until = excluded.delayed_until;

-- name: seq_of
SELECT seq FROM jobs WHERE uuid = ?;

-- name: next_due
SELECT min(due_at) FROM beanstalk_entries WHERE due_at IS NOT NULL;

-- name: due
SELECT job, bid, delayed_until FROM beanstalk_entries
WHERE due_at IS NOT NULL AND due_at <= :now
ORDER BY due_at
LIMIT :limit;

-- name: forget_delay
UPDATE beanstalk_entries SET due_at = NULL, delayed_until = NULL WHERE job = ?;

-- name: get_meta
SELECT value FROM beanstalk_meta WHERE key = ?;

-- name: set_meta
INSERT INTO beanstalk_meta (key, value) VALUES (?, ?)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
