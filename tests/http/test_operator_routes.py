"""The operator's edits over HTTP against a real server (zerog.http.edits): a job's priority,
queue and tags, limits, the shared config, creating and changing recurring jobs. Each works,
leaves an audit entry naming the token's name and the client's address, and a bad body is a
400 that changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.http.conftest import Client, Reply, Serve
from tests.http.http_jobs import QUEUE, RICH_TYPE, make_running, put
from zerog.backends.memory import MemoryBackend
from zerog.errors import NotSupported
from zerog.record import JobSpec
from zerog.recurrence import RecurSpec
from zerog.settings import Settings
from zerog.store import Store

ALICE = "alice=s3cret-a"
SOURCE = "http 127.0.0.1"
OTHER = "http_test_other"


def _alice(serve: Serve, store: Store) -> Client:
    return serve(store, client_token="s3cret-a", token=[ALICE, "bob=s3cret-b"])


def _send(client: Client, method: str, path: str, body: Any = None) -> Reply:
    data = None if body is None else json.dumps(body)
    headers = {"Content-Type": "application/json"} if data is not None else {}
    return client.request(method, path, body=data, headers=headers)


def _recurrence(store: Store) -> str:
    return store.recur(RecurSpec(type=RICH_TYPE, queue=QUEUE, interval_seconds=3600.0))


@pytest.mark.parametrize(
    ("method", "path", "body", "action", "target"),
    [
        ("PATCH", "/api/jobs/{u}", {"priority": -5}, "priority", "{u}"),
        ("PATCH", "/api/jobs/{u}", {"queue": OTHER}, "move", "{u}"),
        ("PATCH", "/api/jobs/{u}", {"add_tags": ["x", "y"]}, "tag", "{u}"),
        ("PATCH", "/api/jobs/{u}", {"remove_tags": ["a"]}, "untag", "{u}"),
        ("POST", "/api/limits/queue:q1", {"maximum": 3}, "limit", "queue:q1"),
        ("DELETE", "/api/limits/gpu", None, "limit", "gpu"),
        ("POST", "/api/config/stall-seconds", {"value": 60}, "config", "stall-seconds"),
        ("DELETE", "/api/config/custom-key", None, "config", "custom-key"),
        (
            "PATCH",
            "/api/recurring/{r}",
            {"priority": 7, "cron": "0 * * * *"},
            "update-recurrence",
            "{r}",
        ),
    ],
)
def test_each_edit_works_and_names_its_token_and_address(
    serve: Serve, store: Store, method: str, path: str, body: Any, action: str, target: str
) -> None:
    # Given a waiting job tagged a, a limit gpu, a config key and a recurrence
    uuid = store.enqueue(JobSpec(type=RICH_TYPE, queue=QUEUE, tags=("a",)))
    store.set_limit("gpu", 1)
    store.set_config("custom-key", "on")
    rid = _recurrence(store)
    alice = _alice(serve, store)
    # When alice makes the edit over HTTP
    reply = _send(alice, method, path.format(u=uuid, r=rid), body)
    # Then it is done
    assert reply.status == 200, reply.text
    _assert_done(store, action, uuid, rid)
    # And the trail's last entry names alice and her address
    entry = store.audit()[0]
    assert (entry["actor"], entry["source"], entry["action"], entry["target"]) == (
        "alice",
        SOURCE,
        action,
        target.format(u=uuid, r=rid),
    )


def _assert_done(store: Store, action: str, uuid: str, rid: str) -> None:
    record = store.get(uuid)
    config = store.config(fresh=True)
    done = {
        "priority": lambda: record["priority"] == -5,
        "move": lambda: record["queue"] == OTHER,
        "tag": lambda: record["tags"] == ["a", "x", "y"],
        "untag": lambda: record["tags"] == [],
        "limit": lambda: store.limits() in ({"gpu": 1, "queue:q1": 3}, {}),
        "config": lambda: config in ({"custom-key": "on", "stall-seconds": 60}, {}),
        "update-recurrence": lambda: (
            store.get_recurrence(rid)["priority"] == 7
            and store.get_recurrence(rid)["cron"] == "0 * * * *"
        ),
    }
    assert done[action](), (action, record, store.limits(), config)


def test_a_job_edit_answers_the_job_and_refuses_a_running_one(serve: Serve, store: Store) -> None:
    alice = _alice(serve, store)
    uuid = put(store)
    reply = _send(alice, "PATCH", f"/api/jobs/{uuid}", {"priority": 3, "add_tags": ["t"]})
    assert reply.status == 200
    assert (reply.json()["priority"], reply.json()["tags"]) == (3, ["t"])
    # 4.0 is an integer to JSON Schema (and the document): taken as 4
    assert _send(alice, "PATCH", f"/api/jobs/{uuid}", {"priority": 4.0}).json()["priority"] == 4
    # A running job keeps its queue (409) but takes tags
    running = make_running(store)
    assert _send(alice, "PATCH", f"/api/jobs/{running}", {"queue": OTHER}).status == 409
    assert _send(alice, "PATCH", f"/api/jobs/{running}", {"add_tags": ["r"]}).status == 200
    assert store.get(running)["queue"] == QUEUE
    # An unknown job is a 404
    assert _send(alice, "PATCH", "/api/jobs/no-such-job", {"priority": 1}).status == 404


def test_limits_config_and_recurring_read_back_over_http(serve: Serve, store: Store) -> None:
    alice = _alice(serve, store)
    assert _send(alice, "POST", "/api/limits/queue:q1", {"maximum": 0}).json() == {
        "name": "queue:q1",
        "maximum": 0,
    }
    assert [x["name"] for x in alice.get("/api/limits").json()["limits"]] == ["queue:q1"]
    assert _send(alice, "DELETE", "/api/limits/queue:q1").json()["removed"] is True
    assert _send(alice, "DELETE", "/api/limits/queue:q1").status == 404
    assert _send(alice, "POST", "/api/config/x-key", {"value": {"a": [1]}}).json() == {
        "key": "x-key",
        "value": {"a": [1]},
    }
    assert alice.get("/api/config").json()["config"]["x-key"] == {"a": [1]}
    assert _send(alice, "DELETE", "/api/config/x-key").json() == {"key": "x-key", "value": None}


def test_a_recurring_job_is_created_with_the_spec_fields(serve: Serve, store: Store) -> None:
    alice = _alice(serve, store)
    body = {
        "type": RICH_TYPE,
        "queue": QUEUE,
        "values": {"title": "nightly"},
        "cron": "5 3 * * *",
        "priority": 2,
        "tags": ["n"],
        "id": "nightly",
    }
    reply = _send(alice, "POST", "/api/recurring", body)
    assert reply.status == 201, reply.text
    assert reply.headers["Location"] == "/api/recurring/nightly"
    doc = store.get_recurrence("nightly")
    assert (doc["cron"], doc["priority"], doc["tags"], doc["values"]) == (
        "5 3 * * *",
        2,
        ["n"],
        {"title": "nightly"},
    )
    entry = store.audit()[0]
    assert (entry["actor"], entry["source"], entry["action"], entry["target"]) == (
        "alice",
        SOURCE,
        "recur",
        "nightly",
    )
    assert _send(alice, "POST", "/api/recurring", body).status == 409  # the id is taken
    assert _send(alice, "PATCH", "/api/recurring/nope", {"priority": 1}).status == 404


BAD = [
    ("PATCH", "/api/jobs/{u}", None),
    ("PATCH", "/api/jobs/{u}", {}),
    ("PATCH", "/api/jobs/{u}", [1]),
    ("PATCH", "/api/jobs/{u}", {"priority": "high"}),
    ("PATCH", "/api/jobs/{u}", {"priority": True}),
    ("PATCH", "/api/jobs/{u}", {"priority": 2**40}),
    ("PATCH", "/api/jobs/{u}", {"queue": ""}),
    ("PATCH", "/api/jobs/{u}", {"add_tags": "x"}),
    ("PATCH", "/api/jobs/{u}", {"priority": 1, "add_tags": [""]}),
    ("PATCH", "/api/jobs/{u}", {"state": "done"}),
    ("POST", "/api/limits/gpu", {}),
    ("POST", "/api/limits/gpu", {"maximum": -1}),
    ("POST", "/api/limits/gpu", {"maximum": 1.5}),
    ("POST", "/api/config/stall-seconds", {"value": -3}),
    ("POST", "/api/config/stall-seconds", {"value": None}),
    ("POST", "/api/config/stall-seconds", {"val": 3}),
    ("POST", "/api/recurring", {"type": RICH_TYPE}),
    ("POST", "/api/recurring", {"type": RICH_TYPE, "queue": QUEUE}),  # no schedule
    ("POST", "/api/recurring", {"type": "nope", "queue": QUEUE, "interval_seconds": 5}),
    ("POST", "/api/recurring", {"type": RICH_TYPE, "queue": QUEUE, "cron": "bad line"}),
    ("POST", "/api/recurring", {"type": RICH_TYPE, "queue": QUEUE, "interval_seconds": 0}),
    (
        "POST",
        "/api/recurring",
        {"type": RICH_TYPE, "queue": QUEUE, "interval_seconds": 5, "values": {"count": "x"}},
    ),
    ("PATCH", "/api/recurring/{r}", {"interval_seconds": -1}),
    ("PATCH", "/api/recurring/{r}", {"values": {"title": 5}}),
    ("PATCH", "/api/recurring/{r}", {"offset_seconds": 5}),
    ("PATCH", "/api/recurring/{r}", {"cron": "61 * * * *"}),
]


def test_bad_bodies_are_400s_that_change_nothing(serve: Serve, store: Store) -> None:
    uuid, rid = put(store), _recurrence(store)
    alice = _alice(serve, store)
    before = (store.get(uuid), store.limits(), store.config(fresh=True), store.recurrences())
    trail = store.audit()
    for method, path, body in BAD:
        reply = _send(alice, method, path.format(u=uuid, r=rid), body)
        assert reply.status == 400, (method, path, body, reply.text)
        assert reply.json()["error"]
    after = (store.get(uuid), store.limits(), store.config(fresh=True), store.recurrences())
    assert after == before
    assert store.audit() == trail


def test_every_edit_route_needs_the_token(serve: Serve, store: Store) -> None:
    uuid, rid = put(store), _recurrence(store)
    stranger = Client(_alice(serve, store).url)
    trail = store.audit()
    for method, path in [
        ("PATCH", f"/api/jobs/{uuid}"),
        ("POST", "/api/limits/gpu"),
        ("DELETE", "/api/limits/gpu"),
        ("GET", "/api/config"),
        ("POST", "/api/config/k"),
        ("DELETE", "/api/config/k"),
        ("POST", "/api/recurring"),
        ("PATCH", f"/api/recurring/{rid}"),
    ]:
        assert _send(stranger, method, path, {"priority": 1}).status == 401, (method, path)
    # And a browser's cross-site edit is refused even with the token
    hostile = {"Origin": "http://evil.example", "Content-Type": "application/json"}
    alice = Client(stranger.url, token="s3cret-a")
    reply = alice.request("PATCH", f"/api/jobs/{uuid}", body='{"priority": 1}', headers=hostile)
    assert reply.status == 403
    assert store.audit() == trail


class NoEditsBackend(MemoryBackend):
    """A backend that cannot keep limits, config or recurring jobs (as some may not)."""

    def _refuse(self, *_args: Any) -> Any:
        raise NotSupported("NoEditsBackend keeps no limits, config or recurring jobs")

    set_limit = limits = set_config = recur = update_recurrence = recurrences = _refuse


def test_a_backend_without_the_role_is_a_501(serve: Serve) -> None:
    store = Store(NoEditsBackend(), Settings(url="memory://"))
    api = serve(store)
    assert _send(api, "POST", "/api/limits/gpu", {"maximum": 1}).status == 501
    assert _send(api, "DELETE", "/api/limits/gpu").status == 501
    assert _send(api, "POST", "/api/config/k", {"value": 1}).status == 501
    assert _send(api, "DELETE", "/api/config/k").status == 501
    body = {"type": RICH_TYPE, "queue": QUEUE, "interval_seconds": 60, "values": {"title": "t"}}
    assert _send(api, "POST", "/api/recurring", body).status == 501
    assert _send(api, "PATCH", "/api/recurring/r", {"priority": 1}).status == 501
