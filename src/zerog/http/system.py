"""``/healthz`` (the process serves), ``/readyz`` (the store takes a write now), and the JSON
404 for every path no route matches.

Liveness and readiness are two questions: a server whose store is down is alive (restarting it
helps nothing) but not ready (a load balancer should send its requests elsewhere)."""

from __future__ import annotations

import asyncio
import logging

from zerog.http._base import ApiError, ApiHandler

HEALTH_TIMEOUT_SECONDS = 5.0  # a store slower than this to take its probe is not ready.
log = logging.getLogger(__name__)


class HealthHandler(ApiHandler):
    """``GET /healthz``: 200 while the process serves requests; it asks nothing of the store.
    Open without the token (load balancers have none)."""

    auth_required = False

    async def get(self) -> None:
        self.send_json({"status": "ok"})


class ReadyHandler(ApiHandler):
    """``GET /readyz``: 200 when the store takes a write now (a probe that changes nothing a
    reader sees), else 503: a full disk, a read-only file, a server away. Open without the
    token; says nothing but ``ready`` or ``unavailable`` (the reason goes to the log)."""

    auth_required = False

    async def get(self) -> None:
        try:
            await asyncio.wait_for(
                self.api.run(lambda store: store.backend.ping(write=True)), HEALTH_TIMEOUT_SECONDS
            )
        except Exception:  # any failure means not ready; the reason goes to the log only.
            log.warning("readiness check failed", exc_info=True)
            self.send_json({"status": "unavailable"}, 503)
            return
        self.send_json({"status": "ready"})


class NotFoundHandler(ApiHandler):
    """Any path no route matches: a JSON 404 (after the guards, so that without the token
    nothing tells which paths exist)."""

    def prepare(self) -> None:
        super().prepare()
        raise ApiError(404, "no such route")
