"""Messages to running jobs, through real worker processes (issue 19): a message reaches the
job within 2 s and is in its history; one sent to wait reaches the next run."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.worker import steer_jobs  # noqa: F401 - registers the job classes here too.
from tests.worker.pool import enqueue, pool, wait_until
from zerog.audit import local_user
from zerog.store import Store

IMPORTS = ("tests.worker.steer_jobs",)
PROMISED_SECONDS = 2.0


def _heard(marker: Path) -> list[tuple[float, object]]:
    path = Path(f"{marker}.heard")
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [(float(at), json.loads(body)) for at, body in (line.split(" ", 1) for line in lines)]


def test_a_message_reaches_a_running_job_within_two_seconds(sqlite: Store, tmp_path: Path) -> None:
    # Given a job running in a worker process, reading job_log.messages()
    marker = tmp_path / "listen"
    uuid = enqueue(sqlite, "steer_listen", marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", imports=IMPORTS) as running:
        wait_until(marker.exists, what="the job's start")
        delays = []
        for n in range(3):
            # When an operator sends it a message
            sent = time.time()
            sqlite.message(uuid, {"n": n}, sender="alice@ops")
            # Then the job hears it within 2 s
            wait_until(lambda n=n: len(_heard(marker)) > n, 10, f"message {n}")
            at, body = _heard(marker)[n]
            assert body == {"n": n}
            delays.append(at - sent)
        assert max(delays) < PROMISED_SECONDS, delays
        sqlite.message(uuid, "stop")
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 20, "completion")
        assert running.stop() == 0
    # And each message is in the job's history, with its sender
    record = sqlite.get(uuid, history=True)
    said = [(h["event"], h["worker"], h["detail"]) for h in record["history"]]
    assert [s for s in said if s[0] == "message"] == [
        ("message", "alice@ops", '{"n":0}'),
        ("message", "alice@ops", '{"n":1}'),
        ("message", "alice@ops", '{"n":2}'),
        ("message", f"{local_user()} (api)", '"stop"'),
    ]
    assert record["result"] == {"heard": [{"n": 0}, {"n": 1}, {"n": 2}, "stop"]}
    assert not record.get("inbox")


def test_messages_sent_to_wait_reach_the_next_run_through_a_callback(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a job not yet running, sent two messages to wait for its run
    marker = tmp_path / "listen"
    uuid = enqueue(sqlite, "steer_listen", marker=str(marker), callback=True)
    sqlite.message(uuid, {"rate": 3}, queue_if_idle=True)
    sqlite.message(uuid, "stop", queue_if_idle=True)
    # When a worker runs it / Then its on_message callback hears both, in order, at once
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", imports=IMPORTS) as running:
        wait_until(lambda: sqlite.get(uuid)["state"] == "complete", 20, "completion")
        assert running.stop() == 0
    record = sqlite.get(uuid, history=True)
    assert record["result"] == {"heard": [{"rate": 3}, "stop"]}
    assert [h["event"] for h in record["history"]][:3] == [
        "put",
        "message-queued",
        "message-queued",
    ]
