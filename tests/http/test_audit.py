"""The audit trail over HTTP, against a real server: named tokens name the actor of every
operator action, the client's address its source; ``GET /api/audit`` reads the trail; the
job's history names the actor."""

from __future__ import annotations

import pytest

from tests.http.conftest import Client, Serve
from tests.http.http_jobs import QUEUE, make_failed, make_running, put
from zerog.http._context import parse_tokens
from zerog.http.failed import error_key, group_id
from zerog.record import JobSpec
from zerog.recurrence import RecurSpec
from zerog.store import Store

ALICE, BOB = "alice=s3cret-a", "bob=s3cret-b"
SOURCE = "http 127.0.0.1"


def _servers(serve: Serve, store: Store) -> tuple[Client, Client]:
    alice = serve(store, client_token="s3cret-a", token=[ALICE, BOB])
    return alice, Client(alice.url, token="s3cret-b")


@pytest.mark.parametrize(
    ("setup", "method", "path", "body", "action", "target"),
    [
        ("waiting", "POST", "/api/jobs/{u}/pause", None, "pause", "{u}"),
        ("waiting", "POST", "/api/jobs/{u}/cancel", None, "cancel", "{u}"),
        ("paused", "POST", "/api/jobs/{u}/resume", None, "resume", "{u}"),
        ("failed", "POST", "/api/failed/{g}/retry", None, "retry", "{u}"),
        ("failed", "DELETE", "/api/jobs/{u}", None, "delete", "{u}"),
        ("failed", "POST", "/api/failed/{g}/delete", None, "delete", "{u}"),
        ("failed", "POST", "/api/jobs/{u}/retry", None, "retry", "{u}"),
        ("running", "POST", "/api/jobs/{u}/timeout", None, "timeout", "{u}"),
        ("running", "POST", "/api/jobs/{u}/messages", '{"message": 1}', "message", "{u}"),
        ("waiting", "POST", f"/api/queues/{QUEUE}/pause", None, "pause-queue", QUEUE),
        ("waiting", "POST", f"/api/queues/{QUEUE}/resume", None, "resume-queue", QUEUE),
        ("failed", "POST", f"/api/queues/{QUEUE}/kick", None, "kick", QUEUE),
        ("recurring", "DELETE", "/api/recurring/{u}", None, "unrecur", "{u}"),
    ],
)
def test_each_operator_action_names_its_token_and_address(
    serve: Serve,
    store: Store,
    setup: str,
    method: str,
    path: str,
    body: str | None,
    action: str,
    target: str,
) -> None:
    # Given a job (or recurrence) in the state the action needs, and a server with two tokens
    uuid = _given(store, setup)
    alice, _bob = _servers(serve, store)
    # When alice acts over HTTP
    headers = {"Content-Type": "application/json"} if body else {}
    group = group_id(error_key(store.get(uuid))) if "/failed/" in path else ""
    reply = alice.request(method, path.format(u=uuid, g=group), body=body, headers=headers)
    assert reply.status == 200, reply.text
    # Then the trail's last entry names alice and her address
    entry = store.audit()[0]
    assert (entry["actor"], entry["source"], entry["action"], entry["target"]) == (
        "alice",
        SOURCE,
        action,
        target.format(u=uuid),
    )
    # And a job's history names her too
    if setup != "recurring" and action not in ("delete", "kick") and "queues" not in path:
        history = store.get(uuid, history=True)["history"]
        assert "alice (http 127.0.0.1)" in [h["worker"] for h in history]


def _given(store: Store, setup: str) -> str:
    if setup == "waiting":
        return put(store)
    if setup == "running":
        return make_running(store)
    if setup == "failed":
        return make_failed(store)
    if setup == "paused":
        uuid = put(store)
        store.act(uuid, "pause")
        return uuid
    return store.recur(RecurSpec(type="t", queue=QUEUE, interval_seconds=3600.0))


def test_the_trail_reads_newest_first_with_filters_and_pages(serve: Serve, store: Store) -> None:
    # Given actions by alice and bob
    alice, bob = _servers(serve, store)
    jobs = [put(store) for _ in range(3)]
    assert alice.post(f"/api/jobs/{jobs[0]}/pause").status == 200
    assert bob.post(f"/api/jobs/{jobs[1]}/cancel").status == 200
    assert alice.post(f"/api/jobs/{jobs[2]}/cancel").status == 200
    # When the trail is read / Then newest first, filtered by actor or action, in pages
    everything = alice.get("/api/audit").json()
    assert [e["target"] for e in everything["entries"]] == jobs[::-1]
    assert everything["cursor"] is None
    assert [e["actor"] for e in bob.get("/api/audit?actor=alice").json()["entries"]] == [
        "alice",
        "alice",
    ]
    cancels = alice.get("/api/audit?action=cancel").json()["entries"]
    assert [e["target"] for e in cancels] == [jobs[2], jobs[1]]
    page = alice.get("/api/audit?limit=2").json()
    assert len(page["entries"]) == 2
    rest = alice.get(f"/api/audit?limit=2&before={page['cursor']}").json()
    assert [e["target"] for e in rest["entries"]] == [jobs[0]]
    assert alice.get("/api/audit?limit=0").status == 400
    # And the route needs a token like the others
    assert Client(alice.url).get("/api/audit").status == 401


def test_an_unnamed_token_or_none_makes_the_address_the_actor(serve: Serve, store: Store) -> None:
    uuid = store.enqueue(JobSpec(type="t", queue=QUEUE))
    plain = serve(store, client_token="just-a-secret", token="just-a-secret")
    assert plain.post(f"/api/jobs/{uuid}/pause").status == 200
    open_api = serve(store)
    assert open_api.post(f"/api/jobs/{uuid}/resume").status == 200
    actors = [(e["actor"], e["source"]) for e in store.audit()]
    assert actors == [("127.0.0.1", SOURCE), ("127.0.0.1", SOURCE)]


def test_tokens_are_named_by_name_equals_secret() -> None:
    assert parse_tokens(["alice=s1", "plain-secret", "", "ci.bot@x=a=b"]) == [
        ("alice", "s1"),
        ("", "plain-secret"),
        ("ci.bot@x", "a=b"),
    ]
    assert parse_tokens("only") == [("", "only")]
    assert parse_tokens(None) == []
