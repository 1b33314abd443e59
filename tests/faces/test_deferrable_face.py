"""The deferrable face behaves as deferrable's own code does, on real SQLite stores."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from tests.backends.support import redis_server
from tests.faces import deferred_calls as calls
from zerog.deferrable import Deferrable, MetadataProducerConsumer, backoff, delay, ttl
from zerog.deferrable.backend import (
    BackendFactory,
    DocketsBackendFactory,
    InMemoryBackend,
    InMemoryBackendFactory,
    RedisBackendFactory,
    SQSBackendFactory,
    ZerogBackendFactory,
)
from zerog.deferrable.backend.dockets import redis_url
from zerog.deferrable.queue.memory import InMemoryErrorQueue, InMemoryQueue
from zerog.errors import NotSerializable, NotSupported, ReservationLost

ROOT = Path(__file__).resolve().parents[2]


class Events:
    """An event consumer that records every event deferrable emits, with its item."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict]] = []

    def __getattr__(self, name: str):
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda item: self.seen.append((name[3:], dict(item or {})))

    @property
    def names(self) -> list[str]:
        return [name for name, _item in self.seen]


@pytest.fixture
def instance(timed_store, monkeypatch):
    """deferred_calls' instance on a fresh SQLite store with a fake clock, recording events."""
    backend = BackendFactory(timed_store).create_backend_for_group("faces")
    monkeypatch.setattr(calls.calls, "backend", backend)
    events = Events()
    calls.calls.register_event_consumer(events)
    calls.SEEN.clear()
    yield calls.calls, events
    calls.calls.clear_event_consumers()
    calls.calls.clear_metadata_producer_consumers()


# --- queues ------------------------------------------------------------------------------------


def test_a_popped_item_is_the_item_pushed_nothing_added(timed_store):
    queue = BackendFactory(timed_store).create_backend_for_group("q").queue
    item = {"id": str(uuid.uuid1()), "when": dt.date(2026, 1, 2), "pair": (1, 2)}
    queue.push(item)
    queue.push(7)  # not a dict: deferrable's queues take any item.
    assert queue.pop()[1] == item
    assert queue.pop()[1] == 7
    assert queue.pop() == (None, None)


def test_complete_batch_says_which_envelopes_were_completed(timed_store):
    queue = BackendFactory(timed_store).create_backend_for_group("q").queue
    queue.push_batch([{"n": 1}, {"n": 2}])
    first, second = (envelope for envelope, _item in queue.pop_batch(2))
    queue.complete(first)
    assert queue.complete_batch([first, second]) == [(first, False), (second, True)]
    assert queue.stats() == {"available": 0, "in_flight": 0, "delayed": 0}


def test_delayed_items_wait_and_flush_drops_everything_even_in_flight(timed_store, clock):
    queue = BackendFactory(timed_store).create_backend_for_group("q").queue
    queue.push({"n": 1, "delay": 5})
    queue.push({"n": 2})
    envelope, _item = queue.pop()
    assert queue.stats() == {"available": 0, "in_flight": 1, "delayed": 1}
    assert queue.pop() == (None, None)
    clock.advance(5)
    assert queue.flush() == 2  # the delayed one and the one taken back from flight.
    assert queue.stats() == {"available": 0, "in_flight": 0, "delayed": 0}
    with pytest.raises(ReservationLost):
        queue.complete(envelope)


def test_in_memory_backend_keeps_deferrable_s_classes_and_views():
    backend = InMemoryBackendFactory().create_backend_for_group("m")
    assert isinstance(backend, InMemoryBackend)
    assert isinstance(backend.queue, InMemoryQueue)
    assert isinstance(backend.error_queue, InMemoryErrorQueue)
    queue = backend.queue
    queue._push_to_delay_queue({"n": 1}, 0.0001)
    queue.push({"n": 2})
    store_now = queue.store.clock()
    while queue.store.clock() <= store_now + 0.001:  # the memory store's clock is the wall's.
        pass
    assert (queue.queue.qsize(), queue.delay_queue.qsize()) == (1, 1)
    assert queue._move_from_delay_queue() == 1
    assert (queue.queue.qsize(), queue.delay_queue.qsize()) == (2, 0)


def test_dockets_and_the_redis_client_run_on_zerog_s_redis_store():
    # Given the tests' own redis-server (never the shared one on 6379)
    server = redis_server.shared()
    client = redis.Redis(host="127.0.0.1", port=server.port, db=0)
    prefix = f"t{uuid.uuid4().hex[:10]}"
    try:
        # When items go through deferrable's Dockets factory and its redis_client factory
        for factory in (
            DocketsBackendFactory(client, wait_time=0),
            RedisBackendFactory(client, prefix=prefix),
        ):
            queue = factory.create_backend_for_group("g").queue
            queue.push({"method": "m", "args": [1]})
            # Then each pops what was pushed, from that server's store
            envelope, item = queue.pop()
            assert item == {"method": "m", "args": [1]}
            queue.complete(envelope)
            factory.store.close()
    finally:
        client.close()
    assert redis_url("redis://h:1/2") == "redis://h:1/2"


