"""The worker's webhook: a JSON event POSTed to a URL when a job it runs stalls
(``job.stalled``) or fails for good (``job.failed``: its last attempt failed; an attempt
that will be retried sends nothing).

The URL is ``zerog worker --webhook URL`` (which sets ``ZEROG_WEBHOOK_URL`` for the pool's
processes), else the store's config ``webhook-url``, read when an event is sent, so one
``zerog config webhook-url ...`` reaches every worker. Events go out from a thread of their
own through a bounded queue: a job's thread only drops the event in, so a slow endpoint
never slows a job, and a dead one cannot grow the worker's memory (past
:data:`MAX_PENDING` waiting events, new ones are dropped and counted, with one warning).
Each POST waits at most ``ZEROG_WEBHOOK_TIMEOUT`` seconds (``--webhook-timeout``, default
5) and is tried up to :data:`ATTEMPTS` times, waiting 0.5 s, 1 s, 2 s between tries; any
2xx answer is delivery. A client error other than 408 and 429 is not tried again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
import urllib.error
import urllib.request
from typing import Any

from zerog.store import Store

log = logging.getLogger(__name__)

URL_ENV = "ZEROG_WEBHOOK_URL"
TIMEOUT_ENV = "ZEROG_WEBHOOK_TIMEOUT"
DEFAULT_TIMEOUT = 5.0
ATTEMPTS = 4  # tries per event.
BACKOFF_SECONDS = 0.5  # before the second try; doubles after each.
MAX_PENDING = 1000  # events waiting to be sent; more are dropped.
RETRIED_CLIENT_ERRORS = (408, 429)
WARN_EVERY = 100  # events not taken: a warning for the first, then one per this many.


class Sender:
    """One URL's queue and its delivery thread (started at the first event)."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url
        self.timeout = timeout
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self._pending: queue.Queue[dict[str, Any] | None] = queue.Queue(MAX_PENDING)
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def send(self, event: dict[str, Any]) -> None:
        """Queue an event; never blocks."""
        self._start()
        try:
            self._pending.put_nowait(event)
        except queue.Full:
            self.dropped += 1
            if self.dropped == 1:
                log.warning(
                    "webhook %s: %d events wait already; dropping new ones",
                    self.url,
                    MAX_PENDING,
                    extra={"event": "webhook.dropped"},
                )

    def close(self, wait: float) -> None:
        """Send what waits for up to ``wait`` seconds, then give up on the rest."""
        if self._thread is None:
            return
        with contextlib.suppress(queue.Full):
            self._pending.put(None, timeout=wait)
        self._thread.join(wait)
        self._closing.set()  # a try still waiting to be repeated is not repeated.

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="zerog-webhook")
                self._thread.daemon = True  # never keeps a worker process alive.
                self._thread.start()

    def _loop(self) -> None:
        while True:
            event = self._pending.get()
            if event is None or self._closing.is_set():  # closed: what waits is dropped.
                return
            if self._deliver(json.dumps(event).encode()):
                self.sent += 1
            else:
                self.failed += 1

    def _deliver(self, body: bytes) -> bool:
        """POST the body, trying again with backoff; whether an endpoint took it."""
        problem = ""
        for attempt in range(ATTEMPTS):
            if attempt and self._closing.wait(BACKOFF_SECONDS * 2 ** (attempt - 1)):
                break
            try:
                self._post(body)
                return True
            except urllib.error.HTTPError as exc:
                problem = f"HTTP {exc.code}"
                if 400 <= exc.code < 500 and exc.code not in RETRIED_CLIENT_ERRORS:
                    break
            except (OSError, ValueError) as exc:  # refused, unreachable, timed out, bad URL.
                problem = str(exc) or type(exc).__name__
        if self.failed % WARN_EVERY == 0:  # the first, then one line per WARN_EVERY.
            log.warning(
                "webhook %s did not take an event (%d so far): %s",
                self.url,
                self.failed + 1,
                problem,
                extra={"event": "webhook.failed"},
            )
        return False

    def _post(self, body: bytes) -> None:
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "User-Agent": "zerog-worker"},
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:
            answer.read()


class Webhook:
    """A worker's webhook: resolves the URL per event (environment, else the store's
    config) and hands the event to that URL's :class:`Sender`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._senders: dict[str, Sender] = {}
        self._lock = threading.Lock()

    def url(self) -> str | None:
        """Where events go now, if anywhere."""
        url = os.environ.get(URL_ENV) or self.store.config().get("webhook-url")
        return str(url) if url else None

    def send(self, event: dict[str, Any]) -> None:
        """Queue an event for the webhook, if one is set; never blocks, never raises."""
        try:
            url = self.url()
        except Exception:  # the store's config unreadable now: the event is not worth a job.
            log.debug("no webhook URL to be had", exc_info=True)
            return
        if url is None:
            return
        with self._lock:
            sender = self._senders.get(url)
            if sender is None:
                sender = self._senders[url] = Sender(url, timeout())
        sender.send(event)

    def close(self, wait: float = DEFAULT_TIMEOUT) -> None:
        """Deliver what waits, for up to ``wait`` seconds (the worker is stopping)."""
        with self._lock:
            senders = list(self._senders.values())
        for sender in senders:
            sender.close(wait)


def timeout() -> float:
    """The POST timeout: ``ZEROG_WEBHOOK_TIMEOUT`` seconds, else 5."""
    raw = os.environ.get(TIMEOUT_ENV)
    try:
        value = float(raw) if raw else DEFAULT_TIMEOUT
    except ValueError:
        return DEFAULT_TIMEOUT
    return value if value > 0 else DEFAULT_TIMEOUT
