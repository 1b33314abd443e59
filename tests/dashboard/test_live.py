"""Live lists: the Jobs, Queues and Workers pages follow the store without a reload, stop
while paused, and pick up again after the server restarts; list rows say what each job is."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator, Page, expect

from tests.dashboard.dash_jobs import DESCRIBED
from tests.dashboard.helpers import put
from tests.http.http_jobs import FIRST
from zerog.http import ServerThread, make_app
from zerog.jobs import make_base_job
from zerog.model import Progress
from zerog.record import JobSpec
from zerog.store import Store

REFRESH_WAIT_MS = 4000  # more than one refresh period (3 s) of the lists.


def test_jobs_list_follows_the_store_and_pauses(page: Page, store: Store, dash: str) -> None:
    # Given the jobs list open on one waiting job,
    first = put(store, "alpha")
    page.goto(f"{dash}#/jobs")
    rows = page.locator("table.jobs tbody tr[data-uuid]")
    expect(rows).to_have_count(1)
    # When a job is added and the first one starts and reports progress,
    second = put(store, "alpha", priority=1)
    reservation = store.reserve(["alpha"], "w-live")
    assert reservation is not None
    assert reservation.lease.uuid == first
    store.save(reservation.lease, Progress(completeness=0.5, message="halfway"))
    # Then the list shows both, and the running one's state, bar and message, without a reload.
    expect(rows).to_have_count(2)
    row = page.locator(f"tr[data-uuid='{first}']")
    expect(row.locator(".badge")).to_have_text("running")
    expect(row.locator("[role=progressbar]")).to_have_attribute("aria-valuenow", "50")
    expect(row.locator(".last-message")).to_have_text("halfway")
    # When live updates are paused, a new job does not appear,
    page.locator("#live-toggle").click()
    expect(page.locator("#live-toggle")).to_have_attribute("aria-pressed", "false")
    put(store, "alpha")
    page.wait_for_timeout(REFRESH_WAIT_MS)
    expect(rows).to_have_count(2)
    # and a selection survives the refresh that follows turning them on again.
    page.locator(f"tr[data-uuid='{second}'] input.pick").check()
    page.locator("#live-toggle").click()
    expect(rows).to_have_count(3)
    expect(page.locator(f"tr[data-uuid='{second}'] input.pick")).to_be_checked()


def test_queues_page_is_live(page: Page, store: Store, dash: str) -> None:
    put(store, "alpha")
    page.goto(f"{dash}#/queues")
    waiting = page.locator("tr[data-queue='alpha'] td[data-state='waiting']")
    expect(waiting).to_have_text("1")
    put(store, "alpha")
    put(store, "beta")
    expect(waiting).to_have_text("2")
    expect(page.locator("tr[data-queue='beta']")).to_be_visible()


def test_rows_say_what_each_job_is(page: Page, store: Store, dash: str) -> None:
    # Given a job whose class describes itself, one with plain values, a scheduled one,
    # one waiting for two others, and a running one with a message and a known rate,
    described = make_base_job({"album": "holidays", "done": 12}, DESCRIBED).enqueue(store=store)
    plain = put(store, "alpha", values={"city": "Oslo", "days": 3})
    later = store.enqueue(JobSpec(type="dash_test", queue="alpha", delay_seconds=3600))
    blockers = [put(store, "beta"), put(store, "beta")]
    waiting = store.enqueue(JobSpec(type="dash_test", queue="alpha", depends=blockers))
    running = put(store, "gamma", priority=FIRST)
    reservation = store.reserve(["gamma"], "w-rows")
    assert reservation is not None
    assert reservation.lease.uuid == running
    now = time.time()
    store.save(reservation.lease, Progress(completeness=0.25, sample=(now - 60, 0.25)))
    halfway = Progress(completeness=0.5, message="page 5 of 10", sample=(now, 0.5))
    store.save(reservation.lease, halfway)
    # When the list opens,
    page.goto(f"{dash}#/jobs")

    def row(uuid: str) -> Locator:
        return page.locator(f"tr[data-uuid='{uuid}']")

    # Then each row says what its job is and where it stands.
    expect(row(described).locator(".description")).to_have_text("album holidays: 12 photos done")
    expect(row(plain).locator(".description")).to_have_text("city=Oslo, days=3")
    expect(row(later).locator(".run-at")).to_have_text(re.compile(r"runs in (59 min \d+ s|1 h)"))
    expect(row(waiting).locator(".waits-for")).to_contain_text("waits for 2:")
    expect(row(waiting).locator(".waits-for a")).to_have_count(2)
    expect(row(running).locator(".last-message")).to_have_text("page 5 of 10")
    expect(row(running).locator(".eta")).to_contain_text("about 1 min")
    # And a tag is a link to the jobs with that tag; the id box finds a job by its last digits.
    tagged = store.enqueue(JobSpec(type="dash_test", queue="alpha", tags=("nightly",)))
    page.reload()
    row(tagged).locator("a.tag").click()
    expect(page.locator("table.jobs tbody tr[data-uuid]")).to_have_count(1)
    page.locator("form.find input").fill(plain[-10:])
    page.locator("form.find button").click()
    expect(page.locator(".job-head")).to_contain_text(plain)
    expect(page.locator("td[data-fact='queue']")).to_have_text("alpha")


def test_rows_sort_by_a_column(page: Page, store: Store, dash: str) -> None:
    for queue in ("b-queue", "c-queue", "a-queue"):
        put(store, queue)
    page.goto(f"{dash}#/jobs")
    queues = page.locator("table.jobs tbody td[data-label='queue']")
    expect(queues).to_have_text(["a-queue", "c-queue", "b-queue"])  # newest first
    page.locator("button.sort[data-sort='queue']").click()
    expect(queues).to_have_text(["a-queue", "b-queue", "c-queue"])
    page.locator("button.sort[data-sort='queue']").click()
    expect(queues).to_have_text(["c-queue", "b-queue", "a-queue"])


def test_workers_page_recovers_after_a_server_restart(page: Page, store: Store) -> None:
    # Given the workers page of a server with one registered worker,
    jobs = ["a" * 36, "b" * 36]
    store.register_worker({"id": "w-one", "host": "h", "pid": 1, "queues": ["alpha"], "jobs": jobs})
    server = ServerThread(make_app(store)).start()
    port = server.port
    page.goto(f"{server.url}/#/workers")
    row = page.locator("tr[data-worker='w-one']")
    expect(row.locator("ul.job-ids li")).to_have_count(2)  # one job id per line
    # When the server stops, the page keeps its table and says it lost contact,
    server.stop()
    expect(page.locator("#live-status")).to_be_visible()
    expect(row).to_be_visible()
    # and once a server answers on the same port again, it carries on by itself.
    store.register_worker({"id": "w-two", "host": "h", "pid": 2, "queues": ["beta"], "jobs": []})
    again = ServerThread(make_app(store), port=port).start()
    try:
        expect(page.locator("tr[data-worker='w-two']")).to_be_visible()
        expect(page.locator("#live-status")).to_be_hidden()
    finally:
        again.stop()


def test_the_checkpoint_panel_follows_a_running_job(page: Page, store: Store, dash: str) -> None:
    # Given a running job's page,
    uuid = put(store, "alpha", values={"done": 0}, priority=FIRST)
    reservation = store.reserve(["alpha"], "w-checkpoint")
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    page.goto(f"{dash}#/job/{uuid}")
    values = page.locator("pre.values").first
    expect(values).to_contain_text('"done": 0')
    # When the job saves a checkpoint, the panel shows it without a reload.
    store.save(reservation.lease, Progress(values={"done": 41}))
    expect(values).to_contain_text('"done": 41')


FORMATS = """async () => {
  const f = await import('./dashboard/format.js');
  const now = Date.now() / 1000;
  return [f.duration(59.6), f.duration(119.6), f.duration(0.9996), f.duration(3599.6),
          f.ago(now - 0.5), f.ago(now - 59.5), f.until(now + 30.5)];
}"""


def test_durations_never_read_60_s_or_1000_ms(page: Page, dash: str) -> None:
    # Times relative to now sit half a second inside their bucket: the page may take that long
    # to evaluate them on a loaded machine.
    page.goto(dash)
    assert page.evaluate(FORMATS) == [
        "1 min", "2 min", "1.0 s", "1 h", "just now", "59 s ago", "in 31 s",
    ]  # fmt: skip
