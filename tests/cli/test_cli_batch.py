"""``zerog batch ID``: a batch's progress from the command line, as a summary or as JSON."""

from __future__ import annotations

import json
from contextlib import closing

from tests.cli.conftest import Zerog
from zerog.cli import EXIT_FAILURE, EXIT_OK
from zerog.model import Settlement
from zerog.record import JobSpec
from zerog.store import open_store


def test_batch_shows_the_members_by_state_and_the_callback(zerog: Zerog, db_url: str) -> None:
    with closing(open_store(db_url)) as store:
        batch_id = store.put_batch(
            [JobSpec(type="t", queue="m") for _ in range(4)], JobSpec(type="report", queue="cb")
        )
        taken = store.reserve(["m"], "w")
        assert taken is not None
        store.settle(taken.lease, Settlement.completed())
    shown = zerog("batch", batch_id, "--url", db_url)
    assert shown.returncode == EXIT_OK, shown.stderr
    assert f"batch {batch_id}: 1 of 4 ended, 25% done; callback report depends" in shown.stdout
    assert "members not ended yet (first 3):" in shown.stdout
    as_json = zerog("batch", batch_id[-8:], "--url", db_url, "--json")
    doc = json.loads(as_json.stdout)
    assert (doc["id"], doc["total"], doc["counts"]) == (batch_id, 4, {"complete": 1, "waiting": 3})


def test_batch_of_a_plain_job_fails_with_one_line(zerog: Zerog, db_url: str) -> None:
    with closing(open_store(db_url)) as store:
        plain = store.enqueue(JobSpec(type="t", queue="m"))
    shown = zerog("batch", plain, "--url", db_url)
    assert shown.returncode == EXIT_FAILURE
    assert len(shown.stderr.strip().splitlines()) == 1
