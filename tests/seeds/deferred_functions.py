"""Module-level deferred functions for the deferrable seed tests (a worker imports this).

The store comes from DEFERRABLE_TEST_URL (a SQLite file in the worker test), else memory.
"""

import os
import socket

from zerog.deferrable import Deferrable
from zerog.deferrable.backend import ZerogBackendFactory
from zerog.deferrable.metadata import MetadataProducerConsumer

CALLS: list[tuple[str, object]] = []

factory = ZerogBackendFactory(os.environ.get("DEFERRABLE_TEST_URL", "memory://"))
stats_backend = factory.create_backend_for_group("stats")
stats = Deferrable(backend=stats_backend)


@stats.deferrable
def run_some_stats(team_id):
    CALLS.append(("run_some_stats", team_id))
    marker = os.environ.get("DEFERRABLE_TEST_MARKER")
    if marker:
        with open(marker, "a") as handle:
            handle.write(f"{team_id}\n")


@stats.deferrable(error_classes=[ZeroDivisionError], max_attempts=3)
def divide():
    CALLS.append(("divide", None))
    return 1 / 0


@stats.deferrable(error_classes=[ZeroDivisionError], max_attempts=3, use_exponential_backoff=False)
def divide_without_backoff():
    return 1 / 0


@stats.deferrable
def fails_with_an_unlisted_error():
    raise KeyError("nope")


@stats.deferrable(ttl_seconds=300)
def send_time_sensitive_message(message):
    CALLS.append(("send", message))


@stats.deferrable(delay_seconds=30)
def do_this_after_30_seconds():
    CALLS.append(("delayed", None))


class HostnameMetadataProducerConsumer(MetadataProducerConsumer):
    NAMESPACE = "hostname"
    seen: list[object] = []

    def produce_metadata(self):
        return socket.gethostname()

    def consume_metadata(self, metadata):
        self.seen.append(metadata)


@stats.deferrable(debounce_seconds=30)
def actually_queue_this_at_most_once_every_30_seconds():
    CALLS.append(("debounced", None))


@stats.deferrable(debounce_seconds=30, debounce_always_delay=True)
def always_delay_this():
    CALLS.append(("always_delayed", None))


def plain_call(value):
    """Undecorated: tests that make a Deferrable of their own decorate this one."""
    CALLS.append(("plain_call", value))
