"""The operator's routes: failed jobs grouped by error with server-side retry and delete,
deleting a job, short ids, job descriptions in lists, limits, daily statistics, stopping a
recurring job."""

from __future__ import annotations

import time

from tests.http.conftest import Client, Serve, memory_store
from tests.http.http_jobs import FIRST, QUEUE, put
from zerog.model import Lease
from zerog.recurrence import RecurSpec
from zerog.store import Store


def fail(store: Store, msg: str, job_type: str = "http_test_rich", queue: str = QUEUE) -> str:
    """A job that ran and failed for good with ``msg``."""
    uuid = put(store, queue, job_type=job_type, priority=FIRST)
    reservation = store.reserve([queue], "test-worker")
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    store.fail(reservation.lease, {"timeStamp": time.time(), "errorCode": 3, "msg": msg})
    return uuid


def test_failed_jobs_are_grouped_by_error_shape(serve: Serve) -> None:
    # Given failures whose messages differ only by numbers, and another kind of failure,
    store = memory_store()
    api = serve(store)
    rows = [fail(store, f"row {n} is bad\ndetails") for n in (17, 912, 3)]
    other = fail(store, "disk full", queue="other")
    # When the failed jobs are grouped,
    answer = api.get("/api/failed").json()
    # Then the row failures are one group (largest first) and the disk one another.
    assert answer["total"] == 4
    assert answer["complete"] is True
    first, second = answer["groups"]
    assert (first["count"], first["message"], first["code"]) == (3, "row # is bad", 3)
    assert set(first["examples"]) == set(rows)
    assert first["queues"] == {QUEUE: 3}
    assert (second["count"], second["examples"], second["queues"]) == (1, [other], {"other": 1})


def test_a_group_is_retried_and_deleted_by_the_server(serve: Serve) -> None:
    # Given a group of three failures and one failure of another kind,
    store = memory_store()
    api = serve(store)
    rows = [fail(store, f"row {n} is bad") for n in range(3)]
    other = fail(store, "disk full")
    group = api.get("/api/failed").json()["groups"][0]["id"]
    # When the group is retried,
    answer = api.post(f"/api/failed/{group}/retry").json()
    # Then its jobs wait again, the other failure is left alone,
    assert (answer["matched"], answer["done"], answer["refused"]) == (3, 3, 0)
    assert {store.get(u)["state"] for u in rows} == {"waiting"}
    assert store.get(other)["state"] == "failed"
    # and a group with no job failed now is a 404.
    assert api.post(f"/api/failed/{group}/retry").status == 404
    # When the other group is deleted (discarded), its job is gone.
    gid = api.get("/api/failed").json()["groups"][0]["id"]
    assert api.post(f"/api/failed/{gid}/delete").json()["done"] == 1
    assert api.get(f"/api/jobs/{other}").status == 404


def test_discarding_a_failed_group_deletes_its_jobs_on_every_backend(
    api: Client, store: Store
) -> None:
    uuid = fail(store, "boom")
    gid = api.get("/api/failed").json()["groups"][0]["id"]
    assert api.post(f"/api/failed/{gid}/delete").status == 200
    assert api.get(f"/api/jobs/{uuid}").status == 404
    assert api.request("DELETE", f"/api/jobs/{uuid}").status == 404


def test_delete_a_finished_job_only(serve: Serve) -> None:
    # Given a waiting job and a failed one,
    store = memory_store()
    api = serve(store)
    waiting = put(store)
    failed = fail(store, "boom")
    # Then the waiting one cannot be deleted (409), the failed one can, once.
    assert api.request("DELETE", f"/api/jobs/{waiting}").status == 409
    reply = api.request("DELETE", f"/api/jobs/{failed}")
    assert reply.status == 200
    assert reply.json() == {"uuid": failed, "deleted": True}
    assert api.request("DELETE", f"/api/jobs/{failed}").status == 404
    assert api.get(f"/api/jobs/{waiting}").status == 200


