-- The audit trail on PostgreSQL: see ../sqlite.sql. The table is in the installation's schema
-- (the connection's search_path), made under the schema's write lock like every write.

-- name: create_audit
CREATE TABLE IF NOT EXISTS audit (
    seq    bigserial PRIMARY KEY,
    at     float8    NOT NULL,
    actor  text      NOT NULL,
    source text      NOT NULL,
    action text      NOT NULL,
    target text      NOT NULL,
    detail text
);

-- name: add_audit
INSERT INTO audit (at, actor, source, action, target, detail)
VALUES (%(at)s, %(actor)s, %(source)s, %(action)s, %(target)s, %(detail)s)
RETURNING seq;

-- name: audit_page
SELECT seq, at, actor, source, action, target, detail FROM audit
WHERE (%(before)s::bigint IS NULL OR seq < %(before)s::bigint)
  AND (%(actor)s::text IS NULL OR actor = %(actor)s::text)
  AND (%(action)s::text IS NULL OR action = %(action)s::text)
  AND (%(target)s::text IS NULL OR target = %(target)s::text)
ORDER BY seq DESC
LIMIT %(limit)s;
