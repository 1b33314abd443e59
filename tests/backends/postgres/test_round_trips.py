"""What a worker's write costs on PostgreSQL in round trips, and that the writes sent together
(deferred, in one pipeline) keep the order, numbering and atomicity of one at a time."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from tests.backends.support.helpers import completed, events, put_job, take
from zerog.backends.postgres import PostgresBackend
from zerog.backends.postgres._db import PgConn
from zerog.backends.sql.txn import Txn
from zerog.model import ReserveRequest, Settlement, State


class Counting:
    """A psycopg connection that counts round trips: a statement sent alone, or a pipeline."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self.trips = 0
        self.piped = 0  # statements sent inside pipelines.
        self._in_pipeline = False

    def execute(self, sql: Any, params: Any = None) -> Any:
        if self._in_pipeline:
            self.piped += 1
        else:
            self.trips += 1
        return self.raw.execute(sql, params)

    def pipeline(self) -> Any:
        counting = self

        class Piped:
            def __enter__(self) -> None:
                counting.trips += 1
                counting._in_pipeline = True
                self.inner = counting.raw.pipeline()
                self.inner.__enter__()

            def __exit__(self, *exc: Any) -> None:
                counting._in_pipeline = False
                self.inner.__exit__(*exc)

        return Piped()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def counting(pg: PostgresBackend) -> tuple[PgConn, Counting]:
    conn = pg.database.connection()
    counter = Counting(conn.raw)
    conn.raw = counter  # type: ignore[assignment]
    return conn, counter


def test_eight_settlements_and_eight_claims_are_four_round_trips(pg: PostgresBackend) -> None:
    # Given eight running jobs and eight waiting ones
    for _ in range(16):
        put_job(pg)
    finished = [(take(pg).lease, completed({"n": n, "x": n / 3})) for n in range(8)]
    conn, counter = counting(pg)
    try:
        # When a worker writes the eight runs and claims eight more in one batch
        batch = pg.settle_batch(finished, ReserveRequest(queues=["q"], worker="w"), 8)
    finally:
        conn.raw = counter.raw
    # Then that is BEGIN, the eight leases read at once, the ready jobs read (the settlements
    # sent in the same pipeline) and COMMIT with the claims: 4 round trips, where one
    # statement each took 42; the eight settlements' updates, the claims' updates and each
    # pipeline's history entries went as one statement each
    assert len(batch.reservations) == 8
    assert not batch.lost
    assert counter.trips == 4
    # piped: the settle updates, their history, the read; the claims, their history, COMMIT.
    assert counter.piped == 6
    for n, (lease, _) in enumerate(finished):
        assert events(pg, lease.uuid) == ["put", "reserved", "completed"]
        record = pg.get(lease.uuid)
        assert record["state"] == State.COMPLETE.value
        assert record["result"] == {"n": n, "x": n / 3}
        assert record["worker"] is None
        assert record["finished_at"] >= record["started_at"]
    for reservation in batch.reservations:
        assert events(pg, reservation.lease.uuid) == ["put", "reserved"]
        assert pg.get(reservation.lease.uuid)["lease_token"] == reservation.lease.token


def test_a_lost_lease_in_a_batch_is_reported_and_the_others_settled(pg: PostgresBackend) -> None:
    for _ in range(3):
        put_job(pg)
    finished = [(take(pg).lease, completed()) for _ in range(3)]
    lost = finished[1][0].uuid
    pg.database.write(  # another holder's lease now (as after a rescue and a new claim).
        lambda c: c.execute(
            "UPDATE jobs SET lease_token = lease_token + 1 WHERE uuid = %s", (lost,)
        )
    )
    batch = pg.settle_batch(finished, None, 0)
    assert batch.lost == [lost]
    assert pg.get(finished[0][0].uuid)["state"] == State.COMPLETE.value
    assert pg.get(lost)["state"] == State.RUNNING.value
    assert pg.get(finished[2][0].uuid)["state"] == State.COMPLETE.value


def test_a_job_retried_and_claimed_again_in_one_batch_keeps_its_history_in_order(
    pg: PostgresBackend,
) -> None:
    uuid = put_job(pg)
    lease = take(pg).lease
    batch = pg.settle_batch(
        [(lease, Settlement.retried(0.0, None, None))],
        ReserveRequest(queues=["q"], worker="w"),
        4,
    )
    assert [r.lease.uuid for r in batch.reservations] == [uuid]
    assert events(pg, uuid) == ["put", "reserved", "retried", "reserved"]


def test_entries_of_one_job_sent_together_are_numbered_in_order(pg: PostgresBackend) -> None:
    uuid = put_job(pg)
    seq = pg.database.read(lambda c: c.execute(c.q.job, (uuid,)).fetchone()[0])

    def log(txn: Txn) -> None:
        for event in ("a", "b", "c"):
            txn.log(seq, event, "waiting")

    pg.transact(log)
    assert events(pg, uuid) == ["put", "a", "b", "c"]


def test_a_failing_deferred_write_fails_the_whole_transaction(pg: PostgresBackend) -> None:
    uuid = put_job(pg)
    seq = pg.database.read(lambda c: c.execute(c.q.job, (uuid,)).fetchone()[0])

    def bad(txn: Txn) -> None:
        txn.log(seq, "never", "waiting")
        txn.defer("UPDATE jobs SET state = NULL WHERE seq = %s", (seq,))  # NOT NULL.

    with pytest.raises(Exception, match="null value"):
        pg.transact(bad)
    assert events(pg, uuid) == ["put"]
    assert pg.get(uuid)["state"] == State.WAITING.value
    pg.transact(lambda txn: txn.log(seq, "after", "waiting"))  # the connection works on.
    assert events(pg, uuid) == ["put", "after"]


def test_a_claim_of_more_than_is_ready_looks_once(pg: PostgresBackend) -> None:
    # Given three ready jobs
    for _ in range(3):
        put_job(pg)
    conn, counter = counting(pg)
    try:
        # When a worker asks for eight
        batch = pg.settle_batch((), ReserveRequest(queues=["q"], worker="w"), 8)
    finally:
        conn.raw = counter.raw
    # Then it gets the three, in BEGIN, one read and COMMIT (no second look at the queue)
    assert len(batch.reservations) == 3
    assert counter.trips == 3


def test_a_script_after_deferred_writes_runs(pg: PostgresBackend) -> None:
    uuid = put_job(pg)
    seq = pg.database.read(lambda c: c.execute(c.q.job, (uuid,)).fetchone()[0])

    def script(txn: Txn) -> None:
        txn.log(seq, "a", "waiting")
        txn.conn.execute("SELECT 1; SELECT 2")  # several statements: no pipeline for them.

    pg.transact(script)
    assert events(pg, uuid) == ["put", "a"]