def test_sqs_says_what_to_use_instead():
    with pytest.raises(NotSupported, match=r"no SQS backend.*ZerogBackendFactory"):
        SQSBackendFactory(object())
    assert BackendFactory._queue_name(None) == "deferrable"
    assert BackendFactory._queue_name("g") == "deferrable:g"


# --- producers ---------------------------------------------------------------------------------


def test_arguments_and_metadata_round_trip_as_tagged_json(instance):
    d, events = instance

    class Correlation(MetadataProducerConsumer):
        NAMESPACE = "correlation"
        seen: list[object] = []

        def produce_metadata(self):
            return uuid.UUID(int=42)

        def consume_metadata(self, metadata):
            self.seen.append(metadata)

    d.register_metadata_producer_consumer(Correlation())
    calls.record.later({"id": uuid.UUID(int=1), "tags": {"a"}, "span": (1, 2)})
    d.run_once()
    seen = calls.SEEN
    assert seen == [{"id": uuid.UUID(int=1), "tags": {"a"}, "span": (1, 2)}]
    assert Correlation.seen == [uuid.UUID(int=42)]
    assert events.names == ["push", "pop", "complete"]


def test_what_cannot_be_deferred_fails_at_later_not_at_decoration(instance):
    d, _events = instance
    with pytest.raises(NotSerializable) as refused:
        calls.record.later(object())
    assert isinstance(refused.value, TypeError)

    @d.deferrable
    def nested():
        pass

    with pytest.raises(NotSerializable, match="module level"):
        nested.later()
    assert d.backend.queue.stats()["available"] == 0


# --- consumers ---------------------------------------------------------------------------------


def test_retries_back_off_4_then_6_seconds_then_the_error_queue(instance, clock):
    d, events = instance
    calls.always_flaky.later()
    d.run_once()
    assert d.backend.queue.stats()["delayed"] == 1
    clock.advance(backoff.backoff_seconds(1) - 0.5)  # 4 s before the second attempt.
    d.run_once()
    assert events.names == ["push", "pop", "retry", "complete", "empty"]
    clock.advance(0.5)
    d.run_once()  # the second of two attempts: the error queue.
    assert events.names[-3:] == ["pop", "error", "complete"]
    _envelope, failed = d.backend.error_queue.pop()
    assert failed["attempts"] == 1
    assert failed["error"]["error_type"] == "Flaky"
    assert failed["error"]["error_text"] == "again"
    assert [backoff.backoff_seconds(n) for n in (1, 2, 3)] == [4, 6, 10]
    assert backoff.backoff_seconds(30) == delay.MAXIMUM_DELAY_SECONDS


def test_an_expired_item_is_not_run_and_says_so(instance, clock):
    d, events = instance
    calls.short_lived.later()
    clock.advance(11)
    d.run_once()
    assert calls.SEEN == []
    assert events.names == ["push", "pop", "expire", "complete"]
    item = {"id": 1}
    ttl.add_ttl_metadata_to_item(item, 10, now=100.0)
    assert (ttl.item_is_expired(item, now=110.0), ttl.item_is_expired(item, now=110.5)) == (
        False,
        True,
    )


def test_the_error_queue_from_an_except_block(instance):
    d, events = instance
    try:
        1 / 0  # noqa: B018
    except ZeroDivisionError:
        d._push_item_to_error_queue({"id": "x"})
    _envelope, item = d.backend.error_queue.pop()
    assert item["error"]["error_type"] == "ZeroDivisionError"
    assert events.names == ["error"]


def test_a_zerog_worker_retries_with_the_item_s_attempts_saved(tmp_path):
    url = f"sqlite:///{tmp_path / 'worker.db'}"
    marker = tmp_path / "calls"
    env = {**os.environ, "FACES_DEFERRED_URL": url, "FACES_DEFERRED_MARKER": str(marker)}
    producer = (
        "from tests.faces import deferred_calls as c; "
        "print(c.fails_twice.later(3)); c.factory.store.close()"
    )
    made = subprocess.run(
        [sys.executable, "-c", producer], env=env, cwd=ROOT, capture_output=True, text=True,
        timeout=60, check=True,
    )  # fmt: skip
    worker = subprocess.run(
        [sys.executable, "-m", "zerog", "worker", "--burst", "--url", url, "--path", str(ROOT),
         "--import", "tests.faces.deferred_calls", "-q", "deferrable:faces"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    assert marker.read_text().splitlines() == ["attempt 1", "attempt 2", "attempt 3"]
    store = ZerogBackendFactory(url).store
    record = store.get(made.stdout.strip())
    assert record["state"] == "complete"
    assert record["values"]["attempts"] == 2  # deferrable's count, kept with the job.
    store.close()


def test_deferrable_defaults_match_deferrable():
    d = Deferrable(backend=InMemoryBackendFactory().create_backend_for_group("x"))
    assert d.default_max_attempts == 5