def test_a_short_id_finds_its_job(api: Client, store: Store) -> None:
    # Given two jobs,
    one, two = put(store), put(store)
    # Then the last digits the lists show find each, as a unique prefix does,
    assert api.get(f"/api/jobs/{one[-10:]}").json()["uuid"] == one
    assert api.get(f"/api/jobs/%E2%80%A6{two[-8:]}").json()["uuid"] == two
    assert api.post(f"/api/jobs/{two[-10:]}/cancel").json()["uuid"] == two
    # and a fragment both share is refused, naming them; too short a one too.
    shared = one[:8] if one[:8] == two[:8] else None
    if shared is not None:
        reply = api.get(f"/api/jobs/{shared}")
        assert reply.status == 300
        assert one in reply.json()["candidates"]
    assert api.get("/api/jobs/ab").status == 404


def test_list_rows_say_what_each_job_is(api: Client, store: Store) -> None:
    # Given a job with values and one that said something,
    put(store, title="holidays", size=3, nested={"a": [1, 2]})
    # When the list is read,
    job = api.get("/api/jobs").json()["jobs"][0]
    # Then each row carries a one-line description of its values.
    assert job["description"] == 'title=holidays, size=3, nested={"a":[1,2]}'
    assert job["last_message"] is None


def test_limits_show_how_full_they_are(api: Client, store: Store) -> None:
    # Given a queue limit and a throttle, and one running job under both,
    store.set_queue_limit(QUEUE, 2)
    store.set_limit("api-calls", 5)
    from zerog.record import JobSpec

    uuid = store.enqueue(JobSpec(type="t", queue=QUEUE, throttles=["api-calls"]))
    reservation = store.reserve([QUEUE], "w")
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    # When the limits are read,
    limits = {entry["name"]: entry for entry in api.get("/api/limits").json()["limits"]}
    # Then each says its maximum and how many run under it now.
    queue_limit = {"name": f"queue:{QUEUE}", "maximum": 2, "running": 1, "queue": QUEUE}
    assert limits[f"queue:{QUEUE}"] == queue_limit
    assert (limits["api-calls"]["maximum"], limits["api-calls"]["running"]) == (5, 1)
    store.complete(Lease(uuid, reservation.lease.token, "w"))


def test_daily_stats_count_runs_exactly(api: Client, store: Store) -> None:
    # Given two runs completed and one failed today,
    for _ in range(2):
        uuid = put(store, priority=FIRST)
        reservation = store.reserve([QUEUE], "w")
        assert reservation is not None
        assert reservation.lease.uuid == uuid
        store.complete(reservation.lease)
    fail(store, "boom")
    # When three days of statistics are read,
    answer = api.get("/api/stats/daily?days=3").json()
    # Then today's counts are exact, the days before are empty.
    assert len(answer["days"]) == 3
    assert QUEUE in answer["queues"]
    today = answer["days"][-1]["queues"][QUEUE]
    assert (today["completed"], today["failed"], today["retried"]) == (2, 1, 0)
    assert today["run_p95"] == 1.0
    assert today["wait_p50"] == 1.0
    assert answer["days"][0]["queues"][QUEUE]["completed"] == 0
    assert api.get("/api/stats/daily?days=0").status == 400


def test_a_recurring_job_is_stopped(api: Client, store: Store) -> None:
    rid = store.recur(RecurSpec(type="t", queue=QUEUE, interval_seconds=60))
    assert api.request("DELETE", f"/api/recurring/{rid}").json() == {"id": rid, "stopped": True}
    assert api.get("/api/recurring").json()["recurring"] == []
    assert api.request("DELETE", f"/api/recurring/{rid}").status == 404


def test_a_job_that_another_waits_for_is_not_deleted(serve: Serve) -> None:
    # Given a failed job that a job in depends waits for,
    store = memory_store()
    api = serve(store)
    from zerog.record import JobSpec

    blocker = put(store, priority=FIRST)
    waiter = store.enqueue(JobSpec(type="t", queue="other", depends=[blocker]))
    reservation = store.reserve([QUEUE], "w")
    assert reservation is not None
    store.fail(reservation.lease, {"timeStamp": time.time(), "msg": "boom"})
    # Then deleting it is refused (the waiting job would wait for nothing), until the
    # waiting job is cancelled.
    assert api.request("DELETE", f"/api/jobs/{blocker}").status == 409
    store.act(waiter, "cancel")
    assert api.request("DELETE", f"/api/jobs/{blocker}").status == 200
    assert store.get(waiter)["state"] == "cancelled"
