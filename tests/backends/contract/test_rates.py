"""Conformance, limits role: rate limits (starts per period per name, on the store's clock)
and fair share (a queue's jobs taken key by key in turn)."""

from __future__ import annotations

import pytest

from tests.backends.support.helpers import completed, job_record, put_job, reserve, take
from zerog.backends.contract import Backend
from zerog.errors import InvalidOptions, NotSupported
from zerog.store import Store
from zerog.testing import FakeClock

pytestmark = pytest.mark.roles("limits")


def _refused_here(backend: Backend) -> bool:
    """beanstalk refuses jobs with a fair key (docs/resources.md says why): True after
    checking that it does; False on the backends that share queues fairly."""
    if not type(backend).__name__.startswith("Beanstalk"):
        return False
    with pytest.raises(NotSupported, match="fair"):
        put_job(backend, fair_key="a")
    assert reserve(backend) is None  # nothing was queued.
    return True


def test_a_queue_rate_limit_lets_n_start_per_window(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    for _ in range(5):
        put_job(backend)
    store.set_rate_limit("queue:q", 2, per=10)
    assert backend.rate_limits() == {"queue:q": (2, 10.0)}
    first = take(backend)
    clock.advance(4)
    take(backend)
    assert reserve(backend) is None  # 2 starts in the last 10 s, though none is running.
    # an idle worker sleeps until the window frees (the first start + 10 s), not less
    assert backend.next_due(["q"]) == pytest.approx(clock() - 4 + 10)
    backend.settle(first.lease, completed())
    assert reserve(backend) is None
    clock.advance(6.5)  # the first start left the window, the second has not.
    take(backend)
    assert reserve(backend) is None
    clock.advance(4)
    take(backend)
    store.set_rate_limit("queue:q", None)
    assert backend.rate_limits() == {}
    take(backend)


def test_a_throttle_rate_limit_passes_over_its_jobs_for_others(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    store.set_rate_limit("api.example.com", 1, per=5)
    a = put_job(backend, throttles=["api.example.com"])
    b = put_job(backend, throttles=["api.example.com"])
    free = put_job(backend)
    assert take(backend).lease.uuid == a
    assert take(backend).lease.uuid == free  # b waits for the window; the free job runs.
    assert reserve(backend) is None
    assert backend.get(b)["state"] == "waiting"
    clock.advance(5.5)
    assert take(backend).lease.uuid == b


def test_a_rate_limit_is_beside_the_concurrency_limit_of_the_same_name(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    store.set_limit("t", 1)
    store.set_rate_limit("t", 5, per=60)
    for _ in range(3):
        put_job(backend, throttles=["t"])
    first = take(backend)
    assert reserve(backend) is None  # the concurrency limit holds it.
    backend.settle(first.lease, completed())
    take(backend)
    assert backend.limits() == {"t": 1}
    assert backend.rate_limits() == {"t": (5, 60.0)}


def test_bad_rate_limits_are_refused(store: Store) -> None:
    for name, maximum, per in (("", 1, 1.0), ("x", -1, 1.0), ("x", 1, 0), ("x", 1, "1")):
        with pytest.raises(InvalidOptions):
            store.set_rate_limit(name, maximum, per=per)  # type: ignore[arg-type]


def test_fair_share_takes_keys_in_turn(store: Store, backend: Backend) -> None:
    if _refused_here(backend):
        return
    big = [put_job(backend, fair_key="big") for _ in range(6)]
    small = [put_job(backend, fair_key="small") for _ in range(2)]
    plain = put_job(backend)
    order = [take(backend).lease.uuid for _ in range(9)]
    # each key in turn, each key's jobs oldest first; the keyless jobs are a key of their own.
    assert order[:6] == [big[0], small[0], plain, big[1], small[1], big[2]]
    assert order[6:] == big[3:]
    assert reserve(backend) is None


def test_fair_share_holds_for_jobs_put_many_at_once(store: Store, backend: Backend) -> None:
    if _refused_here(backend):
        return
    big = [job_record(backend, fair_key="big") for _ in range(4)]
    small = [job_record(backend, fair_key="small") for _ in range(2)]
    backend.put_many([*big, *small])  # one bulk put, as enqueue_many does.
    order = [take(backend).lease.uuid for _ in range(6)]
    b, s = [r["uuid"] for r in big], [r["uuid"] for r in small]
    assert order == [b[0], s[0], b[1], s[1], b[2], b[3]]  # each key in turn.


def test_fair_share_keeps_priorities_first(store: Store, backend: Backend) -> None:
    if _refused_here(backend):
        return
    a = [put_job(backend, fair_key="a", priority=5) for _ in range(2)]
    b = put_job(backend, fair_key="b", priority=5)
    urgent = put_job(backend, fair_key="a", priority=1)
    order = [take(backend).lease.uuid for _ in range(4)]
    assert order == [urgent, b, a[0], a[1]]


def test_fair_share_respects_limits(store: Store, backend: Backend) -> None:
    if _refused_here(backend):
        return
    store.set_limit("t", 0)
    blocked = put_job(backend, fair_key="a", throttles=["t"])
    other = put_job(backend, fair_key="b")
    assert take(backend).lease.uuid == other
    assert reserve(backend) is None
    store.set_limit("t", None)
    assert take(backend).lease.uuid == blocked


def test_a_rate_limit_of_zero_holds_jobs_without_waking_workers(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    store.set_rate_limit("queue:q", 0, per=1)
    put_job(backend)
    assert reserve(backend) is None
    due = backend.next_due(["q"])
    assert due is None or due >= clock() + 1  # no wake-up at once, again and again.
    store.set_rate_limit("queue:q", None)
    clock.advance(10)
    take(backend)
