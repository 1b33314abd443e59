"""beanstalk: what beanstalkd itself can do to zerog (lose entries, restart, drop a connection,
refuse a job), the traps of its protocol, and how zerog's words map onto its own."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import greenstalk
import pytest

from tests.backends.support import beanstalkd
from tests.backends.support.helpers import completed, events, put_job, reserve, take
from zerog.backends import open_backend
from zerog.backends.beanstalk import BeanstalkBackend, _wire
from zerog.errors import BackendError, JobNotFound
from zerog.model import State
from zerog.record import error_entry
from zerog.store import Store


def _open(url: str) -> BeanstalkBackend:
    backend = open_backend(url)
    assert isinstance(backend, BeanstalkBackend)
    return backend


@pytest.fixture
def server(tmp_path: Path) -> Iterator[beanstalkd.Beanstalkd]:
    """A beanstalkd of this test's own, without a binlog (tests start a durable one below)."""
    own = beanstalkd.Beanstalkd(None).start()
    yield own
    own.stop()


@pytest.fixture
def shared_url(tmp_path: Path) -> str:
    return beanstalkd.shared().url(tmp_path / "zerog.db")


def _client(backend: BeanstalkBackend, queue: str = "q") -> greenstalk.Client[str]:
    tube = backend.entries.tube(queue)
    return greenstalk.Client(backend.address, use=tube, watch=tube)


# --- entries lost, connections dropped -------------------------------------------------------


