"""Redis: each thread runs the scripts on a connection of its own (a put's round trip without
the pool's checkout at every command), given back when the thread ends, never more than half
the pool, and dropped after a failure so that the next call reconnects."""

from __future__ import annotations

import gc
import threading

import redis

from tests.backends.support.helpers import put_job
from zerog.backends.redis import RedisBackend
from zerog.record import JobSpec
from zerog.store import Store


def _put_from_threads(store: Store, count: int) -> list[str]:
    uuids: list[str] = []

    def put() -> None:
        uuids.append(store.enqueue(JobSpec(type="t", queue="q")))

    threads = [threading.Thread(target=put) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return uuids


def test_a_thread_keeps_one_connection_and_gives_it_back_when_it_ends(
    backend: RedisBackend, store: Store
) -> None:
    pool = backend.client.connection_pool
    put_job(backend, queue="q")  # this thread's connection, kept.
    spare = backend.runner._spare[0]
    # When 20 threads each put a job, and end
    uuids = _put_from_threads(store, 20)
    gc.collect()
    # Then every job is stored, and every connection went back to the pool
    assert len({store.get(u)["uuid"] for u in uuids}) == 20
    assert backend.runner._spare[0] == spare
    assert len(pool._in_use_connections) == 1  # this thread's.


def test_threads_keep_at_most_half_the_pool(url: str) -> None:
    # Given a store whose pool holds 6 connections
    where, prefix = url.split("?prefix=")
    pool = redis.ConnectionPool.from_url(where, max_connections=6)
    client = redis.Redis(connection_pool=pool)
    backend = RedisBackend.from_client(client, prefix=prefix)
    store = Store(backend)
    try:
        assert backend.runner._spare == [3]
        # When 10 threads put at once, the others share the pool as redis-py does
        gate = threading.Barrier(10)

        def put() -> None:
            gate.wait()
            store.enqueue(JobSpec(type="t", queue="q"))

        threads = [threading.Thread(target=put) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        gc.collect()
        # Then all were put, and what threads kept is back
        assert store.counts()["q"]["waiting"] == 10
        assert backend.runner._spare == [3]
    finally:
        store.close()
        client.close()


def test_a_connection_cut_midway_is_dropped_and_the_next_call_reconnects(
    backend: RedisBackend, store: Store, client: redis.Redis
) -> None:
    first = put_job(backend, queue="q")
    # When the server closes this thread's connection
    for info in client.client_list():
        if info.get("cmd") in ("fcall", "evalsha"):
            client.client_kill_filter(_id=info["id"])
    # Then the next script reconnects (a transient failure, retried) and works
    second = store.enqueue(JobSpec(type="t", queue="q"))
    assert store.get(second)["state"] == "waiting"
    assert store.get(first)["uuid"] == first
