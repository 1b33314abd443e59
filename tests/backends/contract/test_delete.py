"""Conformance: deleting a finished job, and only a finished one nobody waits for."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, put_job, take
from zerog.backends.contract import Backend
from zerog.errors import InvalidTransition, JobNotFound
from zerog.model import ListQuery, Settlement


def test_a_finished_job_is_deleted_with_its_history(backend: Backend) -> None:
    # Given a completed job and a waiting one
    done = put_job(backend, tags=["t1"])
    backend.settle(take(backend).lease, completed())
    waiting = put_job(backend)
    # When the completed one is deleted / Then it is gone from every read; the other stays
    assert backend.delete(done) is True
    with pytest.raises(JobNotFound):
        backend.get(done)
    assert [r["uuid"] for r in backend.list(ListQuery(limit=10)).records] == [waiting]
    assert [r["uuid"] for r in backend.list(ListQuery(tag="t1")).records] == []
    assert backend.counts().get("q", {}).get("complete", 0) == 0
    # And deleting it again, or a job that never was, is no error
    assert backend.delete(done) is False
    assert backend.delete("no-such-job") is False


def test_a_job_that_is_not_finished_is_not_deleted(backend: Backend) -> None:
    waiting = put_job(backend)
    with pytest.raises(InvalidTransition):
        backend.delete(waiting)
    running = take(backend).lease.uuid
    with pytest.raises(InvalidTransition):
        backend.delete(running)
    assert backend.get(running)["state"] == "running"


def test_a_failed_job_a_dependent_waits_for_is_kept_until_that_one_goes(
    backend: Backend,
) -> None:
    # Given a failed job and a job in depends that waits for it
    failed = put_job(backend)
    backend.settle(take(backend).lease, Settlement.failed({"msg": "boom"}))
    dependent = put_job(backend, depends=[failed])
    assert backend.get(dependent)["state"] == "depends"
    # When it is deleted / Then it is refused while the dependent waits
    with pytest.raises(InvalidTransition):
        backend.delete(failed)
    # And once the dependent is cancelled, it goes
    backend.act(dependent, "cancel")
    assert backend.delete(failed) is True
    assert backend.get(dependent)["state"] == "cancelled"
