"""``POST /api/jobs/{uuid}/messages`` against a real server, on memory and SQLite."""

from __future__ import annotations

from tests.http.conftest import Client, Serve, memory_store
from tests.http.http_jobs import make_running, put
from zerog.inbox import MAX_MESSAGE_BYTES, MAX_PENDING_MESSAGES
from zerog.store import Store

TOKEN = "s3cret-token"


def test_a_message_to_a_running_job_waits_for_its_worker(api: Client, store: Store) -> None:
    # Given a running job
    uuid = make_running(store)
    # When a message is posted (by the job's last digits)
    reply = api.post(f"/api/jobs/{uuid[-8:]}/messages", {"message": {"rate": 5}})
    # Then it is accepted for the running job, and its worker takes it with the client as sender
    assert reply.status == 200
    assert reply.json() == {"uuid": uuid, "state": "running", "queued": False}
    record = store.get(uuid, history=True)
    assert [m["body"] for m in record["inbox"]] == [{"rate": 5}]
    assert record["inbox"][0]["sender"] == "127.0.0.1 (http 127.0.0.1)"
    last = record["history"][-1]
    assert (last["event"], last["worker"], last["detail"]) == (
        "message",
        "127.0.0.1 (http 127.0.0.1)",
        '{"rate":5}',
    )


def test_a_message_to_an_idle_job_is_refused_unless_asked_to_wait(
    api: Client, store: Store
) -> None:
    # Given a waiting job
    uuid = put(store)
    # When a message is posted as is / Then it is refused with a clear reason, nothing kept
    reply = api.post(f"/api/jobs/{uuid}/messages", {"message": "hi"})
    assert reply.status == 409
    assert "not running" in reply.json()["error"]
    assert "queue_if_idle" in reply.json()["error"]
    assert not store.get(uuid).get("inbox")
    # When it is posted to wait / Then it is kept for the job's next run
    reply = api.post(f"/api/jobs/{uuid}/messages", {"message": "hi", "queue_if_idle": True})
    assert reply.status == 200
    assert reply.json()["queued"] is True
    assert [m["body"] for m in store.get(uuid)["inbox"]] == ["hi"]


def test_bad_messages_are_refused(api: Client, store: Store) -> None:
    uuid = make_running(store)
    for body in ([1], {"msg": 1}, {"message": 1, "extra": 2}, {"message": 1, "queue_if_idle": 1}):
        reply = api.post(f"/api/jobs/{uuid}/messages", body)
        assert reply.status == 400, body
    reply = api.request("POST", f"/api/jobs/{uuid}/messages", body="{not json")
    assert reply.status == 400
    reply = api.post(f"/api/jobs/{uuid}/messages", {"message": "x" * MAX_MESSAGE_BYTES})
    assert reply.status == 413
    assert api.post("/api/jobs/no-such-job/messages", {"message": 1}).status == 404
    assert not store.get(uuid).get("inbox")


def test_an_inbox_full_is_429(api: Client, store: Store) -> None:
    # Given a running job whose worker has not taken its messages
    uuid = make_running(store)
    for n in range(MAX_PENDING_MESSAGES):
        assert api.post(f"/api/jobs/{uuid}/messages", {"message": n}).status == 200
    # When one more is posted / Then it is refused: the job must read them first
    reply = api.post(f"/api/jobs/{uuid}/messages", {"message": "more"})
    assert reply.status == 429
    assert len(store.get(uuid)["inbox"]) == MAX_PENDING_MESSAGES


def test_the_route_needs_the_token(serve: Serve) -> None:
    store = memory_store()
    uuid = make_running(store)
    api = serve(store, token=TOKEN)
    assert api.post(f"/api/jobs/{uuid}/messages", {"message": 1}).status == 401
    reply = api.post(
        f"/api/jobs/{uuid}/messages",
        {"message": 1},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status == 200
