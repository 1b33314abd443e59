"""beanstalk: the flow features where beanstalkd's entries must follow the store.

Dependents released by a completion, priority changes and moves, jobs made to depend,
throttles and queue limits, pipelines, recurring jobs under racing processes, retention, the
operator's timeout, the history cap; and the same random steps as on memory.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import greenstalk
import pytest

from tests.backends.conftest import START
from tests.backends.sqlite.test_sqlite_flow import Script
from tests.backends.support import beanstalkd, recurrence_race
from tests.backends.support.beanstalk_fixtures import (  # noqa: F401
    beanstalk_backend,
    beanstalk_client,
    beanstalk_url,
)
from tests.backends.support.helpers import completed, put_job, reserve, settle_then_take, take
from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend
from zerog.backends.beanstalk._wire import priority_of
from zerog.backends.contract import Backend
from zerog.backends.memory import MemoryBackend
from zerog.errors import ReservationLost
from zerog.model import Attempts, Change, ReserveRequest, Retention, Settlement, State
from zerog.testing import FakeClock

REQUEST = ReserveRequest(queues=["q"], worker="w1")


def _tube(backend: BeanstalkBackend, client: greenstalk.Client[str], queue: str) -> dict[str, int]:
    """How many entries the queue's tube holds, by state (a tube never used counts none)."""
    try:
        stats = client.stats_tube(backend.entries.tube(queue))
    except greenstalk.NotFoundError:
        return {"ready": 0, "delayed": 0, "buried": 0, "reserved": 0}
    kinds = ("ready", "delayed", "buried", "reserved")
    return {kind: int(stats[f"current-jobs-{kind}"]) for kind in kinds}  # type: ignore[literal-required]


def _entry(backend: BeanstalkBackend, client: greenstalk.Client[str], uuid: str) -> dict[str, Any]:
    """beanstalkd's stats of the job's own entry."""
    found = backend.records.entry_of(uuid)
    assert found is not None
    assert found[1] is not None
    return dict(client.stats_job(found[1]))


# --- dependencies -------------------------------------------------------------------------------


