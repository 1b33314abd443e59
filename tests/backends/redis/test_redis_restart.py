"""Redis: the server SIGKILLed and restarted while workers run and a producer puts jobs. With
``appendonly yes`` and ``appendfsync always`` a write is on disk before its reply: no job
whose put returned is lost, and every one of them completes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.backends.support import redis_server
from tests.worker import pool_jobs  # noqa: F401 - registers the pool's job classes here too.
from tests.worker.pool import enqueue, pool, wait_until
from zerog.errors import BackendError
from zerog.store import Store

AFTER_RESTART = 100  # puts acknowledged after the restart before the producer stops.


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_server_killed_and_restarted_mid_run_loses_no_acknowledged_job(tmp_path: Path) -> None:
    # Given a redis-server of the test's own (AOF, fsync at every write), two workers, and a
    # producer putting jobs one by one
    server = redis_server.RedisServer(tmp_path / "data").start()
    store = Store.from_url(server.url())
    acknowledged: list[str] = []
    refused: list[str] = []
    enough = threading.Event()

    def produce() -> None:
        # Puts until told to stop, so the server dies while it is putting however slowly the
        # workers start on a loaded machine.
        while not enough.is_set():
            try:
                acknowledged.append(enqueue(store, "pool_sleep", seconds=0.005))
            except BackendError as exc:  # not acknowledged: the promise is about the others.
                refused.append(str(exc))
            time.sleep(0.002)

    try:
        with pool(store.settings.url, tmp_path, "--workers", "2", "--threads", "2") as running:
            producer = threading.Thread(target=produce)
            producer.start()
            wait_until(lambda: _complete(store) >= 50, 60, "the first completions")
            # When the server is killed mid-run, and started again on its files
            at_kill = len(acknowledged)
            server.stop(kill=True)
            time.sleep(0.5)
            server.start()
            wait_until(lambda: len(acknowledged) >= at_kill + AFTER_RESTART, 120, "puts again")
            enough.set()
            producer.join(300)
            # Then every acknowledged job completes, none lost, none failed
            wait_until(lambda: _complete(store) >= len(acknowledged), 300, "every completion")
            assert running.stop() == 0
        states = {uuid: store.get(uuid, history=False)["state"] for uuid in acknowledged}
        assert set(states.values()) == {"complete"}
        assert len(refused) <= 5  # puts wait out the restart (retried).
        assert store.counts() == {"pool": {"complete": len(acknowledged)}}
    finally:
        store.close()
        server.stop()


def _complete(store: Store) -> int:
    return store.counts().get("pool", {}).get("complete", 0)
