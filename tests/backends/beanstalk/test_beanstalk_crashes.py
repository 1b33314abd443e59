"""beanstalk: a process killed between the two writes of a step, and what repairs the gap,
with each record store (SQLite, PostgreSQL).

Each test runs one step in a child process that dies at a crash point (see
``zerog.backends.beanstalk._crash``), leaving beanstalkd and the store disagreeing, then checks
that the next delivery (or the reconciler) repairs it: no job lost, none run twice at once.
The clock is real here (the child is another process); TTRs are short where a lease must run
out.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import greenstalk
import pytest

from tests.backends.support import beanstalkd, postgres_server
from tests.backends.support.helpers import completed, events, put_job, reserve, take
from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend, _crash
from zerog.errors import JobNotFound
from zerog.model import State
from zerog.record import error_entry
from zerog.store import Store

SCRIPT = Path(__file__).parent.parent / "support" / "_beanstalk_process.py"
PREFIX = "crash."
# Long enough that a lease taken by a child is still live when the test looks right after
# the child died, even on a loaded machine; short enough to wait out.
LEASE = 2.0


@pytest.fixture(params=["sqlite", "postgres"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh store of each kind (a SQLite file, a PostgreSQL schema) on the session's
    beanstalkd, with tubes of this test's own."""
    store = tmp_path / "zerog.db" if request.param == "sqlite" else postgres_server.url()
    return beanstalkd.shared().url(store, prefix=f"{tmp_path.name}.{PREFIX}")


@pytest.fixture
def backend(url: str) -> Iterator[BeanstalkBackend]:
    opened = open_backend(url)
    assert isinstance(opened, BeanstalkBackend)
    yield opened
    opened.close()


@pytest.fixture
def tube(backend: BeanstalkBackend) -> Iterator[greenstalk.Client[str]]:
    """A plain client using the test's tube "q", to look at what beanstalkd holds."""
    client = greenstalk.Client(backend.address, use=backend.entries.tube("q"))
    yield client
    client.close()


