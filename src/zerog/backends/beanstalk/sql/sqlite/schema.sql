-- The beanstalk backend's tables, beside the SQLite job store's own (which it does not change).
-- Every statement is idempotent, so that several processes opening a fresh file may all run it.

-- Which beanstalkd entry is each job's own. `job` is jobs.seq. `bid` is beanstalkd's job id of
-- the entry (NULL: the job has none, e.g. it is finished). An entry delivered with another id is
-- stale and is deleted. `due_at` (store clock) and `delayed_until` (wall clock) are set while
-- beanstalkd delays the entry of a scheduled job: when the store's clock says the job is due
-- before beanstalkd's whole-second delay ran out, the entry is kicked.
CREATE TABLE IF NOT EXISTS beanstalk_entries (
    job           INTEGER PRIMARY KEY,
    bid           INTEGER,
    due_at        REAL,
    delayed_until REAL
);
CREATE INDEX IF NOT EXISTS beanstalk_entries_due ON beanstalk_entries (due_at)
    WHERE due_at IS NOT NULL;

-- What the reconciler remembers between runs: the beanstalkd server it last saw, and where its
-- check of ready jobs' entries stopped.
CREATE TABLE IF NOT EXISTS beanstalk_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Jobs whose entry is buried because one of their throttles was full when it was delivered
-- (`job` is jobs.seq; the entry is the job's own in beanstalk_entries). When a running job ends
-- or a limit changes, those whose limits have room are kicked; a row goes when its job runs,
-- or when it is found no longer ready.
CREATE TABLE IF NOT EXISTS beanstalk_parked (
    job INTEGER PRIMARY KEY
);

-- Entries of jobs deleted from the store (retention), collected by the trigger below inside the
-- deleting transaction, and taken (deleted) by the same transaction to be removed from
-- beanstalkd after its commit. Whatever way a job row goes, its entry bookkeeping goes with it.
CREATE TABLE IF NOT EXISTS beanstalk_gone (
    bid  INTEGER NOT NULL,
    uuid TEXT    NOT NULL
);
CREATE TRIGGER IF NOT EXISTS beanstalk_job_deleted AFTER DELETE ON jobs
BEGIN
    INSERT INTO beanstalk_gone (bid, uuid)
        SELECT bid, OLD.uuid FROM beanstalk_entries WHERE job = OLD.seq AND bid IS NOT NULL;
    DELETE FROM beanstalk_entries WHERE job = OLD.seq;
    DELETE FROM beanstalk_parked WHERE job = OLD.seq;
END;
