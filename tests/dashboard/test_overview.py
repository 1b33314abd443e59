"""The overview: counts per queue and state, throughput and latency charts."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.dashboard.helpers import failed, put
from zerog.store import Store


def test_overview_shows_each_queue_with_its_counts(page: Page, store: Store, dash: str) -> None:
    # Given three waiting jobs in alpha and a failed one in beta, beta paused,
    for _ in range(3):
        put(store, "alpha")
    failed(store, "beta")
    store.pause_queue("beta")
    # When the dashboard opens,
    page.goto(dash)
    # Then the overview counts them per queue and state, with totals,
    alpha = page.locator("table.counts tr[data-queue='alpha']")
    expect(alpha.locator("td[data-state='waiting']")).to_have_text("3")
    expect(alpha.locator("td[data-state='failed']")).to_have_text("0")
    beta = page.locator("table.counts tr[data-queue='beta']")
    expect(beta.locator("td[data-state='failed']")).to_have_text("1")
    expect(beta.locator(".badge.paused")).to_be_visible()
    expect(page.locator("table.counts tr.total td[data-state='waiting']")).to_have_text("3")
    # and the charts are drawn from the store's statistics: the failed run in today's column,
    # today's wait and run times of the queue that ran something.
    expect(page.locator("svg.chart rect.s-failed")).to_have_count(1)
    expect(page.locator("svg.chart rect.s-complete")).to_have_count(0)
    beta_today = page.locator("table.latency tr[data-queue='beta']")
    expect(beta_today.locator("td[data-stat='failed']")).to_have_text("1")
    expect(page.locator(".bar-row")).to_have_count(2)
    # And a count links to the jobs it counts.
    alpha.locator("td[data-state='waiting'] a").click()
    expect(page).to_have_url(f"{dash}#/jobs?queue=alpha&state=waiting")
    expect(page.locator("table.jobs tbody tr")).to_have_count(3)