def test_a_restart_without_binlog_loses_entries_and_the_reconciler_puts_them_back(
    server: beanstalkd.Beanstalkd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given three waiting jobs, a failed one, and a paused queue, on a beanstalkd with no binlog
    backend = _open(server.url(tmp_path / "zerog.db"))
    try:
        waiting = [put_job(backend) for _ in range(3)]
        failed = put_job(backend, "f")
        Store(backend).fail(take(backend, "f").lease, error_entry(backend.clock(), None, "x"))
        put_job(backend, "p")
        backend.pause_queue("p", True)
        backend.rescue_expired()  # the reconciler meets this server.
        # When beanstalkd restarts and has lost every entry
        server.restart(kill=True)
        assert reserve(backend) is None
        # Then the reconciler notices the new server, says the entries were lost, and gives
        # every ready job an entry again; the failed job stays failed, the pause holds
        with caplog.at_level(logging.WARNING):
            assert backend.rescue_expired() == []
        assert "without a binlog" in caplog.text
        assert [take(backend).lease.uuid for _ in waiting] == waiting
        assert reserve(backend, "f", "p") is None
        assert backend.get(failed)["state"] == State.FAILED
        with _client(backend, "p") as client:
            assert client.stats_tube(backend.entries.tube("p"))["pause"] > 0
    finally:
        backend.close()


def test_an_entry_deleted_by_hand_is_put_back_by_the_reconciler(shared_url: str) -> None:
    # Given a waiting job whose entry someone deleted with another beanstalkd client
    backend = _open(shared_url)
    try:
        uuid = put_job(backend)
        with _client(backend) as client:
            client.delete(client.reserve(timeout=0))
        assert reserve(backend) is None
        # When the reconciler runs / Then the job has an entry again, and runs
        backend.rescue_expired()
        assert take(backend).lease.uuid == uuid
    finally:
        backend.close()


def test_a_worker_that_lost_its_connection_keeps_its_lease_and_nobody_else_runs_the_job(
    shared_url: str,
) -> None:
    # Given a job run by one backend, whose connection to beanstalkd then broke (beanstalkd
    # gives the entry back), and a second backend on the same store and tubes
    one, other = _open(shared_url), _open(shared_url)
    try:
        uuid = put_job(one)
        lease = take(one).lease
        held = one.entries.pool.holdings.get(uuid)
        assert held is not None
        held.link.drop()
        # When the other reserves / Then the live lease wins: the job is not run twice
        assert reserve(other) is None
        # And the first worker heartbeats and completes it as usual
        one.touch(lease)
        one.settle(lease, completed())
        assert events(one, uuid) == ["put", "reserved", "completed"]
        with _client(one) as client:
            assert client.stats_tube(one.entries.tube("q"))["current-jobs-delayed"] == 0
    finally:
        one.close()
        other.close()


def test_a_foreign_entry_in_a_zerog_tube_is_buried(shared_url: str) -> None:
    # Given an entry another program put in a zerog tube, before a zerog job
    backend = _open(shared_url)
    try:
        with _client(backend) as client:
            client.put("not a zerog entry")
            uuid = put_job(backend)
            # When a worker reserves / Then it skips the foreign entry, burying it, and runs
            # the job
            assert take(backend).lease.uuid == uuid
            assert client.stats_tube(backend.entries.tube("q"))["current-jobs-buried"] == 1
    finally:
        backend.close()


# --- the protocol's traps ------------------------------------------------------------------------


def test_a_beanstalkd_without_binlog_is_logged_as_not_durable(
    server: beanstalkd.Beanstalkd, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        _open(server.url(tmp_path / "zerog.db")).close()
    assert "without a binlog (-b)" in caplog.text


def test_job_too_big_is_reported_and_nothing_is_stored(tmp_path: Path) -> None:
    # Given a beanstalkd whose max job size is smaller than an entry
    tiny = beanstalkd.Beanstalkd(None, options=("-z", "10")).start()
    backend = _open(tiny.url(tmp_path / "zerog.db"))
    try:
        # When a job is put / Then the error says what to change, and no record was kept
        with pytest.raises(BackendError, match="-z"):
            put_job(backend, uuid="big")
        with pytest.raises(JobNotFound):
            backend.get("big")
    finally:
        backend.close()
        tiny.stop()


def test_deadline_soon_is_met_by_touching_the_held_entry(shared_url: str) -> None:
    # Given a worker holding a job whose beanstalkd TTR (2 s for a 0.1 s lease) is in its
    # last second, and no other job ready
    backend = _open(shared_url)
    try:
        put_job(backend, ttr_seconds=0.1)
        held = backend.entries.pool.holdings.get(take(backend).lease.uuid)
        assert held is not None
        time.sleep(1.1)
        # When it reserves again, which beanstalkd answers with DEADLINE_SOON
        # Then that is no error: nothing is reserved, and the held entry's TTR was renewed
        assert reserve(backend) is None
        with _client(backend) as client:
            assert client.stats_job(held.bid)["time-left"] >= 1
        # And the next job put is reserved as usual
        second = put_job(backend)
        assert take(backend).lease.uuid == second
    finally:
        backend.close()


def test_a_queue_pause_is_mirrored_by_pause_tube(shared_url: str) -> None:
    backend = _open(shared_url)
    try:
        put_job(backend)
        with _client(backend) as client:
            tube = backend.entries.tube("q")
            backend.pause_queue("q", True)
            assert client.stats_tube(tube)["pause"] > 0
            backend.pause_queue("q", False)
            assert client.stats_tube(tube)["pause"] == 0
    finally:
        backend.close()


# --- the mapping ---------------------------------------------------------------------------------


def test_priorities_keep_their_order_in_beanstalkds_range() -> None:
    given = [-(2**40), -(2**31), -5, 0, 5, 2**31 - 1, 2**40]
    mapped = [_wire.priority_of(p) for p in given]
    assert mapped == sorted(mapped)
    assert mapped[0] == mapped[1] == 0
    assert mapped[-1] == mapped[-2] == 2**32 - 1
    assert _wire.priority_of(0) == 2**31


def test_tube_names_are_valid_distinct_and_readable() -> None:
    assert _wire.tube_of("", "emails") == "emails"
    assert _wire.tube_of("app.", "q") == "app.q"
    names = {_wire.tube_of("", q) for q in ["a b", "a$20b", "a_b", "é", "-a", "a-"]}
    assert len(names) == 6
    assert _wire.tube_of("", "-a").startswith("$2D")
    long = _wire.tube_of("", "é" * 150)
    assert long.startswith("$$")
    assert len(long) <= 200


def test_seconds_round_up_and_the_ttr_keeps_a_margin() -> None:
    assert [_wire.whole_seconds(s) for s in (0.0, -1.0, 0.2, 1.0, 1.5)] == [0, 0, 1, 1, 2]
    assert [_wire.ttr_of(s) for s in (0.1, 1.0, 30.0, 30.5)] == [2, 2, 31, 32]


def test_only_zerog_bodies_name_a_job() -> None:
    assert _wire.uuid_of(_wire.body_of("u-1")) == "u-1"
    assert [_wire.uuid_of(b) for b in ("", "[]", '{"uuid": 3}', "x")] == [None] * 4
