"""``job_log.iterate`` through real worker processes (issue 19): a job killed with SIGKILL
redoes at most its checkpoint interval; one paused resumes on another process at its
cursor; completeness and the ETA follow the items."""

from __future__ import annotations

import os
import signal
from collections import Counter
from pathlib import Path

import zerog
from tests.worker import steer_jobs  # noqa: F401 - registers the job classes here too.
from tests.worker.pool import enqueue, pool, wait_until
from zerog.jobs import CURSOR_KEY
from zerog.store import Store

IMPORTS = ("tests.worker.steer_jobs",)
ITEMS = 60


def _done(marker: Path) -> list[tuple[int, int]]:
    """(pid, item) of each item done, in order."""
    path = Path(f"{marker}.done")
    if not path.exists():
        return []
    lines = [line.split() for line in path.read_text().splitlines()]
    return [(int(pid), int(item)) for pid, item in lines if item]


def test_a_job_killed_at_60_percent_redoes_at_most_its_checkpoint_interval(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job over 60 items, checkpointing every 5, running in a worker process
    marker = tmp_path / "iterate"
    every = 5
    uuid = enqueue(sqlite, "steer_iterate", ttr=60.0, marker=str(marker), every=every)
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", imports=IMPORTS) as running:
        wait_until(lambda: len(_done(marker)) >= 36, 60, "60% of the items")
        # Then its completeness and ETA follow the items by themselves
        record = sqlite.get(uuid)
        assert 0.3 <= record["completeness"] <= 1.0
        assert zerog.get_job(uuid).eta is not None
        # When its process is killed with SIGKILL
        first = int(marker.read_text())
        os.kill(first, signal.SIGKILL)
        # Then another run resumes it at its last checkpoint and completes it
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 60, "completion")
        assert running.stop() == 0
    done = _done(marker)
    counts = Counter(item for _pid, item in done)
    assert set(counts) == set(range(ITEMS))
    redone = [item for item, n in counts.items() if n > 1]
    assert len(done) - ITEMS == len(redone) <= every, redone
    second = [item for pid, item in done if pid != first]
    assert second == list(range(second[0], ITEMS))  # from its cursor on, in order.
    record = sqlite.get(uuid)
    assert record["values"][CURSOR_KEY] == ITEMS
    assert record["result"] == {"cursor": ITEMS}
    assert record["completeness"] == 1.0


def test_a_job_paused_at_30_percent_resumes_on_another_process_at_its_cursor(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job over 60 items running in a worker process
    marker = tmp_path / "iterate"
    uuid = enqueue(
        sqlite, "steer_iterate", ttr=60.0, marker=str(marker), every=20, item_seconds=0.1
    )
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", imports=IMPORTS) as first_pool:
        wait_until(lambda: len(_done(marker)) >= 18, 60, "30% of the items")
        # When an operator pauses it
        sqlite.act(uuid, "pause")
        wait_until(lambda: sqlite.get(uuid)["state"] == "paused", 30, "the pause")
        assert first_pool.stop() == 0
    # Then it stopped between two items, its cursor saved exactly (not at its last checkpoint)
    stopped_at = len(_done(marker))
    cursor = sqlite.get(uuid)["values"][CURSOR_KEY]
    assert cursor == stopped_at
    assert 18 <= cursor < ITEMS
    first = int(marker.read_text())
    # When it is resumed and another worker process runs it
    sqlite.act(uuid, "resume")
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", imports=IMPORTS) as second_pool:
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 60, "completion")
        assert second_pool.stop() == 0
    # Then that process went on from the cursor: every item done exactly once
    done = _done(marker)
    assert [item for _pid, item in done] == list(range(ITEMS))
    assert {pid for pid, item in done if item >= cursor} == {int(marker.read_text())}
    assert int(marker.read_text()) != first
