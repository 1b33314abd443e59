-- Version 2: LISTEN/NOTIFY wake-ups (see ../_listen.py). A job that may have become claimable
-- (put, released, retried, kicked, its dependencies met, a recurrence spawned, brought forward,
-- its queue resumed) sends a notification without payload on the channel "zerog.<schema>"
-- (63 bytes at most, PostgreSQL's limit on a name). It is a hint, sent at COMMIT (never for a
-- transaction rolled back) and once per transaction however many rows it made ready: a
-- waiting worker wakes and claims, and the claim decides. Polling stays as the fallback.

CREATE OR REPLACE FUNCTION notify_ready() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(left('zerog.' || TG_TABLE_SCHEMA, 63), '');
    RETURN NULL;
END
$$;

CREATE OR REPLACE TRIGGER jobs_put_notify AFTER INSERT ON jobs FOR EACH ROW
    WHEN (NEW.state IN ('waiting', 'scheduled'))
    EXECUTE FUNCTION notify_ready();

CREATE OR REPLACE TRIGGER jobs_ready_notify AFTER UPDATE OF state, ready_at ON jobs FOR EACH ROW
    WHEN (NEW.state IN ('waiting', 'scheduled')
          AND (OLD.state IS DISTINCT FROM NEW.state OR NEW.ready_at < OLD.ready_at))
    EXECUTE FUNCTION notify_ready();

CREATE OR REPLACE TRIGGER queues_resumed_notify AFTER UPDATE OF paused_at ON queues FOR EACH ROW
    WHEN (OLD.paused_at IS NOT NULL AND NEW.paused_at IS NULL)
    EXECUTE FUNCTION notify_ready();