def test_a_dependent_is_held_back_in_its_tube_and_released_in_its_place(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given a job in depends, and a job of the same queue put after it
    first = put_job(backend, "a")
    dependent = put_job(backend, "b", depends=[first])
    later = put_job(backend, "b")
    # Then its entry is in its tube already, held back (delayed), and it cannot be reserved
    assert _entry(backend, client, dependent)["state"] == "delayed"
    held_back = backend.records.entry_of(dependent)
    # When its dependency completes
    backend.settle(take(backend, "a").lease, completed())
    # Then the same entry is ready (kicked in the completion's step): it runs first
    assert backend.records.entry_of(dependent) == (State.WAITING, held_back[1])  # type: ignore[index]
    assert take(backend, "b").lease.uuid == dependent
    assert take(backend, "b").lease.uuid == later


def test_a_busy_worker_s_next_job_is_the_dependent_its_completion_released(
    backend: BeanstalkBackend,
) -> None:
    # Given a running job, a job waiting behind it at a lower rank, and one depending on it
    first = put_job(backend)
    behind = put_job(backend, priority=1)
    dependent = put_job(backend, depends=[first])
    lease = take(backend).lease
    # When it completes and reserves the next job in the same step (the next entry is taken
    # before the completion commits, so it is the one behind)
    following = settle_then_take(backend, lease, completed(), REQUEST)
    # Then it gets the dependent, as settle-then-reserve would; the other still waits
    assert following is not None
    assert following.lease.uuid == dependent
    assert backend.get(behind)["state"] == "waiting"
    assert take(backend).lease.uuid == behind


def test_a_job_made_to_depend_leaves_its_tube_until_undepended(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    other = put_job(backend, "other")
    uuid = put_job(backend)
    backend.alter(uuid, Change(depend=[other]))
    assert _tube(backend, client, "q") == {"ready": 0, "delayed": 1, "buried": 0, "reserved": 0}
    assert reserve(backend) is None
    backend.alter(uuid, Change(undepend_all=True))
    assert _tube(backend, client, "q")["ready"] == 1
    assert take(backend).lease.uuid == uuid


def test_a_completion_releasing_a_dependent_while_beanstalkd_is_down_is_kept(
    tmp_path: Path,
) -> None:
    # Given a running job, one that depends on it, then beanstalkd stopping
    server = beanstalkd.Beanstalkd(tmp_path / "binlog").start()
    backend = open_backend(server.url(tmp_path / "zerog.db"))
    try:
        first = put_job(backend)
        dependent = put_job(backend, "later", depends=[first])
        lease = take(backend).lease
        server.stop()
        # When the job completes / Then the settlement is kept, and the dependent released
        backend.settle(lease, completed())
        assert backend.get(first)["state"] == State.COMPLETE
        assert backend.get(dependent)["state"] == State.WAITING
        # And once beanstalkd is back, the reconciler kicks its held-back entry: it runs
        server.start()
        backend.rescue_expired()
        assert take(backend, "later").lease.uuid == dependent
    finally:
        backend.close()
        server.stop()


# --- priority and queue changes -----------------------------------------------------------------


def test_a_priority_change_re_enters_the_job(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given two waiting jobs
    first = put_job(backend)
    second = put_job(backend)
    old = backend.records.entry_of(second)
    # When the second's priority changes
    backend.alter(second, Change(priority=-5))
    # Then it has a new entry with beanstalkd's priority for -5, and the old one is gone
    new = backend.records.entry_of(second)
    assert new is not None
    assert old is not None
    assert new[1] != old[1]
    assert _entry(backend, client, second)["pri"] == priority_of(-5)
    assert _tube(backend, client, "q")["ready"] == 2
    assert take(backend).lease.uuid == second
    assert take(backend).lease.uuid == first


def test_a_move_gives_the_job_an_entry_in_the_new_queue_s_tube(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    uuid = put_job(backend, "a")
    backend.alter(uuid, Change(queue="b"))
    assert _tube(backend, client, "a")["ready"] == 0
    assert _tube(backend, client, "b")["ready"] == 1
    assert reserve(backend, "a") is None
    assert take(backend, "b").lease.uuid == uuid


def test_a_paused_job_moved_to_another_queue_resumes_there(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given a paused job (its entry buried in its tube), moved to another queue
    uuid = put_job(backend, "a")
    backend.act(uuid, "pause")
    backend.alter(uuid, Change(queue="b"))
    # When it is resumed / Then it runs from the new queue, nothing is left in the old tube
    backend.act(uuid, "resume")
    assert _tube(backend, client, "a") == {"ready": 0, "delayed": 0, "buried": 0, "reserved": 0}
    assert reserve(backend, "a") is None
    assert take(backend, "b").lease.uuid == uuid


# --- limits -------------------------------------------------------------------------------------


def test_a_throttled_entry_is_parked_until_the_throttle_has_room(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given a throttle of one, and two jobs under it
    backend.set_limit("t", 1)
    first = put_job(backend, throttles=["t"])
    second = put_job(backend, throttles=["t"])
    lease = take(backend).lease
    assert lease.uuid == first
    # When a worker reserves / Then the second's entry is parked (buried), not handed out
    # again and again
    assert reserve(backend) is None
    assert _entry(backend, client, second)["state"] == "buried"
    assert reserve(backend) is None
    assert _entry(backend, client, second)["reserves"] == 1
    # When the first completes / Then the second's entry is kicked and runs
    backend.settle(lease, completed())
    assert _entry(backend, client, second)["state"] == "ready"
    assert take(backend).lease.uuid == second


def test_a_raised_limit_lets_a_parked_job_run(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    backend.set_limit("t", 1)
    put_job(backend, throttles=["t"])
    second = put_job(backend, throttles=["t"])
    take(backend)
    assert reserve(backend) is None
    backend.set_limit("t", 2)
    assert take(backend).lease.uuid == second


def test_a_lost_kick_is_made_by_the_reconciler(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    # Given a parked job whose kick never reached beanstalkd (as after a crash)
    backend.set_limit("t", 1)
    put_job(backend, throttles=["t"])
    second = put_job(backend, throttles=["t"])
    lease = take(backend).lease
    assert reserve(backend) is None
    # the store only:
    backend.records.settle_batch([(lease, completed())], [], [], backend.entries.enter)
    assert _entry(backend, client, second)["state"] == "buried"
    # When the reconciler runs / Then it kicks the buried entry of the ready job
    backend.rescue_expired()
    assert take(backend).lease.uuid == second


def test_a_full_queue_s_tube_is_not_reserved_from(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    backend.set_limit("queue:q", 1)
    put_job(backend)
    second = put_job(backend)
    lease = take(backend).lease
    assert reserve(backend) is None
    assert _entry(backend, client, second)["reserves"] == 0
    # and the busy worker's settle-and-reserve, whose own job counted, takes the next
    following = settle_then_take(backend, lease, completed(), REQUEST)
    assert following is not None
    assert following.lease.uuid == second


# --- pipelines ----------------------------------------------------------------------------------


def _advance(queue: str, depends: list[str] | None = None) -> Settlement:
    return Settlement(
        state=State.WAITING,
        event="advanced",
        queue=queue,
        attempts=Attempts.RESET,
        depends=depends or [],
    )


def test_a_pipeline_step_moves_the_entry_to_the_next_queue_s_tube(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    uuid = put_job(backend, "one")
    backend.settle(take(backend, "one").lease, _advance("two"))
    assert sum(_tube(backend, client, "one").values()) == 0
    assert _tube(backend, client, "two")["ready"] == 1
    assert take(backend, "two").lease.uuid == uuid


def test_a_pipeline_step_that_waits_is_held_back_in_the_next_tube(
    backend: BeanstalkBackend, client: greenstalk.Client[str]
) -> None:
    other = put_job(backend, "other")
    uuid = put_job(backend, "one")
    settle_then_take(
        backend,
        take(backend, "one").lease,
        _advance("two", [other]),
        ReserveRequest(queues=["one", "two"], worker="w1"),
    )
    assert sum(_tube(backend, client, "one").values()) == 0
    assert _tube(backend, client, "two")["delayed"] == 1
    backend.settle(take(backend, "other").lease, completed())
    assert take(backend, "two").lease.uuid == uuid


# --- recurring jobs -----------------------------------------------------------------------------


@pytest.mark.slow
def test_racing_processes_spawn_exactly_one_job_per_tick(url: str, tmp_path: Path) -> None:
    # Given a recurrence every 0.1 s, and four processes reserving from its queue for 4 s
    backend = open_backend(url)
    result = recurrence_race.race(url, backend)
    # Then one job per tick, numbered with no gap, each delivered through the tube and run once
    recurrence_race.assert_one_job_per_tick(result)
    assert len(result.ran) >= result.recurrence["count"] - 2
    backend.close()


# --- retention, timeout, history cap -----------------------------------------------------------


def test_pruning_leaves_no_entry_behind(
    backend: BeanstalkBackend, client: greenstalk.Client[str], tmp_path: Path, clock: FakeClock
) -> None:
    # Given a completed job, and a cancelled one whose entry beanstalkd still holds (the
    # cancel reached the store only, as if beanstalkd was down when it was made)
    put_job(backend)
    backend.settle(take(backend).lease, completed())
    leftover = put_job(backend)
    backend.store.act(leftover, "cancel")
    assert _tube(backend, client, "q")["ready"] == 1
    # When both are pruned
    clock.advance(10.0)
    keep = Retention(jobs_seconds=1.0, jobs_count=0, stats_days=30, histogram_days=7)
    assert backend.prune(keep) == 2
    # Then no entry and no bookkeeping of theirs is left
    assert sum(_tube(backend, client, "q").values()) == 0
    with sqlite3.connect(tmp_path / "zerog.db") as conn:
        for table in ("beanstalk_entries", "beanstalk_parked", "beanstalk_gone"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_a_timed_out_job_runs_again_and_its_old_worker_is_refused(
    url: str, clock: FakeClock, client: greenstalk.Client[str], backend: BeanstalkBackend
) -> None:
    # Given a job running in a worker process (its entry reserved there)
    worker = open_backend(url, clock=clock)
    try:
        uuid = put_job(backend)
        lease = take(worker).lease
        # When an operator times it out and the rescue runs
        assert backend.act(uuid, "timeout") == State.RUNNING
        assert backend.rescue_expired() == [uuid]
        # Then another worker gets it, through a new entry
        assert take(backend, worker="w2").lease.uuid == uuid
        # And the old worker's next heartbeat is refused; its entry, now stale, is deleted
        with pytest.raises(ReservationLost):
            worker.touch(lease)
        assert _tube(backend, client, "q") == {
            "ready": 0,
            "delayed": 0,
            "buried": 0,
            "reserved": 1,
        }
    finally:
        worker.close()


def test_the_history_cap_reaches_the_record_store(backend: BeanstalkBackend) -> None:
    backend.history_limit = 2
    assert backend.store.history_limit == 2
    uuid = put_job(backend)
    backend.settle(take(backend).lease, completed())
    assert [h["event"] for h in backend.get(uuid, history=True)["history"]] == [
        "reserved",
        "completed",
    ]


# --- the same random steps as memory ------------------------------------------------------------


class InPlace(Script):
    """The random steps of the SQLite comparison, less those after which beanstalk delivers
    in another order than memory by design: beanstalkd orders a priority's entries by entry
    id, so a job that gets a new entry while queued (moved, re-prioritised, advanced to the
    next queue, retried out of cancelled or expired) goes behind those entered before it,
    where memory keeps its first put order. TTLs are left out too: a ready job past its TTL
    is expired when a reserve comes across it, and the two come across jobs differently."""

    def record(self, **spec: Any) -> Any:
        spec.pop("ttl_seconds", None)
        return super().record(**spec)

    def alter(self) -> None:
        if self.uuids:
            uuid = self.rng.choice(self.uuids)
            change = self.rng.choice(
                [
                    Change(add_tags=["t4"], remove_tags=["t1"], tracked=self.rng.random() < 0.5),
                    Change(depend=self.some(2)),
                    Change(undepend=self.some(1)),
                    Change(undepend_all=True),
                ]
            )
            self.outcome("alter", lambda: self.backend.alter(uuid, change, "op"))

    def settlement(self) -> Settlement:
        chosen = super().settlement()
        while chosen.queue is not None:
            chosen = super().settlement()
        return chosen

    def act(self) -> None:
        if self.uuids:
            uuid = self.rng.choice([*self.uuids, "nope"])
            action = self.rng.choice(["cancel", "pause", "resume", "retry", "retry", "timeout"])
            retried = action == "retry" and uuid in self.uuids
            if retried and self.backend.get(uuid)["state"] in ("cancelled", "expired"):
                action = "resume"
            self.outcome("act", lambda: self.backend.act(uuid, action, "op"))


@pytest.mark.parametrize("seed", range(20))
def test_random_flow_steps_leave_the_same_records_as_memory(tmp_path: Path, seed: int) -> None:
    # Given the same random steps on memory and on beanstalk (dependencies, unique keys,
    # debounce, runs and their endings, operator actions, changes, recurring jobs, limits,
    # pauses), each with its own fake clock
    lives = []
    for make in ("memory", "beanstalk"):
        clock = FakeClock(START)
        backend: Backend = (
            MemoryBackend(clock=clock)
            if make == "memory"
            else open_backend(beanstalkd.shared().url(tmp_path / "same.db"), clock=clock)
        )
        try:
            backend.history_limit = [None, 3, 6][seed % 3]
            lives.append(InPlace(backend, clock, seed).run(150))
        finally:
            backend.close()
    # Then every step returned the same, and every record and list is the same
    memory, beanstalk = lives
    for step, (expected, got) in enumerate(zip(memory, beanstalk, strict=True)):
        assert got == expected, f"step {step}"
