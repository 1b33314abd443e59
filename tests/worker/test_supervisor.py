"""The forking supervisor with real processes and signals on SQLite: children kept across jobs,
respawned, restarted, recycled; sandboxes; reload; the worker registry; exit codes."""

from __future__ import annotations

import os
import re
import signal
import socket
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.worker.pool import enqueue, events, pool, process_state, wait_until, worker_pid
from zerog.cli import main
from zerog.record import JobSpec
from zerog.store import Store


def complete(store: Store, uuid: str) -> bool:
    record = store.get(uuid, history=False)
    assert record["state"] not in ("failed", "cancelled", "expired"), record["errors"]
    return bool(record["state"] == "complete")


def wait_complete(store: Store, uuids: list[str], timeout: float = 30.0) -> list[dict[str, Any]]:
    wait_until(lambda: all(complete(store, u) for u in uuids), timeout, "jobs complete")
    return [store.get(u) for u in uuids]


def ran_in(record: dict[str, Any]) -> int:
    return int(record["result"]["pid"])


# --- children ------------------------------------------------------------------------------


def test_children_are_kept_across_jobs_and_drain_on_sigterm(sqlite: Store, tmp_path: Path) -> None:
    # Given 12 short jobs and a pool of two children
    uuids = [enqueue(sqlite, "pool_sleep", seconds=0.02) for _ in range(12)]
    with pool(sqlite.settings.url, tmp_path, "--workers", "2", "--threads", "2") as running:
        children = running.wait_children(2)
        records = wait_complete(sqlite, uuids)
        # Then they all ran in those two processes: no process per job
        assert {ran_in(r) for r in records} <= set(children)
        assert running.children() == children
        # And SIGTERM stops the pool cleanly, its workers gone from the registry
        assert running.stop() == 0
    assert sqlite.workers() == []


def test_a_killed_child_is_reaped_and_respawned(sqlite: Store, tmp_path: Path) -> None:
    with pool(sqlite.settings.url, tmp_path, "--workers", "2") as running:
        # Given two children / When one is killed
        before = running.wait_children(2)
        os.kill(before[0], signal.SIGKILL)
        # Then the supervisor replaces it, and the pool still works
        wait_until(lambda: before[0] not in (now := running.children()) and len(now) == 2)
        uuid = enqueue(sqlite, "pool_sleep")
        wait_complete(sqlite, [uuid])
        assert running.stop() == 0
    assert f"{before[0]} was killed by SIGKILL; respawning" in running.log()


def test_a_child_killed_after_its_start_up_is_replaced_at_once(
    sqlite: Store, tmp_path: Path
) -> None:
    # Given a pool whose child is killed again and again, each time once it has started up
    with pool(sqlite.settings.url, tmp_path, "--workers", "1") as running:
        for _ in range(4):
            [child] = running.wait_children(1)
            wait_until(lambda child=child: f"worker {_hostname()}-{child}-" in running.log())
            os.kill(child, signal.SIGKILL)
            wait_until(lambda child=child: running.children() not in ([], [child]))
        # Then each was replaced without a growing wait: the backoff is for start-up crashes
        delays = re.findall(r"killed by SIGKILL; respawning in ([\d.]+) s", running.log())
        assert len(delays) == 4
        assert all(float(delay) <= 0.1 for delay in delays), delays
        assert running.stop() == 0


def _hostname() -> str:
    return socket.gethostname()


def test_children_ignore_sigint(sqlite: Store, tmp_path: Path) -> None:
    with pool(sqlite.settings.url, tmp_path, "--workers", "1") as running:
        # Given a child / When it alone gets SIGINT (a terminal sends it to the whole group;
        # the supervisor turns it into one SIGTERM per child)
        [child] = running.wait_children(1)
        os.kill(child, signal.SIGINT)
        # Then it goes on working
        uuid = enqueue(sqlite, "pool_sleep")
        [record] = wait_complete(sqlite, [uuid])
        assert ran_in(record) == child
        assert running.stop() == 0