def child(url: str, point: str, action: str, *args: str) -> None:
    """Run one step in a child process that must die at ``point``."""
    done = subprocess.run(
        [sys.executable, str(SCRIPT), url, point, action, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == _crash.EXIT_CODE, done.stdout + done.stderr


def entries(client: greenstalk.Client[str]) -> dict[str, Any]:
    """How many entries the tube has in each of beanstalkd's states."""
    try:
        stats = client.stats_tube(client.using())
    except greenstalk.NotFoundError:
        return {}
    names = ("ready", "delayed", "reserved", "buried")
    return {n: stats[f"current-jobs-{n}"] for n in names if stats[f"current-jobs-{n}"]}  # type: ignore[literal-required]


def test_entry_without_a_record_is_deleted_when_delivered(
    url: str, backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a put that died after its entry was put, before the store committed the record
    child(url, "put:entered", "put", "job-1")
    with pytest.raises(JobNotFound):
        backend.get("job-1")
    assert entries(tube) == {"ready": 1}
    # When a worker reserves / Then there is nothing to run, and the orphan entry is gone
    assert reserve(backend) is None
    assert entries(tube) == {}
    # And the job can be put again, and runs
    put_job(backend, uuid="job-1")
    assert take(backend).lease.uuid == "job-1"


def test_reserve_killed_before_the_store_was_asked_leaves_the_job_waiting(
    url: str, backend: BeanstalkBackend
) -> None:
    # Given a job, and a worker that died right after beanstalkd gave it the entry
    uuid = put_job(backend)
    child(url, "reserve:taken", "complete")
    # Then nothing was written, and the next worker runs the job as its first attempt
    assert events(backend, uuid) == ["put"]
    assert take(backend).record["attempts"] == 1


@pytest.mark.parametrize(
    ("action", "state", "left"),
    [
        ("complete", State.COMPLETE, {}),
        ("fail", State.FAILED, {"buried": 1}),
    ],
)
def test_settled_record_whose_entry_came_back_is_put_right_on_delivery(
    url: str,
    backend: BeanstalkBackend,
    tube: greenstalk.Client[str],
    action: str,
    state: State,
    left: dict[str, int],
) -> None:
    # Given a worker that settled its job in the store and died before the entry followed
    uuid = put_job(backend)
    child(url, "settle:stored", action)
    assert backend.get(uuid)["state"] == state
    assert entries(tube) == {"ready": 1}  # its connection closed: beanstalkd gave it back.
    # When a worker reserves / Then the job does not run again; the entry is deleted, or
    # buried for a failed job
    assert reserve(backend) is None
    assert entries(tube) == left
    assert events(backend, uuid)[-1] == ("completed" if action == "complete" else "failed")
    # And a failed one can still be retried by an operator
    if state == State.FAILED:
        assert backend.act(uuid, "retry") == State.WAITING
        assert take(backend).lease.uuid == uuid


def test_retried_record_whose_entry_came_back_runs_again(
    url: str, backend: BeanstalkBackend
) -> None:
    # Given a worker that settled its job as "retry now" and died before releasing the entry
    uuid = put_job(backend)
    child(url, "settle:stored", "retry")
    # When a worker reserves / Then it runs the job's second attempt
    reservation = take(backend)
    assert (reservation.lease.uuid, reservation.record["attempts"]) == (uuid, 2)


def test_running_record_whose_worker_died_runs_again_once_its_lease_expired(
    url: str, backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a worker that died while running a job with a 2 s lease
    uuid = put_job(backend, ttr_seconds=LEASE)
    child(url, "none", "hold")
    assert backend.get(uuid)["state"] == State.RUNNING
    # When a worker reserves while the lease is live / Then it does not run the job: the
    # entry beanstalkd gave back is held back until the lease can have expired
    assert reserve(backend) is None
    assert entries(tube) == {"delayed": 1}
    # And once it expired, the entry comes back and the job runs as its second attempt
    reservation = _wait_for_reservation(backend)
    assert reservation.record["attempts"] == 2
    assert events(backend, uuid) == ["put", "reserved", "lease-expired", "reserved"]


def test_rescue_of_a_dead_workers_job_kicks_its_held_back_entry(
    url: str, backend: BeanstalkBackend
) -> None:
    # Given a dead worker's job whose entry is held back until its lease expires
    uuid = put_job(backend, ttr_seconds=LEASE)
    child(url, "none", "hold")
    assert reserve(backend) is None
    _wait_for_expiry(backend, uuid)
    # When the reconciler rescues it / Then it is waiting, and runs at once
    assert backend.rescue_expired() == [uuid]
    assert take(backend).lease.uuid == uuid


def test_rescue_killed_before_the_store_committed_is_done_again(
    url: str, backend: BeanstalkBackend
) -> None:
    # Given a dead worker's job with an expired lease, and a rescue that died before its
    # commit, after it had given the job an entry
    uuid = put_job(backend, ttr_seconds=LEASE)
    child(url, "none", "hold")
    _wait_for_expiry(backend, uuid)
    child(url, "rescue:entered", "rescue")
    assert backend.get(uuid)["state"] == State.RUNNING
    # When the next rescue runs / Then the job is rescued once and runs once
    assert backend.rescue_expired() == [uuid]
    assert take(backend).lease.uuid == uuid
    assert reserve(backend) is None
    assert events(backend, uuid).count("lease-expired") == 1


def test_operator_retry_killed_before_the_store_committed_changes_nothing(
    url: str, backend: BeanstalkBackend, tube: greenstalk.Client[str]
) -> None:
    # Given a failed job, and an operator's retry that kicked its entry and died before the
    # store committed
    uuid = put_job(backend)
    Store(backend).fail(take(backend).lease, error_entry(backend.clock(), None, "x"))
    child(url, "act:entered", "act", uuid, "retry")
    assert backend.get(uuid)["state"] == State.FAILED
    assert entries(tube) == {"ready": 1}
    # When a worker reserves / Then the job stays failed and its entry is buried again
    assert reserve(backend) is None
    assert entries(tube) == {"buried": 1}
    # And the retry, done again, works
    backend.act(uuid, "retry")
    assert take(backend).lease.uuid == uuid


def test_completion_killed_after_releasing_a_dependent_s_entry_changes_nothing(
    url: str, backend: BeanstalkBackend
) -> None:
    # Given a job and one that depends on it, and a worker whose completion kicked the
    # dependent's held-back entry and died before the store committed
    uuid = put_job(backend, ttr_seconds=LEASE)
    dependent = put_job(backend, "later", depends=[uuid])
    child(url, "settle:entered", "complete")
    assert backend.get(uuid)["state"] == State.RUNNING
    assert backend.get(dependent)["state"] == State.DEPENDS
    # When a worker reserves from the dependent's queue / Then it does not run (the entry is
    # deleted on delivery: its job still waits)
    assert reserve(backend, "later") is None
    # And once the job has run again and completed, the dependent gets an entry and runs
    reservation = _wait_for_reservation(backend)
    assert reservation.lease.uuid == uuid
    backend.settle(reservation.lease, completed())
    assert take(backend, "later").lease.uuid == dependent
    assert reserve(backend, "later") is None


def _wait_for_expiry(backend: BeanstalkBackend, uuid: str) -> None:
    """Sleep until the job's lease has expired by the store's clock (the real one here)."""
    time.sleep(max(0.0, backend.get(uuid)["lease_expires_at"] - time.time()) + 0.01)


def _wait_for_reservation(backend: BeanstalkBackend, seconds: float = 10.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reservation = reserve(backend)
        if reservation is not None:
            return reservation
        time.sleep(0.05)
    raise AssertionError("no job was reserved in time")
