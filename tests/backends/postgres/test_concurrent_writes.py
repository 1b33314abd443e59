"""PostgreSQL's writes run at once (no lock per schema): the decisions that span jobs stay
right when many connections make them at the same moment. Each test starts its writers
together (a barrier), each on a backend (so connections) of its own, and repeats the race."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.backends.support import postgres_server
from tests.backends.support.helpers import completed, job_record, put_job, reserve, take
from zerog.backends import open_backend
from zerog.backends.postgres import PostgresBackend
from zerog.model import Lease, Placed

WRITERS = 6
ROUNDS = 5


@pytest.fixture
def backends() -> Iterator[list[PostgresBackend]]:
    """WRITERS backends on one fresh schema."""
    url = postgres_server.url()
    opened: list[PostgresBackend] = []
    try:
        for _ in range(WRITERS):
            backend = open_backend(url)
            assert isinstance(backend, PostgresBackend)
            opened.append(backend)
        yield opened
    finally:
        for backend in opened:
            backend.close()


def at_once(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run the actions on threads of their own, released together; their results (or the
    exceptions they raised)."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = actions[index]()
        except Exception as exc:  # the test looks at it.
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_a_unique_key_put_at_once_by_many_is_stored_once(
    backends: list[PostgresBackend],
) -> None:
    for round_ in range(ROUNDS):
        key = f"report-{round_}"
        results = at_once([_putter(b, key) for b in backends])
        placed = [r for r in results if not isinstance(r, Exception)]
        assert len(placed) == WRITERS, results
        assert len({p.uuid for p in placed}) == 1, placed
        assert sorted(p.outcome for p in placed) == ["merged"] * (WRITERS - 1) + ["put"]
    assert backends[0].counts()["q"] == {"waiting": ROUNDS}


def test_a_job_waiting_for_two_is_released_when_both_complete_at_once(
    backends: list[PostgresBackend],
) -> None:
    first, second = backends[0], backends[1]
    for _ in range(ROUNDS * 2):
        a, b = put_job(first, "deps"), put_job(first, "deps")
        waiting = put_job(first, "after", depends=[a, b])
        lease_a, lease_b = take(first, "deps").lease, take(second, "deps", worker="w2").lease
        at_once([_settler(first, lease_a), _settler(second, lease_b)])
        assert first.get(waiting)["state"] == "waiting"
        assert first.get(waiting)["depends"] == []


def _putter(backend: PostgresBackend, key: str) -> Callable[[], Placed]:
    return lambda: backend.put(job_record(backend, unique=key))


def _settler(backend: PostgresBackend, lease: Lease) -> Callable[[], None]:
    return lambda: backend.settle(lease, completed())


def test_a_queue_limit_holds_when_many_claim_at_once(backends: list[PostgresBackend]) -> None:
    backend = backends[0]
    backend.set_limit("queue:q", 2)
    for _ in range(WRITERS * ROUNDS):
        put_job(backend)
    for round_ in range(ROUNDS):
        taken = at_once(
            [lambda b=b, i=i: reserve(b, worker=f"w{i}") for i, b in enumerate(backends)]  # type: ignore[misc]
        )
        leases = [t.lease for t in taken if t is not None and not isinstance(t, Exception)]
        assert not [t for t in taken if isinstance(t, Exception)], taken
        assert len(leases) == 2, (round_, taken)
        assert backend.counts()["q"]["running"] == 2
        for lease in leases:
            backend.settle(lease, completed())


def test_claims_at_once_take_each_job_once(backends: list[PostgresBackend]) -> None:
    backend = backends[0]
    jobs = {put_job(backend) for _ in range(WRITERS * ROUNDS * 2)}
    seen: list[str] = []
    while len(seen) < len(jobs):
        taken = at_once(
            [lambda b=b, i=i: reserve(b, worker=f"w{i}") for i, b in enumerate(backends)]  # type: ignore[misc]
        )
        assert not [t for t in taken if isinstance(t, Exception)], taken
        seen += [t.lease.uuid for t in taken if t is not None]
    assert sorted(seen) == sorted(jobs)
