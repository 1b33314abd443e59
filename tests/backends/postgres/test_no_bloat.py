"""No bloat (schema version 4): the claim statements walk the partial index of ready jobs, so
finished rows, however many, are never scanned by a claim; the rescue probe walks the partial
index of running jobs; the table is vacuumed early. Plans are read with EXPLAIN, not timed."""

from __future__ import annotations

import time

from tests.backends.support.helpers import job_record
from zerog.backends.postgres import PostgresBackend
from zerog.backends.postgres._sql import PQ

FINISHED = 5000
WAITING = 300


def _plan(backend: PostgresBackend, sql: str, params: dict[str, object]) -> str:
    rows = backend.database.read(lambda conn: conn.execute("EXPLAIN " + sql, params).fetchall())
    return "\n".join(str(row[0]) for row in rows)


def test_claims_read_only_the_index_of_ready_jobs_beside_many_finished(
    pg: PostgresBackend,
) -> None:
    # Given 5,000 finished jobs and 300 waiting ones in one queue, the statistics up to date
    pg.put_many([job_record(pg) for _ in range(FINISHED + WAITING)])

    def finish(conn):  # type: ignore[no-untyped-def]
        conn.execute(
            "UPDATE jobs SET state = 'complete', finished_at = updated_at "
            "WHERE seq IN (SELECT seq FROM jobs ORDER BY seq LIMIT %s)",
            (FINISHED,),
        )

    pg.database.write(finish)
    pg.database.read(lambda conn: conn.execute("ANALYZE jobs"))
    params = {"queue": "q", "now": pg.clock(), "limit": 5}
    # When the claim statements are planned / Then each walks jobs_ready, never the table
    for sql in (PQ.next_ready, PQ.next_ready_plain):
        plan = _plan(pg, sql, params)
        assert "jobs_ready" in plan, plan
        assert "Seq Scan on jobs" not in plan, plan
    # And the rescue probe finds expired leases through the index of running jobs
    plan = _plan(pg, PQ.any_to_rescue, {"now": pg.clock()})
    assert "jobs_leases" in plan, plan


def test_the_jobs_table_is_vacuumed_early_and_leaves_room_for_hot_updates(
    pg: PostgresBackend,
) -> None:
    # Given a fresh schema / When its table's storage options are read
    rows = pg.database.read(
        lambda conn: conn.execute(
            "SELECT unnest(reloptions) FROM pg_class WHERE oid = 'jobs'::regclass"
        ).fetchall()
    )
    options = dict(str(row[0]).split("=") for row in rows)
    # Then autovacuum comes after 1% of the rows changed, and pages keep room
    assert options["autovacuum_vacuum_scale_factor"] == "0.01"
    assert options["fillfactor"] == "85"


def _wait_for_maintenance(pg: PostgresBackend, done: int) -> None:
    """Call rescue_expired (as heartbeats do) until the backend's vacuum ran ``done`` times."""
    deadline = time.monotonic() + 90
    while pg.vacuum.count < done:
        assert time.monotonic() < deadline, "no VACUUM or ANALYZE ran"
        pg.rescue_expired()
        time.sleep(0.2)


def test_workers_analyze_a_table_grown_since_and_vacuum_its_dead_rows(
    pg: PostgresBackend,
) -> None:
    # Given 6,000 jobs put at once into a fresh schema: its statistics say it is empty
    pg.put_many([job_record(pg) for _ in range(6000)])
    # When the workers' heartbeats call rescue_expired
    _wait_for_maintenance(pg, 1)
    # Then the table was analyzed: claims are planned on jobs_ready, with no sort of every job
    plan = _plan(pg, PQ.next_ready, {"queue": "q", "now": pg.clock(), "limit": 5})
    assert "jobs_ready" in plan, plan
    assert "Sort" not in plan, plan
    # And once most jobs left a dead row version behind, the table is vacuumed
    pg.database.write(lambda conn: conn.execute("UPDATE jobs SET priority = 1"))
    _wait_for_maintenance(pg, 2)
    vacuumed = pg.database.read(
        lambda conn: conn.execute(
            "SELECT vacuum_count FROM pg_stat_user_tables WHERE relid = 'jobs'::regclass"
        ).fetchone()
    )
    assert vacuumed is not None
    assert vacuumed[0] >= 1
