"""SQLite and the flow features (dependencies, unique keys, debounce, recurring jobs, limits,
retention): what only SQLite can show.

- the same random steps on memory and SQLite leave the same records, value for value;
- recurring jobs spawn exactly one job per tick under racing processes;
- the steps the beanstalk backend reuses report the jobs they made ready;
- the hot path runs no more statements than before, and the new queries read their indexes.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.backends.conftest import START
from tests.backends.support import recurrence_race
from tests.backends.support.helpers import completed, put_job, settle_then_take, take
from zerog import stats
from zerog.backends.contract import Backend
from zerog.backends.memory import MemoryBackend
from zerog.backends.sql.rows import Encoded
from zerog.backends.sql.steps.reserve import SCAN_BATCH
from zerog.backends.sql.steps.settle import settle_row
from zerog.backends.sql.txn import Txn
from zerog.backends.sqlite import SqliteBackend
from zerog.backends.sqlite._sql import Q
from zerog.model import (
    Attempts,
    Change,
    Lease,
    ListQuery,
    ReserveRequest,
    Retention,
    Settlement,
    State,
)
from zerog.record import Debounce, JobSpec, Record, error_entry, new_record
from zerog.recurrence import RecurSpec, new_recurrence
from zerog.store import Store
from zerog.testing import FakeClock

# --- the same steps as memory ------------------------------------------------------------------

QUEUES = ("a", "b", "c")


class Script:
    """Random steps of every kind on one backend; everything each step returned is kept."""

    def __init__(self, backend: Backend, clock: FakeClock, seed: int) -> None:
        self.backend, self.clock, self.rng = backend, clock, random.Random(seed)
        self.uuids: list[str] = []
        self.seen: list[Any] = []
        self.made = 0

    def run(self, steps: int) -> list[Any]:
        steps_by_kind = [
            self.put,
            self.put,
            self.put,
            self.put_many,
            self.reserve,
            self.reserve,
            self.settle,
            self.settle,
            self.act,
            self.kick,
            self.alter,
            self.tick,
            self.recur,
            self.limit,
            self.pause,
        ]
        for _ in range(steps):
            self.rng.choice(steps_by_kind)()
        return [*self.seen, self.everything()]

    def outcome(self, name: str, step: Callable[[], Any]) -> None:
        try:
            self.seen.append((name, step()))
        except Exception as exc:  # the error is part of what is compared.
            self.seen.append((name, type(exc).__name__, str(exc)))

    def record(self, **spec: Any) -> Record:
        self.made += 1
        spec.setdefault("queue", self.rng.choice(QUEUES))
        return new_record(
            JobSpec(type="t", uuid=f"j{self.made}", ttr_seconds=10.0, **spec), self.clock()
        )

    def some(self, count: int) -> list[str]:
        return self.rng.sample(self.uuids, min(count, len(self.uuids)))

    def put(self) -> None:
        rng, spec = self.rng, {"priority": self.rng.choice([0, 0, 1, -1])}
        if self.uuids and rng.random() < 0.5:
            spec["depends"] = self.some(rng.randint(1, 3)) + (
                ["nope"] if rng.random() < 0.1 else []
            )
        if rng.random() < 0.3:
            spec["unique"] = rng.choice(["k1", "k2", True])
            spec["on_duplicate"] = rng.choice(["merge", "refuse"])
        if rng.random() < 0.2:
            spec["debounce"] = Debounce(
                key=rng.choice(["d1", "d2"]),
                seconds=rng.choice([5.0, 30.0]),
                always_delay=rng.random() < 0.3,
            )
        elif rng.random() < 0.2:
            spec["delay_seconds"] = rng.choice([1.0, 20.0])
        if rng.random() < 0.2:
            spec["ttl_seconds"] = 50.0
        if rng.random() < 0.3:
            spec["throttles"] = [rng.choice(["x", "y"])]
        if rng.random() < 0.3:
            spec["tags"] = rng.sample(["t1", "t2", "t3"], rng.randint(1, 2))
        record = self.record(values={"v": rng.randint(0, 2)}, **spec)
        self.outcome("put", lambda: self.backend.put(record))
        if self.seen[-1][1:] and getattr(self.seen[-1][1], "outcome", "") in ("put", "delayed"):
            self.uuids.append(record["uuid"])

    def put_many(self) -> None:
        batch = [self.record(depends=self.some(self.rng.randint(0, 1))) for _ in range(2)]
        self.outcome("put_many", lambda: self.backend.put_many(batch))
        if len(self.seen[-1]) == 2:
            self.uuids.extend(r["uuid"] for r in batch)

    def reserve(self) -> None:
        request = ReserveRequest(queues=self.rng.sample(QUEUES, 2), worker="w1")
        self.outcome("reserve", lambda: self.backend.reserve(request))

    def settle(self) -> None:
        running = self.backend.list(ListQuery(state="running", limit=500)).records
        if not running:
            return
        record = self.rng.choice(sorted(running, key=lambda r: str(r["uuid"])))
        lease = Lease(record["uuid"], record["lease_token"], record["worker"])
        settlement = self.settlement()
        if self.rng.random() < 0.3:
            request = ReserveRequest(queues=list(QUEUES), worker="w2")
            self.outcome("both", lambda: settle_then_take(self.backend, lease, settlement, request))
        else:
            self.outcome("settle", lambda: self.backend.settle(lease, settlement))

    def settlement(self) -> Settlement:
        error = error_entry(self.clock(), 1, "bad")
        return self.rng.choice(
            [
                Settlement(state=State.COMPLETE, event="completed", result={"r": 1}),
                Settlement(state=State.COMPLETE, event="completed"),
                Settlement(state=State.FAILED, event="failed", error=error),
                Settlement(state=State.WAITING, event="retried", delay_seconds=5.0, error=error),
                Settlement(state=State.CANCELLED, event="cancelled"),
                Settlement(state=State.PAUSED, event="paused", attempts=Attempts.REFUND),
                Settlement(
                    state=State.WAITING,
                    event="advanced",
                    queue=self.rng.choice(QUEUES),
                    attempts=Attempts.RESET,
                    depends=self.some(self.rng.randint(0, 1)),
                ),
            ]
        )

    def act(self) -> None:
        if self.uuids:
            uuid = self.rng.choice([*self.uuids, "nope"])
            action = self.rng.choice(["cancel", "pause", "resume", "retry", "retry", "timeout"])
            self.outcome("act", lambda: self.backend.act(uuid, action, "op"))

    def kick(self) -> None:
        queue, limit = self.rng.choice(QUEUES), self.rng.randint(1, 3)
        self.outcome("kick", lambda: self.backend.kick(queue, limit))

    def alter(self) -> None:
        if not self.uuids:
            return
        uuid = self.rng.choice(self.uuids)
        change = self.rng.choice(
            [
                Change(priority=self.rng.choice([-2, 0, 3])),
                Change(queue=self.rng.choice(QUEUES)),
                Change(add_tags=["t4"], remove_tags=["t1"], tracked=self.rng.random() < 0.5),
                Change(depend=self.some(2)),
                Change(undepend=self.some(1)),
                Change(undepend_all=True),
            ]
        )
        self.outcome("alter", lambda: self.backend.alter(uuid, change, "op"))

    def tick(self) -> None:
        self.clock.advance(self.rng.choice([1.0, 5.0, 17.0, 61.0]))
        limit = self.rng.randint(1, 5)
        self.outcome("rescue", lambda: self.backend.rescue_expired(limit))

    def recur(self) -> None:
        rid, queue = self.rng.choice(["r1", "r2"]), self.rng.choice(QUEUES)
        kind = self.rng.randrange(3)
        if kind == 0:
            spec = RecurSpec(
                type="r",
                queue=queue,
                id=rid,
                interval_seconds=self.rng.choice([10.0, 30.0]),
                backlog=self.rng.choice([0, 2]),
                throttles=self.rng.choice([[], ["x"]]),
            )
            self.outcome("recur", lambda: self.backend.recur(new_recurrence(spec, self.clock())))
        elif kind == 1:
            self.outcome("unrecur", lambda: self.backend.unrecur(rid))
        else:
            change = {"priority": self.rng.randint(-1, 1), "queue": queue}
            self.outcome("update", lambda: self.backend.update_recurrence(rid, change))

    def limit(self) -> None:
        name = self.rng.choice(["x", "y", "queue:a", "queue:b"])
        maximum = self.rng.choice([None, 0, 1, 2])
        self.outcome("limit", lambda: self.backend.set_limit(name, maximum))

    def pause(self) -> None:
        queue, paused = self.rng.choice(QUEUES), self.rng.random() < 0.5
        self.outcome("pause", lambda: self.backend.pause_queue(queue, paused))

    def everything(self) -> dict[str, Any]:
        backend = self.backend
        listed = backend.list(ListQuery(limit=500)).records
        return {
            "jobs": [backend.get(r["uuid"], history=True) for r in listed],
            "counts": backend.counts(),
            "lists": [
                backend.list(query).records
                for query in (
                    ListQuery(tracked=True, limit=500),
                    ListQuery(tracked=False, limit=500),
                    ListQuery(recurrence="r1", limit=500),
                    ListQuery(tag="t4", limit=500),
                )
            ],
            "recurrences": backend.recurrences(),
            "limits": backend.limits(),
            "top_tags": backend.top_tags(10),
        }


def _both(tmp_path: Path, life: Callable[[Backend, FakeClock], Any]) -> list[Any]:
    """What ``life`` returns on a memory and on a SQLite backend, each with its own clock."""
    lives = []
    for make in (MemoryBackend, lambda c: SqliteBackend(tmp_path / "same.db", c)):
        clock = FakeClock(START)
        backend = make(clock)
        try:
            lives.append(life(backend, clock))
        finally:
            backend.close()
    return lives


@pytest.mark.parametrize("seed", range(8))
def test_random_flow_steps_leave_the_same_records_as_memory(tmp_path: Path, seed: int) -> None:
    # Given the same random steps (puts with dependencies, unique keys and debounce, runs
    # and their endings, operator actions, changes, recurring jobs, limits) on both backends
    def life(backend: Backend, clock: FakeClock) -> list[Any]:
        backend.history_limit = random.Random(seed).choice([None, 3, 6])
        return Script(backend, clock, seed).run(150)

    memory, sqlite = _both(tmp_path, life)
    # Then every step returned the same, and every record and list is the same
    for step, (expected, got) in enumerate(zip(memory, sqlite, strict=True)):
        assert got == expected, f"step {step}"


def test_retention_and_statistics_are_pruned_as_memory_prunes_them(tmp_path: Path) -> None:
    # Given jobs finished at different times and in each prunable state, and statistics
    def life(backend: Backend, clock: FakeClock) -> list[Any]:
        for i in range(30):
            ttl = 5.0 if i % 7 == 0 else None
            uuid = put_job(backend, uuid=f"j{i}", tags=["x"], ttl_seconds=ttl)
            if i % 5 == 0:
                backend.act(uuid, "cancel")
            elif i % 7 != 0:
                backend.settle(take(backend).lease, completed())
            clock.advance(3.0 + i % 4)
            backend.rescue_expired()
        for days_ago in (0, 2, 9, 40):
            delta = stats.StatsDelta(queue="q", day=stats.day_of(clock()) - days_ago * stats.DAY)
            delta.run.add(5.0)
            backend.add_stats([delta])
        keep = Retention(jobs_seconds=60.0, jobs_count=12, stats_days=30, histogram_days=3)
        seen: list[Any] = [backend.prune(keep, limit) for limit in (0, 4, 5, 100, 100)]
        seen.append(backend.list(ListQuery(limit=500)).records)
        seen.append(backend.top_tags())
        today = stats.day_of(clock())
        seen.append([backend.stats("q", today - d * stats.DAY) for d in (0, 2, 9, 40)])
        return seen

    # When retention runs in small and large batches / Then both keep the same jobs
    memory, sqlite = _both(tmp_path, life)
    assert sqlite == memory
    assert memory[:5] == [0, 4, 5, 8, 0]


# --- recurring jobs under racing processes --------------------------------------------------------


@pytest.mark.slow
def test_racing_processes_spawn_exactly_one_job_per_tick(tmp_path: Path) -> None:
    # Given a recurrence every 0.1 s, and four processes reserving from its queue for 4 s
    backend = SqliteBackend(tmp_path / "ticks.db")
    result = recurrence_race.race(f"sqlite:///{tmp_path / 'ticks.db'}", backend)
    # Then one job per tick, each run at most once
    recurrence_race.assert_one_job_per_tick(result)
    backend.close()


# --- what the beanstalk backend reuses ------------------------------------------------------------


def test_the_steps_report_the_jobs_they_made_ready(tmp_path: Path, clock: FakeClock) -> None:
    # Given a job two others wait for, and a recurrence due in another queue
    backend = SqliteBackend(tmp_path / "ready.db", clock)
    try:
        first = put_job(backend, "a")
        waiting = [put_job(backend, "b", depends=[first]) for _ in range(2)]
        lease = take(backend, "a").lease
        # When settle_row completes it in the caller's transaction, with a Txn of the caller's
        txn_of: list[Txn] = []

        def settle(conn: sqlite3.Connection) -> None:
            txn_of.append(Txn(conn, clock()))
            settle_row(conn, lease, completed(), Encoded(None), clock(), txn_of[0])

        backend.database.write(settle)
        # Then the Txn names the dependents it released, with their seqs
        assert [uuid for _seq, uuid in txn_of[0].readied] == waiting
        # And so does a reserve that spawns a recurring job
        backend.recur(new_recurrence(RecurSpec(type="t", queue="r", interval_seconds=9), clock()))
        spawned: list[Txn] = []

        def reserve(conn: sqlite3.Connection) -> None:
            from zerog.backends.sql.steps.reserve import reserve_step

            spawned.append(Txn(conn, clock()))
            reserve_step(spawned[0], ["r"], "w")

        backend.database.write(reserve)
        assert len(spawned[0].readied) == 1
    finally:
        backend.close()


# --- costs ----------------------------------------------------------------------------------------


def test_a_settle_and_reserve_runs_no_more_statements_than_before_the_flow_features(
    tmp_path: Path,
) -> None:
    # Given jobs with no dependency, unique key, limit or recurrence
    backend = SqliteBackend(tmp_path / "hot.db")
    try:
        store = Store(backend)
        for _ in range(3):
            store.enqueue(JobSpec(type="t", queue="q"))
        reservation = store.reserve(["q"], "w")
        assert reservation is not None
        # When a worker settles one and reserves the next in one step
        seen: list[str] = []
        conn = backend.database.connection()
        conn.set_trace_callback(seen.append)
        store.settle_batch([(reservation.lease, Settlement.completed())], ["q"], 1, "w")
        conn.set_trace_callback(None)
        # Then that is BEGIN, the lease check, the update, a history entry, the next job,
        # its start, its history entry, COMMIT: eight statements, as before them (the trace
        # reports the history cap's trigger as its INSERT again, with the same values)
        statements = [sql for i, sql in enumerate(seen) if i == 0 or sql != seen[i - 1]]
        assert len(statements) == 8
    finally:
        backend.close()


def test_a_batch_of_eight_runs_and_eight_claims_is_one_transaction_of_few_statements(
    tmp_path: Path,
) -> None:
    # Given eight running jobs and eight waiting ones
    backend = SqliteBackend(tmp_path / "batch.db")
    try:
        store = Store(backend)
        for _ in range(16):
            store.enqueue(JobSpec(type="t", queue="q"))
        finished = [(store.reserve(["q"], "w").lease, Settlement.completed()) for _ in range(8)]
        # When a worker writes the eight runs and claims eight more in one batch
        seen: list[str] = []
        conn = backend.database.connection()
        conn.set_trace_callback(seen.append)
        taken = store.settle_batch(finished, ["q"], 8, "w")
        conn.set_trace_callback(None)
        # Then that is BEGIN, one lease check for the eight runs, two statements per run
        # (update, history), one read of the eight ready jobs, two per claim (start, history)
        # and COMMIT: 36, where eight settle-and-reserve steps run 64
        assert len(taken) == 8
        statements = [sql for i, sql in enumerate(seen) if i == 0 or sql != seen[i - 1]]
        assert (statements[0], statements[-1]) == ("BEGIN IMMEDIATE", "COMMIT")
        assert len(statements) == 2 + 1 + 8 * 2 + 1 + 8 * 2
    finally:
        backend.close()


def test_reserve_and_retention_queries_read_their_indexes(tmp_path: Path) -> None:
    backend = SqliteBackend(tmp_path / "plan.db")
    conn = backend.database.connection()

    def plan(sql: str, params: Any) -> str:
        return " ".join(row[-1] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))

    try:
        for sql, params in (
            (Q.next_ready, {"queue": "q", "now": 0, "limit": 1}),
            (Q.ready_scan, {"queue": "q", "now": 0, "priority": 0, "seq": 0, "limit": 1}),
        ):
            assert "jobs_ready" in plan(sql, params)
            assert "TEMP B-TREE" not in plan(sql, params)
        for sql, params in (
            (Q.finished_boundary, {"keep": 5}),
            (Q.doomed_by_age, {"cutoff": 0, "limit": 5}),
            (Q.doomed_by_count, {"finished_at": 0, "seq": 0, "limit": 5}),
        ):
            assert "jobs_finished" in plan(sql, params)
            assert "TEMP B-TREE" not in plan(sql, params)
        assert "PRIMARY KEY (tag=? AND job=?)" in plan(Q.delete_tags_of, ("[1]",))
        assert "recurring_due" in plan(Q.due_recurrences, {"queue": "q", "now": 0})
    finally:
        backend.close()


def test_reserve_looks_past_a_batch_of_throttled_jobs(tmp_path: Path, clock: FakeClock) -> None:
    # Given more throttled jobs than one scan batch ahead of a free one, the throttle full
    backend = SqliteBackend(tmp_path / "scan.db", clock)
    try:
        backend.set_limit("api", 1)
        running = put_job(backend, throttles=["api"])
        take(backend)
        backend.put_many(
            [
                new_record(JobSpec(type="t", queue="q", throttles=["api"]), clock())
                for _ in range(SCAN_BATCH + 20)
            ]
        )
        free = put_job(backend)
        # When a worker reserves / Then it gets the free job; the throttled ones stay waiting
        assert take(backend, worker="w2").lease.uuid == free
        assert backend.counts()["q"] == {"running": 2, "waiting": SCAN_BATCH + 20}
        assert backend.get(running)["state"] == "running"
    finally:
        backend.close()


def test_the_history_cap_follows_history_limit_on_every_thread(
    tmp_path: Path, clock: FakeClock
) -> None:
    # Given a job that is requeued again and again
    backend = SqliteBackend(tmp_path / "cap.db", clock)
    requeue = Settlement(state=State.WAITING, event="requeued", attempts=Attempts.RESET)

    def cycles(count: int) -> int:
        for _ in range(count):
            backend.settle(take(backend).lease, requeue)
        return len(backend.get(uuid, history=True)["history"])

    try:
        uuid = put_job(backend)
        # When the cap is 3 / Then three entries are kept; with no cap all are kept
        backend.history_limit = 3
        assert cycles(2) == 3
        backend.history_limit = None
        assert cycles(2) == 7
        # When the cap comes down, the next entry trims to it, on another thread's connection
        backend.history_limit = 2
        worker = threading.Thread(target=cycles, args=(1,))
        worker.start()
        worker.join()
        assert [h["event"] for h in backend.get(uuid, history=True)["history"]] == [
            "reserved",
            "requeued",
        ]
    finally:
        backend.close()
