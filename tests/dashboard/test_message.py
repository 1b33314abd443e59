"""The job page's message box, in a real Chromium: messages reach the store, refusals and
the text of messages are shown as text."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.dashboard.helpers import put
from zerog.store import Store

HOSTILE = '"<img src=x onerror=alert(1)>"'


def test_a_message_is_refused_then_kept_for_the_next_run_and_shown_as_text(
    page: Page, store: Store, dash: str
) -> None:
    # Given a waiting job's page
    uuid = put(store, "alpha")
    page.goto(f"{dash}#/job/{uuid}")
    box = page.locator(".message-box")
    # When a message that is not JSON is sent / Then the page says so, and nothing is sent
    box.locator("textarea").fill("{rate: 5}")
    box.locator("button[data-action='message']").click()
    expect(box.locator(".message-status")).to_contain_text("not JSON")
    # When a message (of HTML) is sent as is / Then it is refused: the job is not running
    box.locator("textarea").fill(HOSTILE)
    box.locator("button[data-action='message']").click()
    expect(box.locator(".message-status")).to_contain_text("not running")
    assert not store.get(uuid).get("inbox")
    # When it is sent to be kept for the next run / Then the store keeps it
    box.locator("input.message-idle").check()
    box.locator("button[data-action='message']").click()
    expect(box.locator(".message-status")).to_contain_text("kept for the job's next run")
    assert [m["body"] for m in store.get(uuid)["inbox"]] == ["<img src=x onerror=alert(1)>"]
    # And the history shows it as text, never as an element
    expect(page.locator("ol.timeline li").last).to_contain_text("<img src=x onerror=alert(1)>")
    expect(page.locator("td[data-fact='messages waiting']")).to_have_text("1")
    assert page.locator("ol.timeline img").count() == 0


def test_a_message_to_a_running_job_is_sent(page: Page, store: Store, dash: str) -> None:
    # Given a running job's page
    uuid = put(store, "alpha")
    assert store.reserve(["alpha"], "test-worker") is not None
    page.goto(f"{dash}#/job/{uuid}")
    box = page.locator(".message-box")
    # When a message is sent / Then the job's inbox holds it for its worker
    box.locator("textarea").fill('{"rate": 5}')
    box.locator("button[data-action='message']").click()
    expect(box.locator(".message-status")).to_contain_text("sent")
    assert [m["body"] for m in store.get(uuid)["inbox"]] == [{"rate": 5}]
