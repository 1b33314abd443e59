"""The dashboard on a phone (one card per job, nothing wider than the screen) and in dark
mode (the system's preference is followed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.dashboard.helpers import failed, put
from zerog.store import Store

FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"
BACKGROUND = "() => getComputedStyle(document.documentElement).backgroundColor"


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    """A 390 px wide page that prefers dark colours."""
    context = browser.new_context(viewport={"width": 390, "height": 800}, color_scheme="dark")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == []


def test_on_a_phone_in_dark_mode_every_page_fits(phone: Page, store: Store, dash: str) -> None:
    # Given jobs with long values and a failure,
    put(store, "a-long-queue-name", values={"title": "x" * 200}, tags=("nightly", "finance"))
    failed(store, "alpha", msg="E" * 300)
    for view in ("", "queues", "jobs", "failed", "workers", "recurring", "limits"):
        # When each page opens on the phone,
        phone.goto(f"{dash}#/{view}")
        expect(phone.locator("main h1")).to_be_visible()
        # Then nothing is wider than the screen,
        assert phone.evaluate(FITS), view
    # a job is a card whose cells say what they are, and the colours are dark.
    phone.goto(f"{dash}#/jobs")
    cell = phone.locator("table.jobs td[data-label='queue']").first
    expect(cell).to_be_visible()
    label = phone.evaluate(
        "() => getComputedStyle(document.querySelector(\"td[data-label='queue']\"), '::before')"
        ".content"
    )
    assert "queue" in label
    red, green, blue = (int(v) for v in phone.evaluate(BACKGROUND)[4:-1].split(", ")[:3])
    assert red + green + blue < 150


def test_in_light_mode_the_colours_are_light(page: Page, dash: str) -> None:
    page.goto(dash)
    expect(page.locator("main h1")).to_have_text("Overview")
    red, green, blue = (int(v) for v in page.evaluate(BACKGROUND)[4:-1].split(", ")[:3])
    assert red + green + blue > 600
