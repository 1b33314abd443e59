-- Named statements of the beanstalk backend's record store on PostgreSQL: those of
-- ../sqlite/queries.sql (same names, same parameters, same result columns; see there), in
-- PostgreSQL's SQL and psycopg's placeholders (%s, %(name)s).

-- name: claim_row
-- A job's whole row (seq first, doc last, as `SELECT * FROM jobs`), then its entry, then what a
-- claim must know besides, one lookup each: is its queue paused, is any limit set, is it parked.
SELECT jobs.*, e.bid, e.due_at,
       EXISTS (SELECT 1 FROM queues WHERE name = jobs.queue AND paused_at IS NOT NULL),
       EXISTS (SELECT 1 FROM limits) OR EXISTS (SELECT 1 FROM rate_limits),
       EXISTS (SELECT 1 FROM beanstalk_parked WHERE job = jobs.seq)
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.uuid = %s;

-- name: entry_row
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.uuid = %s;

-- name: entry_row_by_seq
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.seq = %s;

-- name: settled_row
-- entry_row_by_seq, then whether any job is parked (the settlement may have made room for one).
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid, EXISTS (SELECT 1 FROM beanstalk_parked)
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.seq = %s;

-- name: ready_after
SELECT jobs.seq, jobs.uuid, jobs.state, jobs.queue, jobs.priority, jobs.ttr_seconds, jobs.ready_at,
       e.bid
FROM jobs LEFT JOIN beanstalk_entries AS e ON e.job = jobs.seq
WHERE jobs.state IN ('waiting', 'scheduled') AND jobs.seq > %(after)s
ORDER BY jobs.seq
LIMIT %(limit)s;

-- name: set_entry
INSERT INTO beanstalk_entries (job, bid, due_at, delayed_until)
VALUES (%(job)s, %(bid)s, %(due_at)s, %(delayed_until)s)
ON CONFLICT (job) DO UPDATE SET
    bid = excluded.bid, due_at = excluded.due_at, delayed_until = excluded.delayed_until;

-- name: next_due
SELECT min(due_at) FROM beanstalk_entries WHERE due_at IS NOT NULL;

-- name: due
SELECT job, bid, delayed_until FROM beanstalk_entries
WHERE due_at IS NOT NULL AND due_at <= %(now)s
ORDER BY due_at
LIMIT %(limit)s;

-- name: forget_delay
UPDATE beanstalk_entries SET due_at = NULL, delayed_until = NULL WHERE job = %s;

-- name: get_meta
SELECT value FROM beanstalk_meta WHERE key = %s;

-- name: set_meta
INSERT INTO beanstalk_meta (key, value) VALUES (%s, %s)
ON CONFLICT (key) DO UPDATE SET value = excluded.value;

-- --- flow: parked entries, recurrences, retention ----------------------------------------------

-- name: park
INSERT INTO beanstalk_parked (job) VALUES (%s) ON CONFLICT DO NOTHING;

-- name: unpark_job
DELETE FROM beanstalk_parked WHERE job = %s;

-- name: any_parked
SELECT EXISTS (SELECT 1 FROM beanstalk_parked);

-- name: parked
-- The parked jobs in the order they would run, with their entry and what they count against.
SELECT p.job, e.bid, j.state, j.queue, j.priority, j.doc->>'throttles'
FROM beanstalk_parked AS p
JOIN jobs AS j ON j.seq = p.job
LEFT JOIN beanstalk_entries AS e ON e.job = p.job
ORDER BY j.priority, j.seq
LIMIT %(limit)s;

-- name: recurrences_due
SELECT queue, min(next_at) FROM recurring GROUP BY queue;

-- name: take_gone
DELETE FROM beanstalk_gone RETURNING bid, uuid;
