"""The dashboard's audit page in a real browser: the trail newest first, text shown as text
whatever it holds, filters, older pages, and a job's target linking to the job."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.dashboard.helpers import put
from zerog.audit import Actor, acting
from zerog.store import Store

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
ALICE = Actor("alice", "http 10.0.0.7")


def test_the_trail_is_shown_newest_first_with_hostile_text_as_text(
    page: Page, store: Store, dash: str
) -> None:
    # Given actions by alice, and one by an actor whose name and door hold markup
    uuid = put(store)
    with acting(ALICE):
        store.act(uuid, "pause")
        store.act(uuid, "resume")
    with acting(Actor(IMG, SCRIPT)):
        store.set_config(SCRIPT, IMG)
    # When the audit page is opened
    page.goto(f"{dash}#/audit")
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(3)
    # Then the newest is first, its markup shown as text
    first = rows.nth(0)
    expect(first.locator("td[data-label='actor']")).to_have_text(IMG)
    expect(first.locator("td[data-label='source']")).to_have_text(SCRIPT)
    expect(first.locator("td[data-label='target']")).to_have_text(SCRIPT)
    expect(first.locator("td[data-label='detail']")).to_contain_text("img src=x")
    expect(page.locator("img")).to_have_count(0)
    expect(rows.nth(1).locator("td[data-label='action']")).to_have_text("resume")
    expect(rows.nth(2).locator("td[data-label='source']")).to_have_text("http 10.0.0.7")
    # And the nav marks the page, and a job's target leads to the job, whose history names her
    expect(page.locator("#nav a[data-view='audit']")).to_have_attribute("aria-current", "page")
    rows.nth(2).locator("a.job-link").click()
    expect(page.locator("ol.timeline")).to_contain_text("by alice (http 10.0.0.7)")


def test_filters_and_older_pages(page: Page, store: Store, dash: str) -> None:
    # Given 103 config changes by alice and one pause by bob
    uuid = put(store)
    with acting(ALICE):
        for n in range(103):
            store.set_config(f"key-{n}", n)
    with acting(Actor("bob", "cli")):
        store.act(uuid, "pause")
    # When the trail is filtered by actor / Then only bob's entry is left
    page.goto(f"{dash}#/audit")
    page.locator("form.audit-filters input[name='actor']").fill("bob")
    page.locator("form.audit-filters button[type='submit']").click()
    rows = page.locator("table.audit tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first.locator("td[data-label='action']")).to_have_text("pause")
    # When alice's entries are read / Then 100 on the first page, the 3 oldest on the next
    page.goto(f"{dash}#/audit?actor=alice")
    expect(rows).to_have_count(100)
    expect(rows.first.locator("td[data-label='target']")).to_have_text("key-102")
    page.locator("p.pager a.older").click()
    expect(rows).to_have_count(3)
    expect(rows.last.locator("td[data-label='target']")).to_have_text("key-0")
    expect(page.locator("p.pager a.older")).to_have_count(0)
    page.locator("p.pager a.newest").click()
    expect(rows).to_have_count(100)