def test_sighup_restarts_the_children_gracefully(sqlite: Store, tmp_path: Path) -> None:
    marker = tmp_path / "running"
    uuid = enqueue(sqlite, "pool_sleep", seconds=1.5, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1") as running:
        # Given a child in the middle of a job
        [old] = running.wait_children(1)
        wait_until(marker.exists)
        # When the supervisor gets SIGHUP
        running.proc.send_signal(signal.SIGHUP)
        # Then the job finishes in the old child (drained, not released), a new child takes
        # its place, and the pool goes on
        [record] = wait_complete(sqlite, [uuid])
        assert events(record) == ["put", "reserved", "completed"]
        assert ran_in(record) == old
        [new] = wait_until(lambda: (c := running.children()) and old not in c and c)
        later = enqueue(sqlite, "pool_sleep")
        assert ran_in(wait_complete(sqlite, [later])[0]) == new
        assert running.proc.poll() is None
        assert running.stop() == 0


def test_max_jobs_recycles_a_child(sqlite: Store, tmp_path: Path) -> None:
    # Given 7 jobs and a child that may run 3
    uuids = [enqueue(sqlite, "pool_sleep", seconds=0.01) for _ in range(7)]
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", "--max-jobs", "3") as running:
        records = wait_complete(sqlite, uuids)
        assert running.stop() == 0
    # Then three children ran them, in turn, 3 + 3 + 1
    pids = [ran_in(r) for r in sorted(records, key=lambda r: r["finished_at"])]
    assert [pids.count(p) for p in dict.fromkeys(pids)] == [3, 3, 1]
    assert "retires: max-jobs (3)" in running.log()


def test_max_memory_recycles_a_child(sqlite: Store, tmp_path: Path) -> None:
    # Given a job that makes its process keep 200 MiB, then an ordinary job
    big = enqueue(sqlite, "pool_memory", megabytes=200)
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", "--max-memory", "150") as running:
        [first] = wait_complete(sqlite, [big])
        later = enqueue(sqlite, "pool_sleep")
        [second] = wait_complete(sqlite, [later])
        assert running.stop() == 0
    # Then the big child was replaced after its job
    assert ran_in(first) != ran_in(second)
    assert "retires: max-memory" in running.log()


def test_children_of_a_killed_supervisor_drain_and_exit(sqlite: Store, tmp_path: Path) -> None:
    marker = tmp_path / "running"
    uuid = enqueue(sqlite, "pool_sleep", seconds=60, marker=str(marker))
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", "--grace", "0.5") as running:
        # Given a child running a long job / When its supervisor is killed
        [child] = running.wait_children(1)
        wait_until(marker.exists)
        os.kill(running.pid, signal.SIGKILL)
        # Then the orphan notices at its next heartbeat, drains (its job released after the
        # grace period, with its checkpoint) and exits: no worker is left behind
        wait_until(lambda: sqlite.get(uuid)["state"] == "waiting", 15, "the job released")
        wait_until(lambda: process_state(child) in (None, "Z"), 15, "the orphan gone")
    assert events(sqlite.get(uuid))[-1] == "released"
    assert f"supervisor {running.pid} is gone" in running.log()


# --- sandboxes -----------------------------------------------------------------------------


def test_one_thread_runs_each_job_in_its_emptied_sandbox(sqlite: Store, tmp_path: Path) -> None:
    work = tmp_path / "work"
    uuids = [enqueue(sqlite, "pool_sandbox") for _ in range(3)]
    with pool(sqlite.settings.url, tmp_path, "--workers", "1", "--workdir", str(work)) as running:
        records = wait_complete(sqlite, uuids)
        assert running.stop() == 0
    box = work / "zerog-workers" / "sandbox-0"
    for record in records:
        # Each job found its sandbox empty (the previous job's files were removed) and ran
        # in it as its working directory
        assert record["result"]["found"] == []
        assert record["result"]["sandbox"] == str(box)
        assert record["result"]["cwd"] == str(box)
    # And the sandbox is empty afterwards too; nothing landed in the pool's own directory
    assert list(box.iterdir()) == []
    assert not (tmp_path / "relative.txt").exists()


def test_several_threads_get_a_sandbox_each_and_keep_the_working_directory(
    sqlite: Store, tmp_path: Path
) -> None:
    work = tmp_path / "work"
    uuids = [enqueue(sqlite, "pool_sandbox", seconds=0.3) for _ in range(4)]
    with pool(
        sqlite.settings.url,
        tmp_path,
        *("--workers", "1", "--threads", "2", "--workdir", str(work)),
    ) as running:
        records = wait_complete(sqlite, uuids)
        assert running.stop() == 0
    boxes = {r["result"]["sandbox"] for r in records}
    assert boxes == {str(work / "zerog-workers" / f"sandbox-{k}") for k in (0, 1)}
    assert {r["result"]["cwd"] for r in records} == {str(tmp_path)}
    assert all(r["result"]["found"] == [] for r in records)


# --- reload --------------------------------------------------------------------------------

RELOADABLE = """
import os
import time

import zerog

VERSION = {version}


class ReloadableJob(zerog.BaseJob):
    JOB_TYPE = "reloadable"
    QUEUE_NAME = "reload"

    def run(self):
        self.result = {{"version": VERSION, "pid": os.getpid()}}
        return time.time(), False
"""


def write_module(path: Path, version: int) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(textwrap.dedent(RELOADABLE.format(version=version)) + "#" * version)
    os.utime(path, ns=(before + 10**9, before + 10**9))  # a new mtime, however fast we are.


def test_a_changed_job_module_is_reloaded_for_the_next_job(sqlite: Store, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    module = code / "reloadable.py"
    write_module(module, 1)
    flags = ("--workers", "1", "--path", str(code), "-q", "reload")
    with pool(sqlite.settings.url, tmp_path, *flags, imports=("reloadable",)) as running:
        [child] = running.wait_children(1)
        wait_until(sqlite.workers, what="the child registered")
        results = []
        # When the module changes after the supervisor imported it, and again later
        for version in (2, 3):
            write_module(module, version)
            uuid = sqlite.enqueue(JobSpec(type="reloadable", queue="reload"))
            results.append(wait_complete(sqlite, [uuid])[0]["result"])
        assert running.stop() == 0
    # Then each next job ran the new code, in the same process
    assert results == [{"version": 2, "pid": child}, {"version": 3, "pid": child}]
    assert "reloaded reloadable" in running.log()


# --- the registry ----------------------------------------------------------------------------


def listed(url: str, capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    """``zerog workers --json``."""
    import json

    capsys.readouterr()
    assert main(["workers", "--url", url, "--json"], environ={}) == 0
    workers: list[dict[str, Any]] = json.loads(capsys.readouterr().out)["workers"]
    return workers


def test_zerog_workers_lists_the_live_children(
    sqlite: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = sqlite.settings.url
    marker = tmp_path / "running"
    uuid = enqueue(sqlite, "pool_sleep", seconds=30, marker=str(marker))
    with pool(url, tmp_path, "--workers", "2", "--threads", "3", "--grace", "0") as running:
        children = running.wait_children(2)
        wait_until(marker.exists)
        # Then each child is listed with its pid, supervisor, queues and threads, and the
        # one running the job lists it
        workers = wait_until(
            lambda: (
                (found := listed(url, capsys))
                and any(w["jobs"] for w in found)
                and len(found) == 2
                and found
            )
        )
        assert sorted(w["pid"] for w in workers) == children
        assert {w["supervisor"] for w in workers} == {running.pid}
        assert {tuple(w["queues"]) for w in workers} == {("pool",)}
        assert [w["jobs"] for w in workers if w["jobs"]] == [[uuid]]
        assert all(w["threads"] == 3 and w["version"] for w in workers)
        # When a child is killed / Then its entry goes at once and its successor's comes
        os.kill(children[0], signal.SIGKILL)
        wait_until(
            lambda: (
                (pids := {w["pid"] for w in listed(url, capsys)})
                and children[0] not in pids
                and len(pids) == 2
            )
        )
        assert running.stop() == 0
    # And a clean stop leaves no entry
    assert listed(url, capsys) == []


# --- exit codes ------------------------------------------------------------------------------


def test_a_burst_exits_0_when_done_and_1_when_a_child_crashed(
    sqlite: Store, tmp_path: Path
) -> None:
    enqueue(sqlite, "pool_sleep")
    with pool(sqlite.settings.url, tmp_path, "--workers", "2", "--burst") as clean:
        assert clean.proc.wait(30) == 0
    poison = enqueue(sqlite, "pool_poison")
    with pool(sqlite.settings.url, tmp_path, "--workers", "2", "--burst") as crashing:
        assert crashing.proc.wait(30) == 1
    assert sqlite.get(poison)["state"] == "failed"


def test_memory_url_is_refused_for_worker_processes(tmp_path: Path) -> None:
    with pool("memory://", tmp_path, "--workers", "2") as running:
        assert running.proc.wait(30) == 2
    assert "--workers 0" in running.log()


def test_worker_pid_is_in_its_id() -> None:
    assert worker_pid("my-host-1234-abcdef") == 1234


# --- flags ---------------------------------------------------------------------------------

POOL_ENV = {
    "ZEROG_URL": "sqlite:///rel/jobs.db?synchronous=full",
    "ZEROG_WORKERS": "3",
    "ZEROG_THREADS": "2",
    "ZEROG_INTERVAL": "0.2",
    "ZEROG_GRACE": "5",
    "ZEROG_CANCEL_GRACE": "4",
    "ZEROG_MAX_JOBS": "10",
    "ZEROG_MAX_MEMORY": "256",
    "ZEROG_WORKDIR": "scratch",
    "ZEROG_NO_RELOAD": "yes",
}


def test_every_pool_flag_comes_from_its_variable_and_is_in_the_help(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from zerog.cli import build_parser
    from zerog.cli._flags import apply_env
    from zerog.cli.supervisor import pool_config

    monkeypatch.chdir(tmp_path)
    args = build_parser().parse_args(["worker"])
    apply_env(args, POOL_ENV)
    args.environ = POOL_ENV
    config = pool_config(args, ["q"])
    assert (config.workers, config.threads, config.max_jobs) == (3, 2, 10)
    assert config.max_memory_bytes == 256 << 20
    assert config.workdir == str(tmp_path / "scratch")
    assert (config.cancel_grace_seconds, config.reload) == (4.0, False)
    settings = config.settings
    assert (settings.poll_interval_seconds, settings.grace_seconds) == (0.2, 5.0)
    # A relative SQLite path is made absolute (a job may chdir into its sandbox); options kept
    assert settings.url == f"sqlite:///{tmp_path}/rel/jobs.db?synchronous=full"


def test_the_help_names_every_variable(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["worker", "--help"], environ={})
    text = " ".join(capsys.readouterr().out.split())
    for variable in [*POOL_ENV, "ZEROG_QUEUE", "ZEROG_IMPORT", "ZEROG_PATH", "ZEROG_BURST"]:
        assert f"[env: {variable}]" in text
    assert "[env: ZEROG_VERBOSE]" in text
