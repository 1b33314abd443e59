"""Fixtures for the dashboard tests: a real server on a free port over a SQLite file, a real
worker in a thread, and one headless Debian Chromium for the session (a fresh context, so
fresh storage, per test).

Playwright drives /usr/bin/chromium and never downloads a browser of its own; when Chromium
is missing the tests fail (never skip) and say how to install it.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Dialog, Page, sync_playwright

import zerog.examples  # noqa: F401 - registers the example job types the tests run.
from tests.dashboard import dash_jobs  # noqa: F401 - registers a job class with describe().
from tests.http import http_jobs  # noqa: F401 - registers the test job types.
from zerog.http import Limits, ServerThread, make_app
from zerog.settings import Settings
from zerog.store import Store
from zerog.worker import Worker

# Nothing this run starts may fetch a browser: Debian's chromium is the one (`make deps`).
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")

CHROMIUM = "/usr/bin/chromium"
FAST = Limits(stream_poll_seconds=0.05, stream_keepalive_seconds=0.5)
TIMEOUT_MS = 10_000  # any single wait on the page.


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """One headless Chromium for the whole session."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: run `make deps` (installs Debian's chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox"], headless=True
        )
        yield launched
        launched.close()


@dataclass
class Watched:
    """A page, and what it did that a test must see: dialogs opened, script errors and
    policy violations (Content-Security-Policy, Trusted Types)."""

    page: Page
    dialogs: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@pytest.fixture
def watched(browser: Browser) -> Iterator[Watched]:
    """A fresh context and page, 1280 px wide; fails the test on a script error or a CSP
    violation, whatever the test itself checked."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    seen = Watched(page)

    def on_dialog(dialog: Dialog) -> None:
        seen.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(msg: Any) -> None:
        text = msg.text
        if "Content Security Policy" in text or "TrustedHTML" in text or "Trusted Type" in text:
            seen.problems.append(text)

    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.problems.append(f"page error: {error}"))
    yield seen
    context.close()
    assert seen.problems == [], seen.problems


@pytest.fixture
def page(watched: Watched) -> Page:
    return watched.page


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """A fresh SQLite store (short grace, so a stopped worker lets go quickly)."""
    made = Store.from_url(
        f"sqlite:///{tmp_path / 'jobs.db'}",
        Settings(grace_seconds=1.0, poll_interval_seconds=0.1),
    )
    yield made
    made.close()


Serve = Callable[..., str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    """``serve(store, token=None, prefix="")`` starts a server; returns the dashboard's URL."""
    servers: list[ServerThread] = []

    def start(store: Store, token: str | None = None, prefix: str = "") -> str:
        server = ServerThread(make_app(store, token=token, prefix=prefix, limits=FAST)).start()
        servers.append(server)
        return f"{server.url}{prefix}/"

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def dash(store: Store, serve: Serve) -> str:
    """The dashboard's URL on ``store``, no token, no prefix. (``store`` comes first so that
    it is closed after the server has stopped: the page may still be reading.)"""
    return serve(store)


StartWorker = Callable[..., Worker]


@pytest.fixture
def start_worker() -> Iterator[StartWorker]:
    """``start_worker(store, *queues)``: a real worker on threads of this process; stopped
    after the test."""
    running: list[tuple[Worker, threading.Thread]] = []

    def start(store: Store, *queues: str) -> Worker:
        worker = Worker(store, list(queues), threads=1)
        thread = threading.Thread(target=worker.run, name="test-worker", daemon=True)
        thread.start()
        running.append((worker, thread))
        return worker

    yield start
    for worker, thread in running:
        worker.stop()
        thread.join(10)


def confirm(page: Page) -> None:
    """Say yes in the page's confirmation dialog (destructive actions ask first)."""
    page.locator("dialog.confirm button[data-confirm='yes']").click()


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll ``predicate`` until it is true (the store is changed by another thread)."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
    return value
