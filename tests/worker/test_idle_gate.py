"""The idle gate: one idle thread waits on the store, a wake-up costs one claim, bursts chain."""

from __future__ import annotations

import threading
import time

from zerog.worker.idle import IdleGate


class Store:
    """A store's wait: blocks until rung (or the timeout); counts who waits on it."""

    def __init__(self) -> None:
        self.bell = threading.Event()
        self.listeners = 0
        self.most_listeners = 0
        self.lock = threading.Lock()

    def listen(self, seconds: float) -> None:
        with self.lock:
            self.listeners += 1
            self.most_listeners = max(self.most_listeners, self.listeners)
        try:
            self.bell.wait(seconds)
        finally:
            with self.lock:
                self.listeners -= 1
                self.bell.clear()


def idle_threads(
    gate: IdleGate,
    store: Store,
    n: int,
    claim: threading.Semaphore,
    stop: threading.Event,
    claim_seconds: float = 0.0,
) -> tuple[list[threading.Thread], list[int]]:
    """``n`` consumer threads: idle, then a claim (lasting ``claim_seconds``) that takes a
    job if ``claim`` has one."""
    claims = [0]
    lock = threading.Lock()

    def consume() -> None:
        while not stop.is_set():
            gate.wait(store.listen, 30.0)
            if stop.is_set():
                return
            time.sleep(claim_seconds)
            with lock:
                claims[0] += 1
            if claim.acquire(blocking=False):
                gate.claimed()

    threads = [threading.Thread(target=consume, daemon=True) for _ in range(n)]
    for thread in threads:
        thread.start()
    return threads, claims


def wait_until(check: object, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_one_thread_of_many_waits_on_the_store_and_one_ring_costs_one_claim() -> None:
    # Given 10 idle threads behind a gate
    store, jobs, stop = Store(), threading.Semaphore(0), threading.Event()
    gate = IdleGate(store.bell.set)
    threads, claims = idle_threads(gate, store, 10, jobs, stop)
    wait_until(lambda: store.listeners == 1)
    time.sleep(0.2)
    assert store.most_listeners == 1

    # When one job arrives and the store rings
    jobs.release()
    store.bell.set()

    # Then one thread claims it, one more looks (the chain's next link), and one listens again
    wait_until(lambda: claims[0] >= 2 and store.listeners == 1)
    time.sleep(0.3)
    assert claims[0] == 2
    assert store.most_listeners == 1
    stop.set()
    store.bell.set()  # the store's interrupt wakes the listener,
    gate.wake_all()  # the gate the others.
    for thread in threads:
        thread.join(timeout=10)
        assert not thread.is_alive()


def test_a_burst_chains_claims_until_one_finds_nothing() -> None:
    # Given 10 idle threads behind a gate
    store, jobs, stop = Store(), threading.Semaphore(0), threading.Event()
    gate = IdleGate(store.bell.set)
    threads, claims = idle_threads(gate, store, 10, jobs, stop)
    wait_until(lambda: store.listeners == 1)

    # When 5 jobs arrive at once and the store rings once
    for _ in range(5):
        jobs.release()
    store.bell.set()

    # Then the 5 jobs are claimed by a chain of claims, one more finds nothing, and no more
    wait_until(lambda: claims[0] >= 6)
    time.sleep(0.3)
    assert claims[0] == 6
    assert not jobs.acquire(blocking=False)
    stop.set()
    store.bell.set()  # the store's interrupt wakes the listener,
    gate.wake_all()  # the gate the others.
    for thread in threads:
        thread.join(timeout=10)


def test_one_ring_for_several_jobs_reaches_the_thread_that_took_the_listeners_role() -> None:
    # Given two idle threads: one listens, the other waits at the gate
    store, jobs, stop = Store(), threading.Semaphore(0), threading.Event()
    gate = IdleGate(store.bell.set)
    threads, claims = idle_threads(gate, store, 2, jobs, stop, claim_seconds=0.3)
    wait_until(lambda: store.listeners == 1)

    # When two jobs arrive behind one ring (the listener drains every ring at once)
    jobs.release()
    jobs.release()
    store.bell.set()

    # Then both are claimed at once, though the second thread took the listener's role over
    # (during the first claim) and no thread waits at the gate for a turn: the claim that
    # found a job wakes the listener instead
    wait_until(lambda: claims[0] >= 3, timeout=10)  # two jobs, and one claim finding none.
    assert not jobs.acquire(blocking=False)
    stop.set()
    store.bell.set()
    gate.wake_all()
    for thread in threads:
        thread.join(timeout=10)


def test_wake_all_releases_every_waiting_thread() -> None:
    gate = IdleGate(lambda: None)
    returned: list[float] = []

    def idle() -> None:
        started = time.monotonic()
        gate.wait(lambda seconds: time.sleep(min(seconds, 60)), 60.0)
        returned.append(time.monotonic() - started)

    threads = [threading.Thread(target=idle, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    gate.wake_all()
    wait_until(lambda: len(returned) == 3)  # the listener sleeps on in its store's wait.
    assert all(seconds < 30 for seconds in returned)


def test_a_waiting_thread_claims_when_its_poll_interval_passes() -> None:
    gate = IdleGate(lambda: None)
    listener = threading.Thread(
        target=gate.wait, args=(lambda seconds: time.sleep(seconds), 5.0), daemon=True
    )
    listener.start()
    time.sleep(0.2)
    started = time.monotonic()
    gate.wait(lambda seconds: None, 0.3)  # not the listener: waits its interval, then claims.
    assert 0.25 <= time.monotonic() - started < 4.0
