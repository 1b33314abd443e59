"""A job's page shows its attempt's figures: the latest attempt's among its facts, and each
failed attempt's under its error."""

from __future__ import annotations

from dataclasses import replace

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import StartWorker, wait_until
from tests.dashboard.helpers import put
from zerog.jobs import make_base_job
from zerog.model import Settlement
from zerog.record import error_entry
from zerog.store import Store

FIGURES = {
    "wall_seconds": 12.5,
    "cpu_user_seconds": 3.25,
    "cpu_system_seconds": 0.5,
    "peak_rss_bytes": 300 << 20,
    "start_rss_bytes": 40 << 20,
    "scope": "process",
    "threads": 1,
    "pid": 4321,
}


def test_the_figures_of_a_run_are_on_its_page(
    page: Page, store: Store, dash: str, start_worker: StartWorker
) -> None:
    # Given a job run to completion by a real worker
    uuid = make_base_job({"title": "measured", "steps": 1}, "example_report").enqueue(store=store)
    start_worker(store, "examples")
    wait_until(lambda: store.get(uuid, history=False)["state"] == "complete", 60)
    # When its page is opened, Then its last attempt's figures are among its facts
    page.goto(f"{dash}#/job/{uuid}")
    fact = page.locator("td[data-fact='last attempt']")
    expect(fact).to_contain_text("peak RSS")
    expect(fact).to_contain_text("(its thread)")


def test_a_failed_attempts_figures_are_under_its_error(page: Page, store: Store, dash: str) -> None:
    # Given a job whose attempt failed with its figures (in its own process)
    uuid = put(store, "alpha")
    reservation = store.reserve(["alpha"], "test-worker")
    assert reservation is not None
    error = {
        **error_entry(store.clock(), None, "ProcessEnded: memory limit exceeded"),
        "usage": FIGURES,
    }
    store.settle(reservation.lease, replace(Settlement.failed(error), usage=FIGURES))
    # When its page is opened, Then the error and the facts say the figures
    page.goto(f"{dash}#/job/{uuid}")
    expect(page.locator(".errors .error-usage")).to_have_text(
        "wall 12.50 s · CPU 3.25 s user + 0.50 s system (its process) · "
        "peak RSS 300 MiB (its own process, 40 MiB at start)"
    )
    expect(page.locator("td[data-fact='last attempt']")).to_contain_text("peak RSS 300 MiB")
