"""``/metrics``: valid Prometheus text with the store-wide and process-local families."""

from __future__ import annotations

import time

from prometheus_client.parser import text_string_to_metric_families

from tests.http.conftest import Client, Serve, memory_store
from tests.http.http_jobs import QUEUE, RICH_TYPE, make_failed, make_running, put
from zerog.model import Lease
from zerog.store import Store


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample as {(name, sorted labels): value}; the parser rejects invalid text."""
    out = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_metrics_are_valid_and_complete(serve: Serve) -> None:
    # Given jobs in several states, one finished after a short run, a worker registered,
    store = memory_store()
    api = serve(store)
    assert api.post(f"/api/jobs/{RICH_TYPE}", {"title": "via http"}).status == 201
    make_failed(store)
    done = make_running(store)
    time.sleep(0.01)
    store.complete(Lease(done, store.get(done)["lease_token"], "test-worker"))
    make_running(store)
    put(store, "other")
    store.pause_queue("other")
    store.backend.register_worker({"id": "w1", "host": "h", "pid": 1, "queues": [QUEUE]})
    # When the metrics are scraped,
    reply = api.get("/metrics")
    # Then they parse, and carry each family.
    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = samples(reply.text)
    assert found[("zerog_jobs", (("queue", QUEUE), ("state", "failed")))] == 1
    assert found[("zerog_jobs", (("queue", QUEUE), ("state", "running")))] == 1
    assert found[("zerog_jobs_running", ())] == 1
    assert found[("zerog_workers", ())] == 1
    assert found[("zerog_queue_depth", (("queue", QUEUE),))] == 1
    assert found[("zerog_queue_depth", (("queue", "other"),))] == 1
    assert found[("zerog_queue_paused", (("queue", "other"),))] == 1
    assert found[("zerog_queue_oldest_waiting_age_seconds", (("queue", QUEUE),))] >= 0
    assert found[("zerog_queue_oldest_waiting_exact", (("queue", QUEUE),))] == 1
    assert found[("zerog_jobs_completed_total", (("queue", QUEUE),))] == 1
    assert found[("zerog_jobs_failed_total", (("queue", QUEUE),))] == 1
    assert found[("zerog_jobs_retried_total", (("queue", "other"),))] == 0
    assert found[("zerog_job_run_seconds_count", (("queue", QUEUE),))] == 1
    assert found[("zerog_job_run_seconds_bucket", (("le", "+Inf"), ("queue", QUEUE)))] == 1
    assert found[("zerog_job_run_seconds_bucket", (("le", "1"), ("queue", QUEUE)))] == 1
    assert found[("zerog_job_wait_seconds_count", (("queue", QUEUE),))] == 3  # three reserved
    assert found[("zerog_server_store_events_total", (("event", "put"),))] == 5
    posted = (("method", "POST"), ("route", "/api/jobs/{uuid}"), ("status", "201"))
    assert found[("zerog_http_requests_total", posted)] == 1
    assert ("zerog_http_request_duration_seconds_count", (("route", "/api/jobs/{uuid}"),)) in found


def test_label_values_are_escaped(serve: Serve) -> None:
    store = memory_store()
    api = serve(store)
    put(store, 'we"ird\\queue\nname')
    found = samples(api.get("/metrics").text)
    assert found[("zerog_queue_depth", (("queue", 'we"ird\\queue\nname'),))] == 1


def test_metrics_on_an_empty_store(api: Client, store: Store) -> None:
    found = samples(api.get("/metrics").text)
    assert found[("zerog_jobs_running", ())] == 0
    assert found[("zerog_info", (("version", "0.1.0"),))] == 1


def test_every_gauge_is_present_at_zero(serve: Serve) -> None:
    # Given a store with one waiting job and nothing else,
    store = memory_store()
    api = serve(store)
    put(store, "quiet")
    # When the metrics are scraped,
    found = samples(api.get("/metrics").text)
    # Then every per-queue gauge and counter has its series, at 0 where nothing happened.
    queue = (("queue", "quiet"),)
    for name in ("zerog_jobs_stalled", "zerog_queue_paused", "zerog_jobs_completed_total"):
        assert found[(name, queue)] == 0, name
    assert found[("zerog_jobs", (("queue", "quiet"), ("state", "expired")))] == 0
    assert found[("zerog_workers", ())] == 0
    assert found[("zerog_job_run_seconds_count", queue)] == 0


def test_routes_are_labelled_by_template(serve: Serve) -> None:
    # Given a job read by its id and a path no route has,
    store = memory_store()
    api = serve(store)
    uuid = put(store, "q")
    api.get(f"/api/jobs/{uuid}")
    api.get("/no/such/path")
    # When the metrics are scraped,
    found = samples(api.get("/metrics").text)
    routes = {
        dict(labels).get("route") for name, labels in found if name == "zerog_http_requests_total"
    }
    # Then the route label is the template, never the id, and the unknown path is "unmatched".
    assert {"/api/jobs/{uuid}", "unmatched"} <= routes
    assert not any(uuid in str(route) for route in routes)
