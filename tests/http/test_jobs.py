"""Job routes against a real server, on memory and SQLite: enqueue, read, list, actions."""

from __future__ import annotations

import json

from tests.http.conftest import Client
from tests.http.http_jobs import QUEUE, RICH_TYPE, make_failed, make_running, put
from zerog.record import JobSpec
from zerog.store import Store


def test_post_valid_values_stores_a_waiting_job(api: Client, store: Store) -> None:
    # Given valid values for a registered type,
    values = {"title": "hello", "labels": ["a"], "options": {"verbose": True, "level": 3}}
    # When they are posted,
    reply = api.post(f"/api/jobs/{RICH_TYPE}", values)
    # Then the job is stored, validated and waiting, and its address is given.
    assert reply.status == 201
    uuid = reply.json()["uuid"]
    assert reply.headers["Location"] == f"/api/jobs/{uuid}"
    record = store.get(uuid)
    assert record["state"] == "waiting"
    assert record["queue"] == QUEUE
    assert record["values"]["title"] == "hello"
    assert record["values"]["count"] == 1  # the schema's load_default applied.


def test_post_options_in_the_query_string(api: Client, store: Store) -> None:
    reply = api.post(f"/api/jobs/{RICH_TYPE}?priority=-5&delay=60&tag=a&tag=b", {"title": "x"})
    assert reply.status == 201
    record = store.get(reply.json()["uuid"])
    assert (record["priority"], record["state"], record["tags"]) == (-5, "scheduled", ["a", "b"])


def test_post_invalid_values_is_400_with_errors_per_field(api: Client, store: Store) -> None:
    reply = api.post(f"/api/jobs/{RICH_TYPE}", {"count": 1000, "bogus": 1})
    assert reply.status == 400
    errors = reply.json()["errors"]
    assert set(errors) == {"title", "count", "bogus"}
    assert all(isinstance(messages, list) for messages in errors.values())
    assert store.counts() == {}  # nothing was stored.


def test_post_a_body_that_is_not_an_object_is_400(api: Client) -> None:
    for body in ("[1, 2]", '"text"', "{not json", "null"):
        reply = api.request("POST", f"/api/jobs/{RICH_TYPE}", body=body)
        assert reply.status == 400, body
        assert "error" in reply.json()


def test_post_bad_options_are_400(api: Client) -> None:
    for query in (
        "priority=x",
        "priority=",
        "priority=99999999999999",
        "delay=-1",
        "delay=nan",
        "delay=1e20",
        "delay=",
    ):
        reply = api.post(f"/api/jobs/{RICH_TYPE}?{query}", {"title": "x"})
        assert reply.status == 400, query


def test_post_unknown_type_is_404_naming_the_registered_types(api: Client) -> None:
    reply = api.post("/api/jobs/no_such_type", {})
    assert reply.status == 404
    body = reply.json()
    assert "no_such_type" in body["error"]
    assert RICH_TYPE in body["types"]
    assert "example_report" in body["types"]


def test_get_a_job_shows_values_state_progress_log_history(api: Client, store: Store) -> None:
    uuid = make_failed(store)
    reply = api.get(f"/api/jobs/{uuid}")
    assert reply.status == 200
    job = reply.json()
    assert job["uuid"] == uuid
    assert job["state"] == "failed"
    assert job["errors"][-1]["msg"] == "broken"
    assert [h["event"] for h in job["history"]] == ["put", "reserved", "failed"]
    for key in ("values", "completeness", "eta", "events", "result", "result_code"):
        assert key in job


def test_get_an_unknown_job_is_404(api: Client) -> None:
    reply = api.get("/api/jobs/00000000-0000-0000-0000-000000000000")
    assert reply.status == 404
    assert "no job" in reply.json()["error"]


def test_list_is_newest_first_with_a_cursor(api: Client, store: Store) -> None:
    # Given five jobs,
    uuids = [put(store, title=str(n)) for n in range(5)]
    # When they are listed two at a time,
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        path = "/api/jobs?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(path).json()
        seen += [job["uuid"] for job in page["jobs"]]
        pages += 1
        cursor = page["cursor"]
        if cursor is None:
            break
    # Then every job comes once, newest first, in three pages, without their bulky parts.
    assert seen == uuids[::-1]
    assert pages == 3
    summary = api.get("/api/jobs?limit=1").json()["jobs"][0]
    assert "values" not in summary
    assert "history" not in summary
    assert {"state", "completeness", "eta", "last_error"} <= set(summary)


