"""A job's page: values, history, live progress from the stream while a real worker runs
the job, and the operator actions."""

from __future__ import annotations

import json
import time

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import StartWorker, confirm
from tests.dashboard.helpers import TRACEBACK, failed, put, state_of
from zerog.jobs import make_base_job
from zerog.store import Store

BAR_AND_STATE = """() => {
  const bar = document.querySelector('.job-progress [role=progressbar]');
  const badge = document.querySelector('.job-progress .badge');
  return [Number(bar ? bar.getAttribute('aria-valuenow') : 0), badge ? badge.textContent : ''];
}"""
"""The bar's value and the state badge, read in one go: a redraw between two separate reads
could pair a complete badge with the bar of the step before (a flaky test under load)."""


def progress_values(page: Page, timeout: float = 60.0) -> list[int]:
    """Each value the page's progress bar shows, read until the job is complete and its bar
    full (or ``timeout`` seconds passed: the caller's assertions then say what was seen)."""
    seen: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value, state = page.evaluate(BAR_AND_STATE)
        if not seen or seen[-1] != value:
            seen.append(int(value))
        if state == "complete" and value == 100:
            break
        page.wait_for_timeout(50)
    return seen


def test_progress_advances_live_until_complete(
    page: Page, store: Store, dash: str, start_worker: StartWorker
) -> None:
    # Given a report job of 5 steps enqueued, and its page open before any worker runs,
    job = make_base_job({"title": "quarterly", "steps": 5, "step_seconds": 0.4}, "example_report")
    uuid = job.enqueue(store=store, tags=("finance",))
    page.goto(f"{dash}#/job/{uuid}")
    expect(page.locator(".job-progress .badge")).to_have_text("waiting")
    expect(page.locator("pre.values").first).to_contain_text('"title": "quarterly"')
    expect(page.locator("td[data-fact='tags']")).to_have_text("finance")
    # When a real worker runs it,
    start_worker(store, "examples")
    # Then the bar advances through the steps as the stream reports them, to 100%,
    seen = progress_values(page)
    assert seen[-1] == 100
    assert len([v for v in seen if 0 < v < 100]) >= 2, seen
    assert seen == sorted(seen)
    expect(page.locator(".job-progress .percent")).to_have_text("100%")
    # with its log lines, its result, and a history from enqueue to complete.
    expect(page.locator("ol.log li")).to_have_count(5)
    expect(page.locator("ol.log li").last).to_contain_text("quarterly: step 5 of 5 done")
    expect(page.locator("ol.timeline li").first).to_contain_text("waiting")
    expect(page.locator("ol.timeline li").last).to_contain_text("complete")
    result = page.locator("pre.values").nth(1).text_content() or ""
    assert json.loads(result) == {"title": "quarterly", "steps": 5}
    assert state_of(store, uuid) == "complete"


def test_cancel_pause_resume_and_retry_from_the_job_page(
    page: Page, store: Store, dash: str
) -> None:
    # Given a waiting job,
    uuid = put(store, "alpha", values={"n": 1})
    page.goto(f"{dash}#/job/{uuid}")
    badge = page.locator(".job-progress .badge")
    expect(badge).to_have_text("waiting")
    expect(page.locator("button[data-action='retry']")).to_be_disabled()
    # When it is paused, resumed, then cancelled from its page, the store follows each step;
    for action, state in (("pause", "paused"), ("resume", "waiting"), ("cancel", "cancelled")):
        page.locator(f"button[data-action='{action}']").click()
        if action == "cancel":
            confirm(page)  # cancelling is asked about first.
        expect(badge).to_have_text(state)
        assert state_of(store, uuid) == state
    expect(page.locator("ol.timeline li").last).to_contain_text("cancelled")
    # and a cancelled job can be retried: it waits again.
    page.locator("button[data-action='retry']").click()
    expect(badge).to_have_text("waiting")
    assert state_of(store, uuid) == "waiting"


def test_a_failed_job_shows_its_error_and_retries(page: Page, store: Store, dash: str) -> None:
    uuid = failed(store, "alpha", msg="ValueError: boom", log=("fetching", "parsing"))
    page.goto(f"{dash}#/job/{uuid}")
    expect(page.locator(".job-progress .badge")).to_have_text("failed")
    expect(page.locator(".errors .error-msg")).to_have_text("ValueError: boom")
    expect(page.locator(".errors pre.traceback")).to_have_text(TRACEBACK)
    expect(page.locator(".errors .error-head")).to_contain_text("code 7")
    expect(page.locator("ol.log li")).to_have_count(2)
    expect(page.locator("button[data-action='cancel']")).to_be_disabled()
    page.locator("button[data-action='retry']").click()
    expect(page.locator(".job-progress .badge")).to_have_text("waiting")
    assert state_of(store, uuid) == "waiting"


def test_a_stalled_job_is_flagged_on_its_page_and_in_the_list(
    page: Page, store: Store, dash: str
) -> None:
    # Given a running job that has said nothing for longer than its stall threshold
    store.set_config("stall-seconds", 0.2)
    uuid = make_base_job({"title": "stuck", "steps": 1}, "example_report").enqueue(store=store)
    assert store.reserve(["examples"], "w-stuck") is not None
    page.wait_for_timeout(300)

    # When its page is opened, Then it shows running, flagged stalled
    page.goto(f"{dash}#/job/{uuid}")
    expect(page.locator(".job-progress .badge")).to_have_text("running")
    expect(page.locator(".job-progress .stalled-flag")).to_have_text("stalled")

    # And the jobs list flags it too
    page.goto(f"{dash}#/jobs")
    expect(page.locator(f"tr[data-uuid='{uuid}'] .stalled-flag")).to_have_text("stalled")
