"""PostgreSQL's wake-ups: a write that makes a job claimable NOTIFYs the schema's channel, and
a waiter LISTENing on a connection of its own wakes, in another backend (as in another
process or host); a lost listening connection is a wake-up and is opened again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from tests.backends.support import postgres_server
from tests.backends.support.helpers import put_job, take
from zerog.backends import open_backend
from zerog.backends.contract import Waiter
from zerog.backends.postgres import PostgresBackend
from zerog.backends.postgres._listen import ListenWaiter, channel_of
from zerog.model import Settlement, State

LONG = 60.0  # a wait's timeout: woken well before it, or the wake-up failed.


@pytest.fixture
def url() -> str:
    return postgres_server.url()


@pytest.fixture
def pair(url: str) -> Iterator[tuple[PostgresBackend, PostgresBackend]]:
    """Two backends on one schema: the writer, and the one whose waiter listens."""
    writer, listener = open_backend(url), open_backend(url)
    assert isinstance(writer, PostgresBackend)
    assert isinstance(listener, PostgresBackend)
    yield writer, listener
    writer.close()
    listener.close()


def _woken_by(waiter: Waiter, act: Callable[[], object]) -> float:
    """Seconds a waiter (already listening) waited from ``act`` until it woke."""
    results: list[tuple[bool, float]] = []

    def wait() -> None:
        results.append((waiter.wait(["q"], LONG), time.monotonic()))

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.05)  # the thread is (most likely) in select; if not, the NOTIFY waits for it.
    started = time.monotonic()
    act()
    thread.join(LONG + 10)
    assert results, "the waiter never returned"
    assert results[0][0], "the waiter was not woken"
    return results[0][1] - started


def _listening(backend: PostgresBackend) -> Waiter:
    waiter = backend.waiter()
    waiter.wait(["q"], 0.0)  # connects and LISTENs.
    return waiter


def test_a_put_elsewhere_wakes_a_waiter(pair: tuple[PostgresBackend, PostgresBackend]) -> None:
    writer, listener = pair
    waiter = _listening(listener)
    assert waiter.hears_others
    assert _woken_by(waiter, lambda: put_job(writer)) < LONG / 2


def test_a_retry_and_a_release_and_a_resumed_queue_wake_a_waiter(
    pair: tuple[PostgresBackend, PostgresBackend],
) -> None:
    writer, listener = pair
    waiter = _listening(listener)
    put_job(writer)
    failed = take(writer)
    writer.settle(failed.lease, Settlement(state=State.FAILED, event="failed", error={"msg": "e"}))
    assert _woken_by(waiter, lambda: writer.kick("q", 10)) < LONG / 2
    again = take(writer)
    release = Settlement(state=State.WAITING, event="released")
    assert _woken_by(waiter, lambda: writer.settle(again.lease, release)) < LONG / 2
    writer.pause_queue("q", True)
    assert _woken_by(waiter, lambda: writer.pause_queue("q", False)) < LONG / 2


def test_a_write_that_readies_nothing_sends_nothing(
    pair: tuple[PostgresBackend, PostgresBackend],
) -> None:
    writer, listener = pair
    waiter = _listening(listener)
    put_job(writer)
    _quiet(waiter)  # the put's notification is read.
    started = time.monotonic()
    take(writer)  # a claim makes nothing ready.
    assert waiter.wait(["q"], 1.0) is False
    assert time.monotonic() - started >= 0.9


def _quiet(waiter: Waiter) -> None:
    """Wait until the waiter hears nothing for half a second."""
    deadline = time.monotonic() + LONG
    while waiter.wait(["q"], 0.5):
        assert time.monotonic() < deadline, "the waiter never fell quiet"


def test_a_terminated_listener_wakes_and_listens_again(
    pair: tuple[PostgresBackend, PostgresBackend],
) -> None:
    writer, listener = pair
    waiter = _listening(listener)
    assert isinstance(waiter, ListenWaiter)
    with postgres_server.connect() as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE query = %s AND pid <> pg_backend_pid()",
            (f'LISTEN "{channel_of(listener.schema)}"',),
        )
    assert waiter.wait(["q"], LONG)  # the loss wakes it: notifications may have been missed.
    _quiet(waiter)  # reconnected (a wake-up too), then quiet.
    assert _woken_by(waiter, lambda: put_job(writer)) < LONG / 2


def test_listen_off_gives_a_waiter_that_polls(url: str) -> None:
    backend = open_backend(f"{url}&listen=off")
    try:
        assert not backend.waiter().hears_others
    finally:
        backend.close()
