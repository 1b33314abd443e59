"""``GET /api/jobs/{uuid}/stream``: a job's progress as Server-Sent Events.

Each ``data:`` line is JSON with ``state``, ``completeness``, ``eta``, ``progress_message`` and
the log lines (and errors) that are new since the previous message; a message is sent only
when something changed. The stream ends after the message that shows a final state, and after
``stream_max_seconds`` (a browser's EventSource then reconnects by itself).

The handler polls the store on the executor, so a stream costs one short store read per poll
interval and holds no thread in between; a client that reads slowly or goes away never holds
up other requests (tornado buffers the little that is written, and a closed connection ends
the loop at its next wait).
"""

from __future__ import annotations

import asyncio
import time

from tornado.iostream import StreamClosedError

from zerog.errors import JobNotFound
from zerog.http._base import ApiHandler, dumps
from zerog.http._context import ApiContext
from zerog.job_changes import Tracker
from zerog.model import Record

RETRY_MILLISECONDS = 2000  # how soon an EventSource reconnects after the stream ends.


class JobStreamHandler(ApiHandler):
    """``GET /api/jobs/{uuid}/stream``."""

    def initialize(self, api: ApiContext | None = None, route: str | None = None) -> None:
        super().initialize(api, route)
        self._gone = asyncio.Event()

    def on_connection_close(self) -> None:
        self._gone.set()

    async def get(self, uuid: str) -> None:
        uuid = self.param(uuid, "the job id")
        record = await self.call(lambda store: store.get(uuid, history=False))
        self.set_header("Content-Type", "text/event-stream; charset=utf-8")
        self.set_header("Cache-Control", "no-cache, no-store")
        self.set_header("X-Accel-Buffering", "no")  # nginx: pass each message on at once.
        try:
            await self._follow(uuid, record)
        except StreamClosedError:
            return  # the client went away: nothing left to do.
        self.finish()

    async def _follow(self, uuid: str, record: Record) -> None:
        limits = self.api.limits
        tracker = Tracker(limits.stream_initial_lines)
        deadline = time.monotonic() + limits.stream_max_seconds
        await self._send(f"retry: {RETRY_MILLISECONDS}\n\n")
        quiet_since = time.monotonic()
        while True:
            message = tracker.message(record)
            if message is not None:
                await self._send(f"data: {dumps(message)}\n\n")
                quiet_since = time.monotonic()
                if message["final"]:
                    return
            elif time.monotonic() - quiet_since >= limits.stream_keepalive_seconds:
                await self._send(": keep-alive\n\n")
                quiet_since = time.monotonic()
            if time.monotonic() >= deadline or not await self._pause(limits.stream_poll_seconds):
                return
            try:
                record = await self.api.run(lambda store: store.get(uuid, history=False))
            except JobNotFound:
                return  # removed while watched: nothing more will happen to it.

    async def _send(self, text: str) -> None:
        if self._gone.is_set():
            raise StreamClosedError()
        self.write(text)
        await self.flush()

    async def _pause(self, seconds: float) -> bool:
        """Wait ``seconds``; False if the client went away meanwhile."""
        try:
            await asyncio.wait_for(self._gone.wait(), timeout=seconds)
        except TimeoutError:
            return True
        return False
