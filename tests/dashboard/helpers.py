"""Jobs put straight into the store for the dashboard tests, in the states a test needs."""

from __future__ import annotations

import time
from typing import Any

from tests.http.http_jobs import FIRST
from zerog.model import Progress
from zerog.record import JobSpec, error_entry
from zerog.store import Store

TYPE = "dash_test"  # no class needed: nothing runs these jobs, the store only keeps them.
TRACEBACK = 'Traceback (most recent call last):\n  File "job.py", line 3, in run\nValueError: boom'


def put(store: Store, queue: str = "alpha", job_type: str = TYPE, **options: Any) -> str:
    """A waiting job; ``options``: values, tags, priority."""
    return store.enqueue(
        JobSpec(
            type=job_type,
            queue=queue,
            values=options.get("values", {}),
            tags=tuple(options.get("tags", ())),
            priority=options.get("priority", 0),
        )
    )


def failed(
    store: Store,
    queue: str = "alpha",
    msg: str = "ValueError: boom",
    log: tuple[str, ...] = (),
    **options: Any,
) -> str:
    """A job that ran, logged ``log`` and failed for good with ``msg`` and a traceback."""
    uuid = put(store, queue, priority=FIRST, **options)
    reservation = store.reserve([queue], "test-worker")
    assert reservation is not None
    assert reservation.lease.uuid == uuid
    now = time.time()
    events = [{"timeStamp": now, "msg": line} for line in log]
    store.fail(
        reservation.lease,
        error_entry(now, 7, msg, TRACEBACK),
        Progress(completeness=0.4, events=events),
    )
    return uuid


def state_of(store: Store, uuid: str) -> str:
    return str(store.get(uuid, history=False)["state"])
