"""A batch on the job pages: a member links its batch's callback, and the callback's page
shows the batch's progress (read from ``/api/batches/{id}``)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from zerog.model import Settlement
from zerog.record import JobSpec
from zerog.store import Store


def test_a_member_links_its_callback_whose_page_shows_the_batch_s_progress(
    page: Page, store: Store, dash: str
) -> None:
    # Given a batch of 3, one member complete
    batch_id = store.put_batch(
        [JobSpec(type="t", queue="m") for _ in range(3)], JobSpec(type="done", queue="cb")
    )
    taken = store.reserve(["m"], "w")
    assert taken is not None
    store.settle(taken.lease, Settlement.completed())
    # When a member's page is open, it links the batch's callback
    page.goto(f"{dash}#/job/{taken.lease.uuid}")
    batch = page.locator("td[data-fact='batch']")
    expect(batch).to_contain_text("the batch's callback")
    batch.locator("a").click()
    # Then the callback's page shows the batch's progress and what it waits for
    expect(page.locator("td[data-fact='batch']")).to_have_text(
        "1 of 3 members ended · 1 complete · 0 failed · 0 running · 33% done"
    )
    expect(page.locator("td[data-fact='waits for']")).to_have_text(
        "2 of its batch's members to end"
    )
    expect(page.locator(".job-progress .badge")).to_have_text("depends")
    assert batch_id in page.url
