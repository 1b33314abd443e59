"""What the dashboard must never do: run what a job's data holds, work without the token
when one is set, or break when mounted under a prefix."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Serve, Watched, confirm
from tests.dashboard.helpers import failed, put, state_of
from zerog.recurrence import RecurSpec
from zerog.store import Store

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
FILES = Path(__file__).resolve().parents[2] / "src" / "zerog" / "http" / "dashboard_files"
TOKEN = "dash-s3cret"


def test_hostile_text_is_shown_as_text_everywhere(
    watched: Watched, store: Store, dash: str
) -> None:
    # Given a job whose queue, tag, values, log and error hold markup,
    page = watched.page
    uuid = failed(
        store,
        queue=SCRIPT,
        msg=IMG,
        log=(SCRIPT, IMG),
        values={"title": SCRIPT, "note": IMG},
        tags=(IMG,),
    )
    # When each view shows it,
    page.goto(dash)
    expect(page.locator("table.counts th").filter(has_text=SCRIPT)).to_be_visible()
    page.goto(f"{dash}#/jobs")
    expect(page.locator("table.jobs td[data-label='queue']")).to_have_text(SCRIPT)
    expect(page.locator("table.jobs .tag")).to_have_text(IMG)
    store.recur(RecurSpec(type=SCRIPT, queue=IMG, interval_seconds=60, tags=(SCRIPT,)))
    store.set_limit(IMG, 3)
    store.register_worker({"id": SCRIPT, "host": IMG, "pid": 1, "queues": [SCRIPT], "jobs": [IMG]})
    expect(page.locator("table.jobs .description")).to_contain_text(f"title={SCRIPT}")
    page.goto(f"{dash}#/failed")
    expect(page.locator(".group-message")).to_have_text(IMG.replace("2", "#"))  # its shape
    expect(page.locator("table.jobs .last-error")).to_have_text(IMG)
    page.goto(f"{dash}#/recurring")
    expect(page.locator("table.recurring td").filter(has_text=SCRIPT).first).to_be_visible()
    expect(page.locator("table.recurring td a").filter(has_text=IMG)).to_be_visible()
    page.goto(f"{dash}#/limits")
    expect(page.locator("table.limits tbody th")).to_have_text(IMG)
    page.goto(f"{dash}#/workers")
    expect(page.locator("table.workers td").filter(has_text=IMG).first).to_be_visible()
    page.goto(f"{dash}#/")
    expect(page.locator("table.latency tbody th")).to_have_text(SCRIPT)
    page.goto(f"{dash}#/job/{uuid}")
    expect(page.locator("ol.log li").first).to_contain_text(SCRIPT)
    expect(page.locator("ol.log li").last).to_contain_text(IMG)
    expect(page.locator("pre.values").first).to_contain_text(IMG)
    expect(page.locator(".errors .error-msg")).to_have_text(IMG)
    # Then it is visible as text, no element came of it, and nothing ran.
    assert page.locator("main img, main script").count() == 0
    page.wait_for_timeout(200)  # an onerror would have fired by now.
    assert watched.dialogs == []


def test_the_page_has_a_strict_policy_and_no_html_sinks(watched: Watched, dash: str) -> None:
    # Given the page, its policy is strict,
    page = watched.page
    response = page.goto(dash)
    assert response is not None
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "require-trusted-types-for 'script'",
    ):
        assert directive in csp, csp
    sinks = re.compile(
        r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function"
    )
    for path in FILES.rglob("*"):
        if path.is_file():
            assert not sinks.search(path.read_text()), path


def test_with_a_token_the_page_asks_for_it_and_then_works(
    page: Page, store: Store, serve: Serve
) -> None:
    # Given a server with a token, and a waiting job,
    uuid = put(store, "alpha")
    dash = serve(store, token=TOKEN)
    # When the page opens, its static files load, but the data calls get 401 and it asks;
    page.goto(dash)
    expect(page.locator("form.token-form")).to_be_visible()
    statuses = page.evaluate(
        "Promise.all(['api/queues', 'api/jobs', 'api/workers', 'api/failed', 'api/limits',"
        " 'api/stats/daily', 'api/recurring', 'dashboard/app.js']"
        ".map(u => fetch(u).then(r => r.status)))"
    )
    assert statuses == [401, 401, 401, 401, 401, 401, 401, 200]
    # a wrong token is refused,
    page.locator("#token").fill("wrong")
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.get_by_text("That token was refused.")).to_be_visible()
    # and with the right one every view works, actions too (POSTs pass the Origin check).
    page.locator("#token").fill(TOKEN)
    page.get_by_role("button", name="Open the dashboard").click()
    expect(page.locator("tr[data-queue='alpha'] td[data-state='waiting']")).to_have_text("1")
    page.goto(f"{dash}#/job/{uuid}")
    page.locator("button[data-action='cancel']").click()
    confirm(page)
    expect(page.locator(".job-progress .badge")).to_have_text("cancelled")
    assert state_of(store, uuid) == "cancelled"
    page.goto(f"{dash}#/workers")
    expect(page.get_by_text("No worker is running.")).to_be_visible()
    # The token is never in a URL the page asked for.
    assert TOKEN not in page.url


def test_under_a_prefix_the_dashboard_works(page: Page, store: Store, serve: Serve) -> None:
    uuid = failed(store, "alpha")
    dash = serve(store, prefix="/zerog")
    assert dash.endswith("/zerog/")
    page.goto(dash)
    expect(page.locator("tr[data-queue='alpha'] td[data-state='failed']")).to_have_text("1")
    page.locator("nav a[data-view='failed']").click()
    page.locator(f"tr[data-uuid='{uuid}'] td[data-label='job'] a").click()
    expect(page.locator(".errors .error-msg")).to_have_text("ValueError: boom")
    page.locator("button[data-action='retry']").click()
    expect(page.locator(".job-progress .badge")).to_have_text("waiting")
    assert state_of(store, uuid) == "waiting"
