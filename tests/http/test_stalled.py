"""Stalled jobs over HTTP: ``GET /api/stalled``, the job's ``stalled``, and the metric."""

from __future__ import annotations

import time

from tests.http.conftest import Client
from zerog.record import JobSpec
from zerog.store import Store


def _silent_running_job(store: Store, queue: str = "q") -> str:
    """A job reserved with a long lease that then says nothing for longer than 0.2 s."""
    store.set_config("stall-seconds", 0.2)
    uuid = store.enqueue(JobSpec(type="t", queue=queue, ttr_seconds=600))
    assert store.reserve([queue], "w1") is not None
    time.sleep(0.3)
    return uuid


def test_a_stalled_job_is_listed_shown_and_counted(api: Client, store: Store) -> None:
    # Given a running job silent past its stall threshold, and one that just started
    uuid = _silent_running_job(store)
    store.set_config("fresh-stall-seconds", 600)
    store.enqueue(JobSpec(type="t", queue="fresh", ttr_seconds=600))
    assert store.reserve(["fresh"], "w2") is not None

    # When a client asks for the stalled jobs, Then only the silent one is there
    stalled = api.get("/api/stalled").json()["jobs"]
    assert [job["uuid"] for job in stalled] == [uuid]
    assert stalled[0]["stalled"] is True
    assert stalled[0]["quiet_seconds"] >= 0.2
    assert api.get("/api/stalled?queue=fresh").json() == {"jobs": []}

    # And the job itself and the list say so
    assert api.get(f"/api/jobs/{uuid}").json()["stalled"] is True
    listed = {job["uuid"]: job["stalled"] for job in api.get("/api/jobs").json()["jobs"]}
    assert listed[uuid] is True
    assert sorted(listed.values()) == [False, True]

    # And /metrics counts it per queue, 0 where jobs run without stalling
    metrics = api.get("/metrics").text
    assert 'zerog_jobs_stalled{queue="q"} 1' in metrics
    assert 'zerog_jobs_stalled{queue="fresh"} 0' in metrics
