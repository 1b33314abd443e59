-- The audit trail on SQLite (zerog.backends.sql.audit): one append-only table, made by the
-- first audit step of a store (idempotent), so no schema version changes for it.

-- name: create_audit
CREATE TABLE IF NOT EXISTS audit (
    seq    INTEGER PRIMARY KEY AUTOINCREMENT,
    at     REAL    NOT NULL,
    actor  TEXT    NOT NULL,
    source TEXT    NOT NULL,
    action TEXT    NOT NULL,
    target TEXT    NOT NULL,
    detail TEXT
);

-- name: add_audit
INSERT INTO audit (at, actor, source, action, target, detail)
VALUES (:at, :actor, :source, :action, :target, :detail)
RETURNING seq;

-- name: audit_page
-- Newest first; each filter applies when its parameter is set.
SELECT seq, at, actor, source, action, target, detail FROM audit
WHERE (:before IS NULL OR seq < :before)
  AND (:actor IS NULL OR actor = :actor)
  AND (:action IS NULL OR action = :action)
  AND (:target IS NULL OR target = :target)
ORDER BY seq DESC
LIMIT :limit;