def test_list_filters(api: Client, store: Store) -> None:
    waiting = put(store, "q1")
    failed = make_failed(store, "q2")
    tagged = store.enqueue(JobSpec(type="t2", queue="q1", tags=["blue"]))

    def ids(query: str) -> list[str]:
        reply = api.get(f"/api/jobs?{query}")
        assert reply.status == 200, reply.body
        return [job["uuid"] for job in reply.json()["jobs"]]

    assert ids("state=failed") == [failed]
    assert ids("queue=q1") == [tagged, waiting]
    assert ids("type=t2") == [tagged]
    assert ids("tag=blue") == [tagged]
    assert ids("state=waiting&queue=q1&type=t2&tag=blue") == [tagged]
    assert ids("queue=&type=&tag=") == [tagged, failed, waiting]  # blank: no filter.
    held = store.reserve(["q1"], "w9")
    assert held is not None
    assert ids("worker=w9") == [held.lease.uuid]
    assert ids("worker=w8") == []
    failed_job = api.get("/api/jobs?state=failed").json()["jobs"][0]
    assert failed_job["last_error"]["msg"] == "broken"


def test_list_page_size_is_clamped_and_checked(api: Client, store: Store) -> None:
    for _ in range(3):
        put(store)
    assert len(api.get("/api/jobs?limit=100000").json()["jobs"]) == 3  # clamped, not refused.
    bad = (
        "limit=0",
        "limit=-1",
        "limit=abc",
        "limit=",
        "state=bogus",
        "state=",
        "cursor=x",
        "cursor=",
    )
    for query in bad:
        reply = api.get(f"/api/jobs?{query}")
        assert reply.status == 400, query
        assert "error" in reply.json()
    huge = api.get("/api/jobs?cursor=" + "9" * 40)  # past a 64-bit integer: never a 500.
    assert huge.status in (200, 400)


def test_actions_move_jobs_and_409_when_the_state_forbids(api: Client, store: Store) -> None:
    uuid = put(store)
    # pause a waiting job, then resume it
    reply = api.post(f"/api/jobs/{uuid}/pause")
    assert reply.status == 200
    assert reply.json() == {"uuid": uuid, "action": "pause", "state": "paused", "requested": False}
    assert api.post(f"/api/jobs/{uuid}/resume").json()["state"] == "waiting"
    # a waiting job cannot be resumed or retried: 409 naming the state
    conflict = api.post(f"/api/jobs/{uuid}/retry")
    assert conflict.status == 409
    assert conflict.json()["state"] == "waiting"
    assert api.post(f"/api/jobs/{uuid}/resume").status == 409
    # cancel it, then retry the cancelled job
    assert api.post(f"/api/jobs/{uuid}/cancel").json()["state"] == "cancelled"
    assert api.post(f"/api/jobs/{uuid}/cancel").status == 409
    assert api.post(f"/api/jobs/{uuid}/retry").json()["state"] == "waiting"


def test_actions_on_a_running_job_are_requests(api: Client, store: Store) -> None:
    uuid = make_running(store)
    reply = api.post(f"/api/jobs/{uuid}/cancel")
    assert reply.status == 200
    assert reply.json()["requested"] is True
    assert reply.json()["state"] == "running"
    assert store.get(uuid)["control"] == "cancel"


def test_timeout_takes_a_running_job_back_at_once(api: Client, store: Store) -> None:
    uuid = make_running(store)
    reply = api.post(f"/api/jobs/{uuid}/timeout")
    assert reply.json() == {
        "uuid": uuid,
        "action": "timeout",
        "state": "waiting",
        "requested": False,
    }
    assert api.post(f"/api/jobs/{uuid}/timeout").status == 409


def test_retry_a_failed_job(api: Client, store: Store) -> None:
    uuid = make_failed(store)
    assert api.post(f"/api/jobs/{uuid}/retry").json()["state"] == "waiting"


def test_actions_on_an_unknown_job_are_404(api: Client) -> None:
    for action in ("cancel", "retry", "pause", "resume", "timeout"):
        assert api.post(f"/api/jobs/nope/{action}").status == 404


def test_unknown_action_and_route_are_json_404(api: Client) -> None:
    for path in ("/api/jobs/x/explode", "/api/nothing", "/api/jobs/x/y/z"):
        reply = api.post(path)
        assert reply.status == 404, path
        assert json.loads(reply.body)["error"]


def test_recurring_jobs_are_listed(api: Client, store: Store) -> None:
    from zerog.recurrence import RecurSpec

    assert api.get("/api/recurring").json() == {"recurring": []}
    rid = store.recur(RecurSpec(type="t", queue="nightly", cron="0 3 * * *"))
    listed = api.get("/api/recurring").json()["recurring"]
    assert [(r["id"], r["queue"], r["cron"]) for r in listed] == [(rid, "nightly", "0 3 * * *")]
