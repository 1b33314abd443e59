"""The jobs list: filters, server-side cursor pages, bulk retry and cancel."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import confirm
from tests.dashboard.helpers import failed, put, state_of
from zerog.store import Store


def test_jobs_list_filters_and_pages(page: Page, store: Store, dash: str) -> None:
    # Given 25 jobs in alpha (some tagged), 4 in beta, and one of another type,
    alpha = [put(store, "alpha", tags=("nightly",) if i % 5 == 0 else ()) for i in range(25)]
    for _ in range(4):
        put(store, "beta")
    put(store, "beta", job_type="other_type")
    rows = page.locator("table.jobs tbody tr")
    # When the list is filtered on alpha with pages of 10,
    page.goto(f"{dash}#/jobs?queue=alpha&limit=10")
    # Then it pages through the 25 newest first, 10 + 10 + 5,
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-uuid", alpha[-1])
    page.get_by_role("button", name="Older →").click()
    expect(page.locator(".page-no")).to_have_text("page 2")
    expect(rows.first).to_have_attribute("data-uuid", alpha[-11])
    page.get_by_role("button", name="Older →").click()
    expect(rows).to_have_count(5)
    expect(rows.last).to_have_attribute("data-uuid", alpha[0])
    expect(page.get_by_role("button", name="Older →")).to_be_disabled()
    page.get_by_role("button", name="← Newer").click()
    expect(rows).to_have_count(10)
    expect(rows.first).to_have_attribute("data-uuid", alpha[-11])
    # And the form filters by tag, by type, and by state.
    page.locator("form.filters input[name='tag']").fill("nightly")
    page.get_by_role("button", name="Apply").click()
    expect(rows).to_have_count(5)
    page.goto(f"{dash}#/jobs?type=other_type")
    expect(rows).to_have_count(1)
    expect(rows.first.locator(".job-type")).to_have_text("other_type")
    page.goto(f"{dash}#/jobs")
    page.locator("form.filters select[name='state']").select_option("failed")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("No job matches.")).to_be_visible()


def test_bulk_retry_and_cancel_change_the_store(page: Page, store: Store, dash: str) -> None:
    # Given three failed jobs and two waiting ones,
    broken = [failed(store, "alpha") for _ in range(3)]
    waiting = [put(store, "beta") for _ in range(2)]
    page.goto(f"{dash}#/jobs")
    # When two failed jobs are selected and retried,
    for uuid in broken[:2]:
        page.locator(f"tr[data-uuid='{uuid}'] input.pick").check()
    page.get_by_role("button", name="Retry selected").click()
    # Then they wait again in the store, the third is still failed,
    expect(page.locator(".bulk-status")).to_contain_text("Retry: 2 of 2 done.")
    assert [state_of(store, u) for u in broken] == ["waiting", "waiting", "failed"]
    # and cancelling the beta page's jobs cancels them (a failed job cannot be: refused).
    page.goto(f"{dash}#/jobs?queue=beta")
    page.locator("input.pick-all").check()
    page.get_by_role("button", name="Cancel selected").click()
    confirm(page)  # cancelling is asked about first.
    expect(page.locator(".bulk-status")).to_contain_text("Cancel: 2 of 2 done.")
    assert [state_of(store, u) for u in waiting] == ["cancelled", "cancelled"]
    page.goto(f"{dash}#/jobs?state=failed")
    page.locator("input.pick-all").check()
    page.get_by_role("button", name="Cancel selected").click()
    confirm(page)
    expect(page.locator(".bulk-status")).to_contain_text("0 of 1 done. 1 refused")
    assert state_of(store, broken[2]) == "failed"
