"""A job's log message cannot forge lines in the worker's log: one record, one line."""

from __future__ import annotations

from pathlib import Path

from tests.worker.pool import Pool, wait_until
from tests.worker.pool_jobs import FORGED, QUEUE
from zerog.record import JobSpec
from zerog.store import open_store


def test_newlines_in_a_job_message_are_escaped(tmp_path: Path) -> None:
    # Given a job that logs a warning holding a newline and a line shaped like a record
    url = f"sqlite:///{tmp_path / 'jobs.db'}"
    store = open_store(url)
    uuid = store.enqueue(JobSpec(type="pool_forger", queue=QUEUE))
    log_path = tmp_path / "pool.log"
    # When a real worker runs it
    with Pool(url, log_path, "-q", QUEUE, "--workers", "1"):
        wait_until(lambda: store.get(uuid)["state"] == "complete", 60, "the job done")
    store.close()
    # Then its warning is one line of the log, the forged record escaped inside it
    lines = log_path.read_text().splitlines()
    assert not any(line.startswith(FORGED[:23]) for line in lines)
    warning = [line for line in lines if "innocent" in line]
    assert len(warning) == 1
    assert "innocent\\n" + FORGED + "\\r\\nand a bell \\x07" in warning[0]
