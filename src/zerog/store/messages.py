"""The Store's messages part: an operator's message to a job, and its worker taking them
(see :mod:`zerog.inbox` for how a message travels)."""

from __future__ import annotations

import logging
from typing import Any

from zerog import inbox
from zerog.backends.contract import Messages as MessagesRole
from zerog.model import Lease, State
from zerog.store._base import Facade

log = logging.getLogger("zerog.store")


class Messages(Facade):
    """Post and take; NotSupported when the backend has no messages role."""

    def message(
        self, uuid: str, body: Any, queue_if_idle: bool = False, sender: str | None = None
    ) -> State:
        """Send ``body`` (any JSON value, at most :data:`zerog.inbox.MAX_MESSAGE_BYTES`) to
        job ``uuid``; returns its state. A running job reads it within a few seconds
        (``job_log.messages()``); one that is not running gets it at its next run when
        ``queue_if_idle``, else the message is refused (NotRunning). Raises JobNotFound,
        InboxFull, NotSerializable, PayloadTooLarge; nothing is stored then. The sender is
        the current actor (:mod:`zerog.audit`) unless given."""
        sender = sender or self._actor_label()
        entry = inbox.new_message(body, sender, self.clock())
        role = self._role(MessagesRole)
        state = role.post_message(uuid, entry, queue_if_idle, inbox.MAX_PENDING_MESSAGES, sender)
        self._audited("message", uuid, inbox.detail(entry))
        log.info(
            "job %s: message %s (%s)",
            uuid,
            entry["id"],
            state,
            extra={"event": "job.message", "job_id": uuid},
        )
        return state

    def take_messages(self, lease: Lease) -> list[dict[str, Any]]:
        """The messages waiting for a running job, taken (the worker calls this when the
        heartbeat's answer is ``message``). Raises ReservationLost."""
        return self._role(MessagesRole).take_messages(lease)
