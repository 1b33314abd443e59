"""Short ways to put and reserve jobs in the conformance suite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zerog.backends.contract import Backend
from zerog.errors import ReservationLost
from zerog.model import Lease, Reservation, ReserveRequest, Settlement, State
from zerog.record import JobSpec, Record, new_record


def job_record(backend: Backend, queue: str = "q", **spec: Any) -> Record:
    """A new job's record at the backend's time (JobSpec fields as keywords, type "t")."""
    spec.setdefault("type", "t")
    spec.setdefault("ttr_seconds", 30.0)
    return new_record(JobSpec(queue=queue, **spec), backend.clock())


def put_job(backend: Backend, queue: str = "q", **spec: Any) -> str:
    """Put a new job; returns its uuid."""
    record = job_record(backend, queue, **spec)
    backend.put(record)
    return str(record["uuid"])


def reserve(backend: Backend, *queues: str, worker: str = "w1") -> Reservation | None:
    """The next job of the first of ``queues`` (default "q") that has one."""
    return backend.reserve(ReserveRequest(queues=list(queues or ["q"]), worker=worker))


def take(backend: Backend, *queues: str, worker: str = "w1") -> Reservation:
    """Like :func:`reserve`, for tests where a job must be there."""
    reservation = reserve(backend, *queues, worker=worker)
    assert reservation is not None, f"no job ready in {queues or ('q',)}"
    return reservation


def settle_then_take(
    backend: Backend, lease: Lease, settlement: Settlement, request: ReserveRequest
) -> Reservation | None:
    """Settle a run and claim the worker's next job in one step (a batch of one); raises
    ReservationLost, as a plain settle does, when the lease was lost."""
    batch = backend.settle_batch([(lease, settlement)], request, 1)
    if batch.lost:
        raise ReservationLost(lease.uuid, lease.token)
    return batch.reservations[0] if batch.reservations else None


def events(backend: Backend, uuid: str) -> list[str]:
    """The job's history events, oldest first."""
    return [entry["event"] for entry in backend.get(uuid, history=True)["history"]]


def completed(result: Any = None) -> Settlement:
    """The settlement of a run that finished."""
    return Settlement(state=State.COMPLETE, event="completed", result=result)


def uuids(records: Sequence[Record]) -> list[str]:
    """The uuids of records, in order."""
    return [str(record["uuid"]) for record in records]
