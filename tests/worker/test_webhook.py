"""The worker's webhook (zerog.worker.webhook) against a real HTTP endpoint: tried again on
errors with backoff, cut off by its timeout, never blocking the sender, bounded when the
endpoint is gone; the URL from the environment or the store's config."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from tests.worker.hook_server import hook_server
from tests.worker.pool import wait_until
from zerog.backends.memory import MemoryBackend
from zerog.errors import InvalidOptions
from zerog.settings import Settings
from zerog.store import Store
from zerog.worker import webhook
from zerog.worker.webhook import MAX_PENDING, Sender, Webhook


@pytest.fixture
def store() -> Iterator[Store]:
    made = Store(MemoryBackend(), Settings(url="memory://"))
    yield made
    made.close()


def test_an_event_is_posted_as_json_and_tried_again_after_errors() -> None:
    with hook_server() as hook:
        # Given an endpoint that fails twice (503, 429) before it takes events
        hook.answers = [503, 429]
        sender = Sender(hook.url)
        # When an event is sent / Then it arrives once, on the third try
        sender.send({"event": "job.failed", "job_id": "j1"})
        wait_until(lambda: hook.of("job.failed"), 20, "the delivery")
        sender.close(5)
        assert hook.of("job.failed") == [{"event": "job.failed", "job_id": "j1"}]
        assert hook.requests == 3
        assert (sender.sent, sender.failed) == (1, 0)


def test_a_client_error_is_not_tried_again() -> None:
    with hook_server() as hook:
        hook.answers = [404]
        sender = Sender(hook.url)
        sender.send({"event": "job.failed"})
        wait_until(lambda: sender.failed == 1, 20, "the failure")
        sender.close(1)
        assert hook.requests == 1


def test_a_slow_endpoint_is_cut_off_by_the_timeout_and_never_slows_the_sender() -> None:
    with hook_server() as hook:
        # Given an endpoint that answers after 1 s, and a 0.2 s timeout
        hook.delay = 1.0
        sender = Sender(hook.url, timeout=0.2)
        # When events are sent / Then sending returns at once
        began = time.monotonic()
        for n in range(20):
            sender.send({"event": "job.stalled", "n": n})
        assert time.monotonic() - began < 0.5
        # And the first event is given up after its tries, each cut at the timeout
        wait_until(lambda: sender.failed >= 1, 30, "the first event given up")
        sender.close(0.1)


def test_a_dead_endpoint_cannot_grow_the_queue_past_its_bound() -> None:
    # Given a URL where nothing listens
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sender = Sender(f"http://127.0.0.1:{port}/hook", timeout=0.2)
    # When far more events are sent than the bound / Then the rest are dropped and counted
    for n in range(MAX_PENDING + 500):
        sender.send({"event": "job.failed", "n": n})
    assert sender.dropped >= 499
    began = time.monotonic()
    sender.close(0.5)  # a stopping worker does not wait for a dead endpoint.
    assert time.monotonic() - began < 5


def test_the_url_comes_from_the_environment_else_the_stores_config(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(webhook.URL_ENV, raising=False)
    hooked = Webhook(store)
    assert hooked.url() is None
    hooked.send({"event": "job.failed"})  # no URL: nothing happens.
    store.set_config("webhook-url", "http://127.0.0.1:9/from-config")
    assert hooked.url() == "http://127.0.0.1:9/from-config"
    monkeypatch.setenv(webhook.URL_ENV, "http://127.0.0.1:9/from-env")
    assert hooked.url() == "http://127.0.0.1:9/from-env"
    with pytest.raises(InvalidOptions):
        store.set_config("webhook-url", "ftp://example.invalid/")
