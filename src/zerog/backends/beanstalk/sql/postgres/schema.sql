-- The beanstalk backend's tables on PostgreSQL, beside the PostgreSQL job store's own (which it
-- does not change, but for a trigger on jobs): those of ../sqlite/schema.sql (see there for what
-- each holds), in PostgreSQL's types. Every statement is idempotent; _sql_records.py runs this
-- under the schema's advisory lock, only when `meta` does not say it ran (the last statement).

CREATE TABLE IF NOT EXISTS beanstalk_entries (
    job           bigint PRIMARY KEY,
    bid           bigint,
    due_at        float8,
    delayed_until float8
);
CREATE INDEX IF NOT EXISTS beanstalk_entries_due ON beanstalk_entries (due_at)
    WHERE due_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS beanstalk_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE IF NOT EXISTS beanstalk_parked (
    job bigint PRIMARY KEY
);

CREATE TABLE IF NOT EXISTS beanstalk_gone (
    bid  bigint NOT NULL,
    uuid text   NOT NULL
);

-- Whatever way a job row goes, its entry bookkeeping goes with it (a pruned job's entry is
-- collected in beanstalk_gone, taken by the deleting transaction).
CREATE OR REPLACE FUNCTION beanstalk_job_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO beanstalk_gone (bid, uuid)
        SELECT bid, OLD.uuid FROM beanstalk_entries WHERE job = OLD.seq AND bid IS NOT NULL;
    DELETE FROM beanstalk_entries WHERE job = OLD.seq;
    DELETE FROM beanstalk_parked WHERE job = OLD.seq;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER beanstalk_job_deleted AFTER DELETE ON jobs FOR EACH ROW
    EXECUTE FUNCTION beanstalk_job_deleted();

INSERT INTO meta (key, value) VALUES ('beanstalk_tables', '1') ON CONFLICT (key) DO NOTHING;
