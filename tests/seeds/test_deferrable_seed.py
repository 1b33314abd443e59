"""The deferrable seed's examples, call for call, on zerog's stores."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.seeds import deferred_functions as funcs
from zerog import testing
from zerog.deferrable import Deferrable, backoff_seconds
from zerog.deferrable.backend import (
    BackendFactory,
    BeanstalkBackendFactory,
    RedisBackendFactory,
    ZerogBackendFactory,
)
from zerog.errors import NotSerializable

ROOT = Path(__file__).resolve().parents[2]


class Recorder:
    """An event consumer with every one of deferrable's ten events."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def __getattr__(self, name: str):
        if not name.startswith("on_"):
            raise AttributeError(name)
        return lambda item: self.events.append(name[3:])


@pytest.fixture
def clock():
    return testing.FakeClock()


@pytest.fixture
def stats(clock, monkeypatch):
    """The seed's `stats` instance, on a fresh in-memory store with a fake clock."""
    backend = BackendFactory(testing.make_store(clock=clock)).create_backend_for_group("stats")
    monkeypatch.setattr(funcs.stats, "backend", backend)
    funcs.CALLS.clear()
    recorder = Recorder()
    funcs.stats.register_event_consumer(recorder)
    yield funcs.stats, recorder
    funcs.stats.clear_event_consumers()
    funcs.stats.clear_metadata_producer_consumers()


def test_quick_start_later_then_run_once(stats):
    instance, recorder = stats
    funcs.run_some_stats.later("team-1")
    instance.run_once()
    assert funcs.CALLS == [("run_some_stats", "team-1")]
    assert recorder.events == ["push", "pop", "complete"]
    instance.run_once()
    assert recorder.events[-1] == "empty"


def test_retry_three_attempts_then_the_error_queue(stats, clock):
    instance, recorder = stats
    funcs.divide.later()
    for attempt in range(3):
        instance.run_once()
        clock.advance(backoff_seconds(attempt + 1))
    assert [c for c in funcs.CALLS if c[0] == "divide"] == [("divide", None)] * 3
    assert recorder.events.count("retry") == 2
    assert recorder.events.count("error") == 1
    _envelope, failed = instance.backend.error_queue.pop()
    assert failed["method"].endswith(":divide")
    assert failed["error"]["error_type"] == "ZeroDivisionError"
    assert failed["attempts"] == 2  # two failed attempts were retried before the third.


def test_exponential_backoff_delays_retries(stats, clock):
    instance, _ = stats
    funcs.divide.later()
    instance.run_once()
    assert instance.backend.queue.stats() == {"available": 0, "in_flight": 0, "delayed": 1}
    clock.advance(backoff_seconds(1) - 0.5)  # deferrable waits 4 s before the 2nd attempt.
    instance.run_once()
    assert len(funcs.CALLS) == 1  # still waiting out the backoff.
    clock.advance(1)
    instance.run_once()
    assert len(funcs.CALLS) == 2


def test_backoff_schedule_is_two_plus_a_power_of_two_capped_at_900():
    assert [backoff_seconds(n) for n in range(1, 6)] == [4, 6, 10, 18, 34]
    assert backoff_seconds(20) == 900


def test_without_backoff_retries_are_immediate(stats):
    instance, _ = stats
    funcs.divide_without_backoff.later()
    instance.run_once()
    assert instance.backend.queue.stats()["available"] == 1


def test_an_error_not_in_error_classes_goes_straight_to_the_error_queue(stats):
    instance, recorder = stats
    funcs.fails_with_an_unlisted_error.later()
    instance.run_once()
    assert recorder.events == ["push", "pop", "error", "complete"]
    assert instance.backend.error_queue.stats()["available"] == 1


def test_ttl_expired_jobs_never_run(stats, clock):
    instance, recorder = stats
    uuid = funcs.send_time_sensitive_message.later("hello")
    clock.advance(301)
    instance.run_once()
    assert funcs.CALLS == []
    assert recorder.events == ["push", "pop", "expire", "complete"]
    assert instance.backend.queue.store.get(uuid)["state"] == "complete"


def test_delay_holds_the_job_back(stats, clock):
    instance, _ = stats
    funcs.do_this_after_30_seconds.later()
    instance.run_once()
    assert funcs.CALLS == []
    clock.advance(30)
    instance.run_once()
    assert funcs.CALLS == [("delayed", None)]


def test_metadata_travels_from_producer_to_consumer(stats):
    instance, _ = stats
    instance.register_metadata_producer_consumer(funcs.HostnameMetadataProducerConsumer())
    funcs.run_some_stats.later("t")
    instance.run_once()
    assert funcs.HostnameMetadataProducerConsumer.seen[-1] == socket.gethostname()
    with pytest.raises(ValueError, match="already in use"):
        instance.register_metadata_producer_consumer(funcs.HostnameMetadataProducerConsumer())


def test_non_json_argument_fails_at_later_naming_it(stats):
    instance, _ = stats
    with pytest.raises(NotSerializable, match=r"argument 1 of .*run_some_stats \(object\)"):
        funcs.run_some_stats.later(object())
    with pytest.raises(TypeError):  # as json.dumps would raise.
        funcs.run_some_stats.later(team=object())
    assert instance.backend.queue.stats() == {"available": 0, "in_flight": 0, "delayed": 0}


