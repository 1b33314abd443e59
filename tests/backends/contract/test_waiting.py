"""Conformance: an idle worker's wait ends when work comes, and at the latest at its timeout."""

from __future__ import annotations

import threading
import time

from tests.backends.support.helpers import put_job
from zerog.backends.contract import Backend
from zerog.record import JobSpec
from zerog.store import Store
from zerog.testing import FakeClock


def test_a_wait_times_out_when_nothing_comes(store: Store) -> None:
    started = time.monotonic()
    assert store.wait_for_work(0.05, ["q"]) is False
    assert time.monotonic() - started >= 0.04


def test_a_put_in_this_process_wakes_a_waiting_thread(store: Store) -> None:
    # Given a thread waiting for work
    woken: list[bool] = []
    ready = threading.Event()

    def wait() -> None:
        ready.set()
        woken.append(store.wait_for_work(30.0, ["q"]))

    thread = threading.Thread(target=wait)
    thread.start()
    ready.wait()
    time.sleep(0.05)  # let it block
    # When a job is put / Then the waiter returns long before its timeout, woken
    started = time.monotonic()
    while thread.is_alive() and time.monotonic() - started < 10:
        store.enqueue(JobSpec(type="t", queue="q"))
        thread.join(0.2)
    assert woken == [True]


def test_a_wait_ends_when_a_scheduled_job_falls_due(
    store: Store, backend: Backend, clock: FakeClock
) -> None:
    # Given a job due in 50 ms of the backend's clock, and a backend that can tell
    put_job(backend, delay_seconds=0.05)
    due = backend.next_due(["q"])
    if due is None:  # a backend that cannot tell polls instead: nothing to wait on.
        return
    assert due == clock() + 0.05
    # When a worker waits for up to 30 s / Then it is back by the due time
    started = time.monotonic()
    store.wait_for_work(30.0, ["q"])
    assert time.monotonic() - started < 5.0
