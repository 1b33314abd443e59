"""The Failed page: failed jobs grouped by error, each group retried or discarded whole by
one request to the server, asked about first."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Serve, confirm
from tests.dashboard.helpers import TRACEBACK, failed, put, state_of
from tests.http.conftest import memory_store
from zerog.errors import JobNotFound
from zerog.store import Store


@pytest.fixture
def mem() -> Iterator[Store]:
    """A memory store: its backend can delete jobs (the SQLite one cannot yet)."""
    made = memory_store()
    yield made
    made.close()


def test_failures_are_grouped_and_retried_by_group(page: Page, store: Store, dash: str) -> None:
    # Given three jobs that failed alike (but for a number) and one that failed otherwise,
    rows = [failed(store, "alpha", msg=f"KeyError: row {n}") for n in (7, 88, 901)]
    other = failed(store, "beta", msg="ValueError: boom")
    put(store, "alpha")
    # When the Failed page opens,
    page.goto(f"{dash}#/failed")
    groups = page.locator(".failed-group")
    # Then it shows two groups, the larger first, with their counts, queues and a traceback,
    expect(groups).to_have_count(2)
    expect(groups.first.locator(".group-count")).to_have_text("3")
    expect(groups.first.locator(".group-message")).to_have_text("KeyError: row #")
    expect(groups.first.locator(".group-facts")).to_contain_text("alpha (3)")
    groups.last.locator("summary").click()
    expect(groups.last.locator("pre.traceback")).to_have_text(TRACEBACK)
    # and the failed jobs below it, each row with its error.
    expect(page.locator("table.jobs tbody tr[data-uuid]")).to_have_count(4)
    expect(page.locator(f"tr[data-uuid='{other}'] .last-error")).to_have_text("ValueError: boom")
    # When "Retry all 3" is pressed, the page asks first; "Keep" does nothing,
    groups.first.locator("button[data-group-action='retry']").click()
    page.locator("dialog.confirm button[data-confirm='no']").click()
    assert [state_of(store, u) for u in rows] == ["failed"] * 3
    # and confirming retries the whole group on the server, the other one left alone.
    groups.first.locator("button[data-group-action='retry']").click()
    confirm(page)
    expect(page.locator(".action-status")).to_have_text("Retry: 3 of 3 done.")
    assert [state_of(store, u) for u in rows] == ["waiting"] * 3
    assert state_of(store, other) == "failed"
    expect(groups).to_have_count(1)
    expect(page.locator("table.jobs tbody tr[data-uuid]")).to_have_count(1)


def test_a_group_is_discarded(page: Page, mem: Store, serve: Serve) -> None:
    # Given two alike failures and another, on a store that deletes,
    dash = serve(mem)
    rows = [failed(mem, "alpha", msg=f"Timeout after {n} s") for n in (30, 31)]
    other = failed(mem, "alpha", msg="disk full")
    page.goto(f"{dash}#/failed")
    group = page.locator(".failed-group").filter(has_text="Timeout after # s")
    # When the group is discarded (asked first),
    group.locator("button[data-group-action='delete']").click()
    expect(page.locator("dialog.confirm")).to_contain_text("deleted for good")
    confirm(page)
    # Then its jobs are gone from the store and the page, the other is kept.
    expect(page.locator(".action-status")).to_have_text("Discard: 2 of 2 done.")
    for uuid in rows:
        with pytest.raises(JobNotFound):
            mem.get(uuid)
    assert state_of(mem, other) == "failed"
    expect(page.locator(".failed-group")).to_have_count(1)
    expect(page.locator("table.jobs tbody tr[data-uuid]")).to_have_count(1)


def test_discard_on_the_file_store_deletes_for_good(page: Page, store: Store, dash: str) -> None:
    # Given a failed job in the file store the dashboard serves,
    uuid = failed(store, "alpha")
    page.goto(f"{dash}#/failed")
    # When its group is discarded,
    page.locator("button[data-group-action='delete']").click()
    confirm(page)
    # Then the store no longer has it.
    expect(page.locator(".action-status")).to_have_text("Discard: 1 of 1 done.")
    with pytest.raises(JobNotFound):
        store.get(uuid)


def test_selected_jobs_are_deleted_from_the_list(page: Page, mem: Store, serve: Serve) -> None:
    # Given a finished job and a waiting one, both selected,
    dash = serve(mem)
    done = failed(mem, "alpha")
    waiting = put(mem, "alpha")
    page.goto(f"{dash}#/jobs")
    page.locator("input.pick-all").check()
    # When "Delete selected" is confirmed,
    page.get_by_role("button", name="Delete selected").click()
    confirm(page)
    # Then the finished one is deleted, the waiting one refused (409) and kept.
    expect(page.locator(".bulk-status")).to_contain_text("Delete: 1 of 2 done. 1 refused")
    with pytest.raises(JobNotFound):
        mem.get(done)
    assert state_of(mem, waiting) == "waiting"
    # And a job page deletes its own finished job.
    gone = failed(mem, "alpha")
    page.goto(f"{dash}#/job/{gone}")
    page.locator("button[data-action='delete']").click()
    confirm(page)
    expect(page.locator("main")).to_contain_text("was deleted")
    with pytest.raises(JobNotFound):
        mem.get(gone)
