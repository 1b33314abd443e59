"""``GET /api/batches/{id}`` against a real server: a batch's progress as members end, and
404 for an id that names no batch."""

from __future__ import annotations

from tests.http.conftest import Client
from zerog.model import Settlement
from zerog.record import JobSpec
from zerog.store import Store


def test_a_batch_shows_its_members_outcomes_and_its_callback(api: Client, store: Store) -> None:
    members = [JobSpec(type="t", queue="m") for _ in range(3)]
    batch_id = store.put_batch(members, JobSpec(type="done", queue="cb"))
    first = store.reserve(["m"], "w")
    assert first is not None
    store.settle(first.lease, Settlement.completed())
    reply = api.get(f"/api/batches/{batch_id}")
    assert reply.status == 200
    body = reply.json()
    assert (body["total"], body["ended"], body["complete"]) == (3, 1, 1)
    assert body["callback"] == {"uuid": batch_id, "type": "done", "state": "depends"}
    assert body["members"][first.lease.uuid] == "complete"
    assert body["counts"] == {"complete": 1, "waiting": 2}
    assert abs(body["completeness"] - 1 / 3) < 1e-3
    assert api.get(f"/api/batches/{batch_id[-6:]}").json()["id"] == batch_id  # a short id


def test_an_id_that_names_no_batch_is_404(api: Client, store: Store) -> None:
    plain = store.enqueue(JobSpec(type="t", queue="m"))
    assert api.get(f"/api/batches/{plain}").status == 404
    assert api.get("/api/batches/no-such-batch").status == 404
