"""Queue and worker routes against a real server, on memory and SQLite."""

from __future__ import annotations

import time
from typing import Any

from tests.http.conftest import Client, Serve
from tests.http.http_jobs import QUEUE, make_failed, make_running, put
from zerog.backends.memory import MemoryBackend
from zerog.errors import NotSupported
from zerog.model import ALL_STATES, Lease
from zerog.settings import Settings
from zerog.store import Store


def test_list_queues_with_counts_for_every_state(api: Client, store: Store) -> None:
    put(store, "alpha")
    put(store, "alpha")
    make_failed(store, "beta")
    reply = api.get("/api/queues")
    assert reply.status == 200
    queues = {q["name"]: q for q in reply.json()["queues"]}
    assert set(queues) == {"alpha", "beta"}
    assert list(queues["alpha"]["counts"]) == [s.value for s in ALL_STATES]
    assert queues["alpha"]["counts"]["waiting"] == 2
    assert queues["beta"]["counts"]["failed"] == 1
    assert queues["alpha"]["paused"] is False


def test_one_queue_with_stats(api: Client, store: Store) -> None:
    # Given a queue with a job done, one running and two waiting,
    done = make_running(store)
    reservation_store_complete(store, done)
    make_running(store)
    put(store)
    put(store)
    # When it is read,
    reply = api.get(f"/api/queues/{QUEUE}")
    # Then its counts and stats come from the records.
    assert reply.status == 200
    queue = reply.json()
    assert queue["name"] == QUEUE
    assert queue["counts"]["complete"] == 1
    stats = queue["stats"]
    assert stats["depth"] == 2
    assert stats["running"] == 1
    assert stats["wait"]["count"] == 1
    assert stats["run"]["count"] == 1
    assert stats["oldest_waiting_age_seconds"] >= 0
    assert stats["oldest_waiting_exact"] is True


def reservation_store_complete(store: Store, uuid: str) -> None:
    """Complete a running job as its worker would (the test reserved it as test-worker)."""
    record = store.get(uuid)
    store.complete(Lease(uuid, record["lease_token"], "test-worker"), result={"ok": True})


def test_unknown_queue_is_404(api: Client) -> None:
    reply = api.get("/api/queues/nope")
    assert reply.status == 404
    assert "nope" in reply.json()["error"]


def test_pause_resume_a_queue(api: Client, store: Store) -> None:
    # Given a queue with a waiting job,
    uuid = put(store)
    # When it is paused, no worker gets the job; when resumed, one does.
    reply = api.post(f"/api/queues/{QUEUE}/pause")
    assert reply.status == 200
    assert reply.json() == {"queue": QUEUE, "paused": True}
    assert api.get(f"/api/queues/{QUEUE}").json()["paused"] is True
    assert store.reserve([QUEUE], "w") is None
    assert api.post(f"/api/queues/{QUEUE}/resume").json() == {"queue": QUEUE, "paused": False}
    reservation = store.reserve([QUEUE], "w")
    assert reservation is not None
    assert reservation.lease.uuid == uuid


def test_a_queue_with_no_job_can_be_paused_and_then_read(api: Client) -> None:
    assert api.post("/api/queues/later/pause").status == 200
    assert api.get("/api/queues/later").json()["paused"] is True
    names = [q["name"] for q in api.get("/api/queues").json()["queues"]]
    assert names == ["later"]


def test_kick_retries_failed_jobs_oldest_first(api: Client, store: Store) -> None:
    first, second, third = (make_failed(store) for _ in range(3))
    reply = api.post(f"/api/queues/{QUEUE}/kick?count=2")
    assert reply.status == 200
    assert reply.json() == {"queue": QUEUE, "kicked": 2}
    states = [store.get(u)["state"] for u in (first, second, third)]
    assert states == ["waiting", "waiting", "failed"]
    assert api.post(f"/api/queues/{QUEUE}/kick").json()["kicked"] == 1  # default: one
    assert api.post(f"/api/queues/{QUEUE}/kick?count=0").status == 400


def test_queue_route_with_get_on_an_action_is_405(api: Client) -> None:
    reply = api.get(f"/api/queues/{QUEUE}/pause")
    assert reply.status == 405
    assert reply.headers["Allow"] == "POST"
    assert reply.json()["error"]


def test_workers_lists_live_workers(api: Client, store: Store) -> None:
    # Given a worker that registered itself with the store,
    store.backend.register_worker(
        {
            "id": "host-1-abc",
            "host": "host",
            "pid": 1,
            "queues": [QUEUE],
            "jobs": [],
            "version": "0.1.0",
            "started_at": time.time(),
        }
    )
    # When the workers are listed, it is there with its last heartbeat.
    reply = api.get("/api/workers")
    assert reply.status == 200
    (worker,) = reply.json()["workers"]
    assert worker["id"] == "host-1-abc"
    assert worker["queues"] == [QUEUE]
    assert "last_seen" in worker


class NoRegistryBackend(MemoryBackend):
    """A backend without a worker registry or queue pausing (as some may be)."""

    def workers(self, max_age_seconds: float) -> list[dict[str, Any]]:
        raise NotSupported("NoRegistryBackend has no worker registry")

    def pause_queue(self, queue: str, paused: bool) -> None:
        raise NotSupported("NoRegistryBackend cannot pause queues")

    def paused_queues(self) -> frozenset[str]:
        raise NotSupported("NoRegistryBackend cannot pause queues")


def test_missing_backend_features_are_501_or_left_out(serve: Serve) -> None:
    store = Store(NoRegistryBackend(), Settings(url="memory://"))
    api = serve(store)
    put(store)
    assert api.get("/api/workers").status == 501
    assert api.post(f"/api/queues/{QUEUE}/pause").status == 501
    assert api.get(f"/api/queues/{QUEUE}").json()["paused"] is False  # none can be paused
    metrics = api.get("/metrics").text
    assert "zerog_workers " not in metrics  # no number rather than a wrong one
