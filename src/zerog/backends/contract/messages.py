"""The messages role: operators tell a running job something; its worker takes the messages.

How a message travels (:mod:`zerog.inbox`): the post appends it to the job's ``inbox`` and
its history and, for a running job, sets ``control`` to ``message``; the worker sees that in
the answer of its next heartbeat (:meth:`Backend.touch`/``save``) and takes the inbox.
"""

from __future__ import annotations

import abc
from typing import Any

from zerog.model import Lease, State


class Messages(abc.ABC):
    """An inbox per job, filled by operators and emptied by the job's worker."""

    @abc.abstractmethod
    def post_message(
        self,
        uuid: str,
        message: dict[str, Any],
        queue_if_idle: bool,
        limit: int,
        worker: str | None = None,
    ) -> State:
        """Append ``message`` (a JSON object, see :func:`zerog.inbox.new_message`) to the
        job's ``inbox`` and a history entry (the event :func:`zerog.inbox.admit` names,
        ``worker`` as who sent it, :func:`zerog.inbox.detail` as its detail), in one step;
        return the job's state. A running job's ``control`` becomes ``message`` unless a
        cancel or pause is pending. Raises JobNotFound; NotRunning (a finished job, or one
        not running without ``queue_if_idle``) or InboxFull (``limit`` messages wait
        already), as :func:`zerog.inbox.admit` says; nothing changes then."""

    @abc.abstractmethod
    def take_messages(self, lease: Lease) -> list[dict[str, Any]]:
        """The job's inbox, oldest first, emptied in the same step; a ``control`` of
        ``message`` goes back to none (a pending cancel or pause stays). An empty list when
        none waits. Raises ReservationLost if the lease is no longer held (the messages
        stay, for the job's next run)."""
