"""How the worker words a process's death, on real processes and signals: a SIGKILL is named
out of memory only with a reason to think so; and which jobs may run in a process of their own."""

from __future__ import annotations

import os
import signal
import time

from tests.worker import resource_jobs  # noqa: F401 - registers res_alloc.
from zerog.jobs import make_base_job
from zerog.worker import oom
from zerog.worker.isolate import Policy, policy_of

MIB = 1 << 20


def killed_status(signum: int) -> int:
    """The wait status of a real child killed by ``signum``."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child only waits to be killed.
        time.sleep(60)
        os._exit(0)
    os.kill(pid, signum)
    _, status = os.waitpid(pid, 0)
    return status


def test_a_sigkill_over_the_limit_is_named_out_of_memory() -> None:
    status = killed_status(signal.SIGKILL)
    words = oom.describe_death(status, 300 * MIB, 100 * MIB, None, "--max-memory")
    assert words == (
        "was killed by SIGKILL: out of memory (its resident size reached 300 MiB, over "
        "--max-memory of 100 MiB)"
    )


def test_a_sigkill_under_the_limit_or_another_signal_is_only_named() -> None:
    killed = killed_status(signal.SIGKILL)
    assert oom.describe_death(killed, 50 * MIB, 100 * MIB, None) == "was killed by SIGKILL"
    assert oom.describe_death(killed, 300 * MIB, None, None) == "was killed by SIGKILL"
    terminated = killed_status(signal.SIGTERM)
    assert oom.describe_death(terminated, 300 * MIB, 100 * MIB, None) == "was killed by SIGTERM"


def test_the_cgroup_count_when_there_is_one_is_a_number() -> None:
    # (this machine's cgroup may be v1 or v2; a count that did not rise names nothing)
    count = oom.kills()
    assert count is None or count >= 0
    killed = killed_status(signal.SIGKILL)
    assert oom.describe_death(killed, None, None, count) == "was killed by SIGKILL"


def test_who_runs_in_a_process_of_its_own() -> None:
    job = make_base_job({}, "res_alloc")
    record = {"queue": "q", "kind": "class"}
    assert policy_of(job, record, {}) == Policy()
    assert policy_of(job, {**record, "memory_limit_mb": 64}, {}) == Policy(True, 64 * MIB)
    assert policy_of(job, record, {"q-isolate": "process"}) == Policy(True, None)
    assert policy_of(job, record, {"q-memory-limit-mb": "32"}) == Policy(True, 32 * MIB)
    # a qless job speaks to the store from its run: it stays on a thread
    assert policy_of(job, {**record, "kind": "qless"}, {"q-memory-limit-mb": 32}) == Policy()
