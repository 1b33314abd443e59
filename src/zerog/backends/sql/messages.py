"""The messages role on the SQL engine: a job's inbox is a key of its document.

Both steps read the whole row (a message is rare next to a heartbeat: the worker takes the
inbox only when the heartbeat's answer says one waits) and write back the inbox and the
``control`` column in the same transaction as the history entry.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any, TypeVar

from zerog import inbox
from zerog.backends.sql.rows import record_of
from zerog.backends.sql.steps.settle import held
from zerog.backends.sql.txn import Txn, write
from zerog.errors import JobNotFound
from zerog.model import Control, Lease, Record, State

T = TypeVar("T")
MESSAGE = Control.MESSAGE.value


class SqlMessages(abc.ABC):
    """Mixed into :class:`~.backend.SqlBackend`: post and take, each one transaction."""

    @abc.abstractmethod
    def transact(self, body: Callable[[Txn], T]) -> T:
        """See SqlBackend.transact."""

    def post_message(
        self,
        uuid: str,
        message: dict[str, Any],
        queue_if_idle: bool,
        limit: int,
        worker: str | None = None,
    ) -> State:
        def step(txn: Txn) -> State:
            row = txn.conn.execute(txn.q.job, (uuid,)).fetchone()
            if row is None:
                raise JobNotFound(uuid)
            seq, record = row[0], record_of(row)
            waiting = record.get("inbox") or []
            state = record["state"]
            event = inbox.admit(uuid, state, len(waiting), queue_if_idle, limit)
            after: Record = {"inbox": [*waiting, message]}
            if state == State.RUNNING.value and not record["control"]:
                after["control"] = MESSAGE
            write(txn.conn, seq, {}, after)
            txn.log(seq, event, state, worker, inbox.detail(message))
            return State(state)

        return self.transact(step)

    def take_messages(self, lease: Lease) -> list[dict[str, Any]]:
        def step(txn: Txn) -> list[dict[str, Any]]:
            job = held(txn.conn, lease, False)  # ReservationLost: nothing is taken.
            record = record_of(txn.conn.execute(txn.q.job, (lease.uuid,)).fetchone())
            taken: list[dict[str, Any]] = record.get("inbox") or []
            after: Record = {}
            if taken:
                after["inbox"] = []
            if job.record["control"] == MESSAGE:
                after["control"] = None
            write(txn.conn, job.seq, {}, after)
            return taken

        return self.transact(step)
