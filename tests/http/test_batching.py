"""Group commit: concurrent POSTs are stored in shared transactions, each answered on its own."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from tests.http.conftest import Reply, Serve
from tests.http.http_jobs import RICH_TYPE
from zerog.backends.memory import MemoryBackend
from zerog.model import Placed
from zerog.record import Record
from zerog.settings import Settings
from zerog.store import Store


class SlowBatchBackend(MemoryBackend):
    """Each write takes 50 ms (a slow disk), and the sizes of the batches are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []
        self._lock = threading.Lock()

    def put_many(self, records: Iterable[Record]) -> list[Placed]:
        batch = list(records)
        time.sleep(0.05)
        with self._lock:
            self.batches.append(len(batch))
        return super().put_many(batch)


def post_all(api_post: object, bodies: list[dict[str, object]]) -> list[Reply]:
    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(api_post, bodies))  # type: ignore[arg-type]


def test_concurrent_posts_share_transactions(serve: Serve) -> None:
    # Given a store whose every write is slow,
    backend = SlowBatchBackend()
    store = Store(backend, Settings(url="memory://"))
    api = serve(store)
    # When 40 jobs are posted at once,
    replies = post_all(
        lambda body: api.post(f"/api/jobs/{RICH_TYPE}", body),
        [{"title": f"job {n}"} for n in range(40)],
    )
    # Then each got its own uuid, each job is stored, in fewer writes than jobs.
    assert [r.status for r in replies] == [201] * 40
    uuids = {r.json()["uuid"] for r in replies}
    assert len(uuids) == 40
    assert {store.get(u)["values"]["title"] for u in uuids} == {f"job {n}" for n in range(40)}
    assert sum(backend.batches) == 40
    assert len(backend.batches) < 40


def test_one_bad_job_fails_alone(serve: Serve) -> None:
    # Given a store with a small limit on values, and slow writes so that jobs batch up,
    backend = SlowBatchBackend()
    store = Store(backend, Settings(url="memory://", max_values_bytes=200))
    api = serve(store)
    bodies: list[dict[str, object]] = [{"title": f"ok {n}"} for n in range(10)]
    bodies.insert(5, {"title": "big", "note": "x" * 100, "labels": ["y" * 20] * 5})
    # When they are posted at once,
    replies = post_all(lambda body: api.post(f"/api/jobs/{RICH_TYPE}", body), bodies)
    # Then only the oversized one is refused, and the others are stored.
    statuses = [r.status for r in replies]
    assert statuses[5] == 413
    assert statuses[:5] + statuses[6:] == [201] * 10
    assert sum(store.counts().get("http_test", {}).values()) == 10
