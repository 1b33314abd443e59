"""The memory backend's messages role: a job's inbox is a list in its record."""

from __future__ import annotations

import json
from typing import Any

from zerog import inbox
from zerog.backends.memory._base import MemoryState
from zerog.errors import JobNotFound, ReservationLost
from zerog.model import Control, Lease, State


class MemoryMessages(MemoryState):
    """Messages posted to jobs and taken by their workers, each under the one lock."""

    def post_message(
        self,
        uuid: str,
        message: dict[str, Any],
        queue_if_idle: bool,
        limit: int,
        worker: str | None = None,
    ) -> State:
        stored = json.loads(json.dumps(message))  # a copy: the caller keeps its own.
        with self._atomic() as now:
            record = self._jobs.get(uuid)
            if record is None:
                raise JobNotFound(uuid)
            waiting = record.get("inbox") or []
            state = record["state"]
            event = inbox.admit(uuid, state, len(waiting), queue_if_idle, limit)
            record["inbox"] = [*waiting, stored]
            if state == State.RUNNING.value and not record["control"]:
                record["control"] = Control.MESSAGE.value
            self._log(uuid, now, event, state, worker, inbox.detail(stored))
            return State(state)

    def take_messages(self, lease: Lease) -> list[dict[str, Any]]:
        with self._atomic():
            record = self._jobs.get(lease.uuid)
            if (
                record is None
                or record["state"] != State.RUNNING.value
                or record["lease_token"] != lease.token
            ):
                raise ReservationLost(lease.uuid, lease.token)
            taken: list[dict[str, Any]] = record.get("inbox") or []
            record["inbox"] = []
            if record["control"] == Control.MESSAGE.value:
                record["control"] = None
            copies: list[dict[str, Any]] = json.loads(json.dumps(taken))
            return copies
