"""The messages role on Redis: a job's inbox is a field of its hash (JSON text), changed only
by the scripts ``lua/message.lua`` and ``lua/take_messages.lua``."""

from __future__ import annotations

import json
from typing import Any

from zerog import inbox
from zerog.backends.redis import _codec
from zerog.backends.redis._base import RedisBase
from zerog.model import Lease, State


class MessagesPart(RedisBase):
    """Post and take, one script each."""

    def post_message(
        self,
        uuid: str,
        message: dict[str, Any],
        queue_if_idle: bool,
        limit: int,
        worker: str | None = None,
    ) -> State:
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
        reply = self.script(
            "message",
            uuid,
            text,
            "1" if queue_if_idle else "0",
            str(int(limit)),
            _codec.worker_text(worker),
            inbox.detail(message),
            uuid=uuid,
        )
        return State(_codec.s(reply[1]))

    def take_messages(self, lease: Lease) -> list[dict[str, Any]]:
        reply = self.script(
            "take_messages", lease.uuid, lease.token, uuid=lease.uuid, token=lease.token
        )
        taken: list[dict[str, Any]] = json.loads(reply[1])
        return taken
