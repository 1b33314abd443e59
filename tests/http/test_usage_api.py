"""An attempt's figures through the API, on memory and SQLite: a job run by a real worker
shows them in ``GET /api/jobs/{uuid}`` and in lists, as the OpenAPI document describes."""

from __future__ import annotations

from tests.http.conftest import Client
from tests.http.http_jobs import QUEUE, put
from zerog.store import Store
from zerog.worker.loop import Worker

KEYS = {"wall_seconds", "cpu_user_seconds", "cpu_system_seconds", "peak_rss_bytes"}


def test_a_run_jobs_figures_are_in_the_api(api: Client, store: Store) -> None:
    # Given a job run to completion by a real worker (a burst, on a thread of this process)
    uuid = put(store, title="measured")
    assert Worker(store, [QUEUE], burst=True).run() == 1
    # When it is read, alone and in a list
    job = api.get(f"/api/jobs/{uuid}").json()
    listed = api.get(f"/api/jobs?queue={QUEUE}").json()["jobs"]
    # Then both carry its attempt's figures, of its thread and the worker's process
    usage = job["usage"]
    assert set(usage) >= KEYS
    assert usage["scope"] == "thread"
    assert usage["peak_rss_bytes"] >= usage["start_rss_bytes"] > 0
    assert [j["usage"] for j in listed if j["uuid"] == uuid] == [usage]
    # And the document says what they are
    schemas = api.get("/api/openapi.json").json()["components"]["schemas"]
    assert set(schemas["Job"]["properties"]["usage"]["anyOf"][0]["properties"]) >= KEYS
