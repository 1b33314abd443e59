"""Queues (pause, resume, kick), workers, and the failed jobs with their tracebacks."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import StartWorker, wait_until
from tests.dashboard.helpers import TRACEBACK, failed, put, state_of
from zerog.store import Store


def test_queue_pause_resume_and_kick(page: Page, store: Store, dash: str) -> None:
    # Given a queue with a waiting job and two failed ones,
    put(store, "alpha")
    broken = [failed(store, "alpha") for _ in range(2)]
    page.goto(f"{dash}#/queues")
    row = page.locator("tr[data-queue='alpha']")
    expect(row.locator("td[data-state='failed']")).to_have_text("2")
    # When it is paused, the store has it paused, and the button turns to Resume;
    row.locator("button[data-action='pause']").click()
    expect(row.locator(".badge.paused")).to_be_visible()
    assert store.paused_queues() == frozenset({"alpha"})
    row.locator("button[data-action='resume']").click()
    expect(row.locator(".queue-state")).to_have_text("active")
    assert store.paused_queues() == frozenset()
    # and a kick of 2 puts both failed jobs back to waiting.
    row.locator("input.kick-count").fill("2")
    row.locator("button[data-action='kick']").click()
    expect(page.locator(".action-status")).to_contain_text("2 job(s) kicked")
    expect(row.locator("td[data-state='waiting']")).to_have_text("3")
    assert [state_of(store, u) for u in broken] == ["waiting", "waiting"]


def test_workers_view_lists_a_live_worker(
    page: Page, store: Store, dash: str, start_worker: StartWorker
) -> None:
    worker = start_worker(store, "alpha", "beta")
    wait_until(lambda: store.workers())
    page.goto(f"{dash}#/workers")
    row = page.locator(f"tr[data-worker='{worker.worker_id}']")
    expect(row).to_be_visible()
    expect(row.locator("td").nth(3)).to_have_text("alpha, beta")
    expect(row.locator("td").nth(5)).to_have_text("idle")


def test_failed_view_shows_errors_with_tracebacks_and_retries(
    page: Page, store: Store, dash: str
) -> None:
    # Given two failed jobs and a waiting one,
    first = failed(store, "alpha", msg="KeyError: 'id'")
    second = failed(store, "beta", msg="ValueError: boom")
    put(store, "alpha")
    # When the failed view opens, Then it lists just those, each with its error, and a
    # traceback per group of errors,
    page.goto(f"{dash}#/failed")
    rows = page.locator("table.jobs tbody tr[data-uuid]")
    expect(rows).to_have_count(2)
    expect(page.locator(f"tr[data-uuid='{first}'] .last-error")).to_have_text("KeyError: 'id'")
    group = page.locator(".failed-group").filter(has_text="KeyError")
    group.locator("summary").click()
    expect(group.locator("pre.traceback")).to_have_text(TRACEBACK)
    # and retrying one from there puts it back to waiting.
    page.locator(f"tr[data-uuid='{second}'] input.pick").check()
    page.get_by_role("button", name="Retry selected").click()
    expect(rows).to_have_count(1)
    assert state_of(store, second) == "waiting"
