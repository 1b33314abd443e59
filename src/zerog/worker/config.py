"""How a pool of worker processes is set up: what ``zerog worker`` hands its supervisor."""

from __future__ import annotations

from dataclasses import dataclass

from zerog.settings import Settings
from zerog.worker.batch import DEFAULT_BATCH

CANCEL_GRACE_SECONDS = 10.0  # a cancelled job that has not stopped by then loses its process.


@dataclass(frozen=True, kw_only=True)
class PoolConfig:
    """Everything a supervisor and its children need; the store is opened from ``settings``.

    A ``sqlite://`` URL in ``settings`` should name an absolute path: a child whose job runs in
    its sandbox directory may open connections after moving there.
    """

    settings: Settings
    queues: list[str]
    workers: int = 1  # child processes.
    threads: int = 1  # jobs run at once in each child.
    burst: bool = False  # each child exits once nothing is ready.
    workdir: str | None = None  # sandboxes: <workdir>/zerog-workers/sandbox-<k>.
    max_jobs: int | None = None  # a child retires after about this many jobs...
    max_memory_bytes: int | None = None  # ...or once its resident memory is above this.
    cancel_grace_seconds: float = CANCEL_GRACE_SECONDS
    reload: bool = True  # reload a job's module when its file changed.
    batch: int = DEFAULT_BATCH  # most jobs a consumer claims at once (see zerog.worker.batch).
