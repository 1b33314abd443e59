"""The parts of the worker runtime on their own: reload, sandboxes, the report pipe, process
readings, and the supervisor's respawn policy."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker.pool import wait_until
from zerog import registry
from zerog.settings import Settings
from zerog.worker import procinfo, reports
from zerog.worker.child import ExitCode
from zerog.worker.config import PoolConfig
from zerog.worker.reload import Reloader
from zerog.worker.reports import Reporter, ReportReader
from zerog.worker.sandbox import Sandboxes, current
from zerog.worker.supervisor import FIRST_BACKOFF_SECONDS, Slot, Supervisor
from zerog.worker.tracking import Child

# --- reload ---------------------------------------------------------------------------------

MODULE = """
import zerog

class PartsReloadJob(zerog.BaseJob):
    JOB_TYPE = "{job_type}"
    VERSION = {version}
"""


@pytest.fixture
def job_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[tuple[Path, str]]:
    """A job module of its own for the test (its file, and the job type it defines)."""
    name = f"parts_{request.node.name[:40]}"
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path / f"{name}.py", name
    sys.modules.pop(name, None)


def write(path: Path, version: int) -> None:
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(MODULE.format(job_type=path.stem, version=version))
    os.utime(path, ns=(before + 10**9, before + 10**9))


def test_reload_picks_up_a_changed_module_once(job_module: tuple[Path, str]) -> None:
    path, job_type = job_module
    write(path, 1)
    importlib.import_module(job_type)
    reloader = Reloader()
    reloader.snapshot()
    # Unchanged: nothing happens
    assert reloader.refresh(job_type) is False
    # Changed (same size, too): the new class is registered, once
    write(path, 2)
    assert reloader.refresh(job_type) is True
    assert registry.job_class(job_type).VERSION == 2  # type: ignore[attr-defined]
    assert reloader.refresh(job_type) is False


def test_a_module_that_fails_to_reload_keeps_its_old_code(job_module: tuple[Path, str]) -> None:
    path, job_type = job_module
    write(path, 1)
    importlib.import_module(job_type)
    reloader = Reloader()
    reloader.snapshot()
    path.write_text("this is not python (")
    assert reloader.refresh(job_type) is False
    assert registry.job_class(job_type).VERSION == 1  # type: ignore[attr-defined]


def test_unknown_types_and_modules_without_files_are_left_alone() -> None:
    reloader = Reloader()
    assert reloader.refresh("no_such_type") is False


# --- sandboxes ------------------------------------------------------------------------------


def test_one_thread_enters_an_emptied_sandbox_and_comes_back(tmp_path: Path) -> None:
    boxes = Sandboxes(tmp_path, slot=2, threads=1)
    box = boxes.path(0)
    assert box == tmp_path / "zerog-workers" / "sandbox-2"
    box.mkdir(parents=True)
    (box / "stale").write_text("from a crashed run")
    home = os.getcwd()
    with boxes.entered(0) as entered:
        assert entered == box
        assert current() == box
        assert Path.cwd() == box
        assert list(box.iterdir()) == []
        Path("mine").write_text("x")
    assert os.getcwd() == home
    assert current() is None
    assert list(box.iterdir()) == []


def test_several_threads_get_their_own_sandbox_and_stay_put(tmp_path: Path) -> None:
    boxes = Sandboxes(tmp_path, slot=1, threads=3)
    assert [boxes.path(t).name for t in range(3)] == ["sandbox-3", "sandbox-4", "sandbox-5"]
    home = os.getcwd()
    with boxes.entered(2) as box:
        assert os.getcwd() == home
        assert current() == box


# --- the report pipe ------------------------------------------------------------------------


def test_reports_cross_the_pipe_whole_and_end_of_file_is_seen() -> None:
    read_fd, write_fd = os.pipe()
    reader, reporter = ReportReader(read_fd), Reporter(write_fd)
    try:
        reporter.send(reports.HELLO, worker="w", pid=1)
        reporter.send(reports.START, uuid="u", token=3, ttr=2.0)
        assert reader.read() == [
            {"e": "hello", "worker": "w", "pid": 1},
            {"e": "start", "uuid": "u", "token": 3, "ttr": 2.0},
        ]
        assert reader.read() == []
        reporter.close()
        assert reader.read() == []
        assert reader.closed
    finally:
        reporter.close()
        reader.close()


def test_a_full_pipe_drops_reports_instead_of_blocking() -> None:
    read_fd, write_fd = os.pipe()
    reader, reporter = ReportReader(read_fd), Reporter(write_fd)
    try:
        for _ in range(20_000):  # far more than a pipe holds
            reporter.send(reports.BEAT, jobs=0)
        assert reporter.dropped > 0
        assert all(r == {"e": "beat", "jobs": 0} for r in reader.read())
    finally:
        reporter.close()
        reader.close()


def test_the_supervisor_tracks_leases_from_reports() -> None:
    read_fd, write_fd = os.pipe()
    child = Child(pid=1, slot=0, reader=ReportReader(read_fd))
    reporter = Reporter(write_fd)
    try:
        reporter.send(reports.HELLO, worker="w1", pid=1)
        reporter.send(reports.START, uuid="a", token=1, ttr=2.0)
        reporter.send(reports.START, uuid="b", token=4, ttr=2.0)
        reporter.send(reports.CONTROL, uuid="b", token=4, control="cancel")
        reporter.send(reports.END, uuid="a", token=1)
        child.take_reports()
        assert list(child.runs) == ["b"]
        assert child.runs["b"].lease.worker == "w1"
        assert child.runs["b"].control == "cancel"
        assert child.completed == 1
    finally:
        reporter.close()
        child.reader.close()


# --- process readings -----------------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_stopped_process_reads_as_stopped() -> None:
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        wait_until(lambda: procinfo.sample(sleeper.pid))
        assert not procinfo.sample(sleeper.pid).stopped  # type: ignore[union-attr]
        sleeper.send_signal(signal.SIGSTOP)
        wait_until(lambda: procinfo.sample(sleeper.pid).stopped)  # type: ignore[union-attr]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert procinfo.sample(sleeper.pid) is None


def test_memory_and_cores_are_read() -> None:
    assert procinfo.rss_bytes() > 1 << 20
    assert procinfo.core_count() >= 1


# --- the respawn policy ---------------------------------------------------------------------


def killed(child: Child, supervisor: Supervisor, slot: Slot) -> float:
    """Bury ``child`` as killed by SIGKILL; returns the respawn delay chosen."""
    before = time.monotonic()
    supervisor._plan_respawn(slot, child, signal.SIGKILL, "was killed by SIGKILL")
    assert slot.respawn_at is not None
    return slot.respawn_at - before


@pytest.fixture
def supervisor() -> Supervisor:
    return Supervisor(PoolConfig(settings=Settings(url="memory://"), queues=["q"]))


def test_children_dying_young_back_off_and_a_healthy_one_resets(supervisor: Supervisor) -> None:
    slot = Slot(0)
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    young = Child(pid=1, slot=0, reader=ReportReader(read_fd))
    try:
        delays = [killed(young, supervisor, slot) for _ in range(4)]
        for delay, expected in zip(delays, (1, 2, 4, 8), strict=True):
            assert (
                expected * FIRST_BACKOFF_SECONDS <= delay < expected * FIRST_BACKOFF_SECONDS + 0.05
            )
        young.completed = 1  # one that finished a job was healthy: back to the first delay
        assert killed(young, supervisor, slot) < 2 * FIRST_BACKOFF_SECONDS
    finally:
        young.reader.close()
    assert supervisor.crashed == 5


def test_a_recycled_child_is_replaced_at_once(supervisor: Supervisor) -> None:
    slot = Slot(0, failures=5)
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    child = Child(pid=1, slot=0, reader=ReportReader(read_fd))
    try:
        now = time.monotonic()
        supervisor._plan_respawn(slot, child, ExitCode.RECYCLE << 8, "exited with code 4")
        assert slot.respawn_at is not None
        assert slot.respawn_at <= time.monotonic()
        assert slot.respawn_at >= now
        assert slot.failures == 0
    finally:
        child.reader.close()
    assert supervisor.crashed == 0