def test_lambdas_and_nested_functions_are_decorated_but_not_deferred():
    instance = Deferrable(backend=ZerogBackendFactory("memory://").create_backend_for_group("x"))
    function = instance.deferrable(lambda: None)
    with pytest.raises(NotSerializable, match="module level"):
        function.later()

    @instance.deferrable
    def nested():
        pass

    with pytest.raises(NotSerializable, match="module level"):
        nested.later()
    assert instance.backend.queue.stats()["available"] == 0


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"delay_seconds": 1, "debounce_seconds": 1}, "delay and debounce"),
        ({"delay_seconds": 901}, "cannot exceed 15 minutes"),
        ({"debounce_always_delay": True}, "debounce_always_delay is an option"),
        ({"delay_seconds": 10, "ttl_seconds": 5}, "must be less than ttl_seconds"),
    ],
)
def test_deferrables_validation_rules(options, message):
    instance = Deferrable(backend=ZerogBackendFactory("memory://").create_backend_for_group("x"))
    with pytest.raises(ValueError, match=message):
        instance.deferrable(**options)(funcs.run_some_stats)


def test_debounce_first_now_then_delayed_then_skipped(stats, clock):
    instance, recorder = stats
    funcs.actually_queue_this_at_most_once_every_30_seconds.later()  # queued now
    funcs.actually_queue_this_at_most_once_every_30_seconds.later()  # delayed by 30 seconds
    funcs.actually_queue_this_at_most_once_every_30_seconds.later()  # skipped
    assert instance.backend.queue.stats() == {"available": 1, "in_flight": 0, "delayed": 1}
    assert recorder.events == ["debounce_miss", "push", "debounce_miss", "push", "debounce_hit"]
    instance.run_once()
    clock.advance(30.0)
    instance.run_once()
    assert funcs.CALLS == [("debounced", None), ("debounced", None)]


def test_debounce_always_delay_delays_then_skips(stats, clock):
    instance, recorder = stats
    funcs.always_delay_this.later()  # delayed by 30 seconds
    funcs.always_delay_this.later()  # skipped
    assert instance.backend.queue.stats() == {"available": 0, "in_flight": 0, "delayed": 1}
    assert recorder.events[-1] == "debounce_hit"
    clock.advance(30.0)
    instance.run_once()
    assert funcs.CALLS == [("always_delayed", None)]


def test_debounce_keys_are_per_call_arguments(stats):
    instance, _ = stats
    function = instance.deferrable(debounce_seconds=30)(funcs.run_some_stats)
    function.later("team-1")
    function.later("team-2")
    assert instance.backend.queue.stats()["available"] == 2


def test_debounce_accepts_a_redis_client_and_needs_no_redis():
    backend = ZerogBackendFactory("memory://").create_backend_for_group("x")
    instance = Deferrable(backend=backend, redis_client=object())
    function = instance.deferrable(debounce_seconds=30)(funcs.plain_call)
    function.later("team-1")
    function.later("team-1")
    assert backend.queue.stats() == {"available": 1, "in_flight": 0, "delayed": 1}


def test_the_beanstalk_factory_runs_deferred_calls_through_beanstalkd(tmp_path):
    from tests.backends.support.beanstalkd import Beanstalkd

    server = Beanstalkd(tmp_path / "binlog").start()
    try:
        factory = BeanstalkBackendFactory(
            store=f"sqlite:///{tmp_path / 'jobs.db'}", port=server.port, prefix="deferrable."
        )
        instance = Deferrable(backend=factory.create_backend_for_group("bs"))
        function = instance.deferrable(funcs.plain_call)
        funcs.CALLS.clear()
        function.later("through beanstalkd")
        instance.run_once()
        assert funcs.CALLS == [("plain_call", "through beanstalkd")]
        factory.store.close()
    finally:
        server.stop()


def test_the_redis_factory_keeps_calls_and_debounce_on_deferrable_s_redis_client():
    import redis

    from tests.backends.support import redis_server

    # Given deferrable's own Redis client, and a backend on its server
    redis_client = redis.Redis(port=redis_server.shared().port)
    factory = RedisBackendFactory(redis_client, prefix="deferrable-seed")
    instance = Deferrable(backend=factory.create_backend_for_group("rd"), redis_client=redis_client)
    function = instance.deferrable(debounce_seconds=30)(funcs.plain_call)
    funcs.CALLS.clear()
    # When a debounced call is deferred twice and a consumer runs
    function.later("on redis")
    function.later("on redis")
    instance.run_once()
    # Then it ran once, its second push waits, and everything is under the prefix
    assert funcs.CALLS == [("plain_call", "on redis")]
    assert instance.backend.queue.stats() == {"available": 0, "in_flight": 0, "delayed": 1}
    assert redis_client.keys("{deferrable-seed}:debounce")
    factory.store.close()
    assert redis_client.ping()  # the caller's client stays open.
    redis_client.close()


def test_time_options_may_be_callables_evaluated_per_call(stats, clock):
    instance, _ = stats
    wait = iter([0.0, 60.0])
    function = instance.deferrable(delay_seconds=lambda: next(wait))(funcs.run_some_stats)
    function.later("now")
    function.later("later")
    assert instance.backend.queue.stats() == {"available": 1, "in_flight": 0, "delayed": 1}


def test_a_zerog_worker_runs_deferred_functions_from_the_same_queue(tmp_path):
    url = f"sqlite:///{tmp_path / 'deferred.db'}"
    marker = tmp_path / "calls"
    env = {**os.environ, "DEFERRABLE_TEST_URL": url, "DEFERRABLE_TEST_MARKER": str(marker)}
    producer = (
        "from tests.seeds import deferred_functions as f; "
        "f.run_some_stats.later('from-producer'); f.factory.store.close()"
    )
    subprocess.run([sys.executable, "-c", producer], env=env, cwd=ROOT, check=True, timeout=60)
    worker = subprocess.run(
        [sys.executable, "-m", "zerog", "worker", "--burst", "--url", url, "--path", str(ROOT),
         "--import", "tests.seeds.deferred_functions", "-q", "deferrable:stats"],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert worker.returncode == 0, worker.stderr
    assert marker.read_text() == "from-producer\n"
