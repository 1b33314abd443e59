"""The seed's handler, as written, in an application that also mounts the API under a prefix."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.http.conftest import Client, Serve
from zerog import registry, testing
from zerog.examples import MyJob, MyJobHandler
from zerog.store import Store


@pytest.fixture
def default_store() -> Iterator[Store]:
    """A memory store made the process's store: the seed's handler enqueues through it.
    zerog.examples' MyJob is made the class of its type first: the seeds' tests define
    another class of the same type, and whichever module a test process imported last
    would otherwise run."""
    registry.register(MyJob)
    with testing.memory_store() as store:
        yield store


@pytest.fixture
def app(serve: Serve, default_store: Store) -> Client:
    """The seed's routes beside the API, which lives under /zerog; no store given, so both
    use the process's store."""
    return serve(
        prefix="/zerog",
        handlers=[(r"/my_job", MyJobHandler), (r"/my_job/([^/]+)", MyJobHandler)],
    )


def test_seed_handler_enqueues_and_the_api_shows_the_job(app: Client, default_store: Store) -> None:
    # Given the seed's handler, when a MyJob is posted to it,
    reply = app.request("POST", "/my_job", body=json.dumps({"fieldOne": "from the seed"}))
    assert reply.status == 201
    uuid = json.loads(reply.body)["uuid"]
    # Then the seed's GET and the API see the same waiting job,
    assert json.loads(app.get(f"/my_job/{uuid}").body)["state"] == "waiting"
    job = app.get(f"/zerog/api/jobs/{uuid}").json()
    assert (job["type"], job["values"]) == ("my_job_type", {"fieldOne": "from the seed"})
    # and once a worker ran it, both show it complete, with the job's log line.
    testing.drain(default_store)
    assert json.loads(app.get(f"/my_job/{uuid}").body) == {
        "uuid": uuid,
        "state": "complete",
        "completeness": 1.0,
    }
    events = app.get(f"/zerog/api/jobs/{uuid}").json()["events"]
    assert [e["msg"] for e in events] == ["my_job got fieldOne='from the seed'"]


def test_api_under_a_prefix_only(app: Client) -> None:
    assert app.get("/zerog/api/jobs").status == 200
    assert app.get("/zerog/healthz").status == 200
    assert app.get("/api/jobs").status == 404  # the API is not also at the root
    document = app.get("/zerog/api/openapi.json").json()
    assert "/zerog/api/jobs/my_job_type" in document["paths"]
