"""``/healthz``, and the JSON 404 for every path no route matches."""

from __future__ import annotations

import asyncio
import logging

from zerog.http._base import ApiError, ApiHandler

HEALTH_TIMEOUT_SECONDS = 5.0  # a store slower than this to read one job is not healthy.
log = logging.getLogger(__name__)


class HealthHandler(ApiHandler):
    """``GET /healthz``: 200 when the store answers a one-job read, else 503. Open without
    the token (load balancers have none) and says nothing but ``ok`` or ``unavailable``."""

    auth_required = False

    async def get(self) -> None:
        try:
            await asyncio.wait_for(
                self.api.run(lambda store: store.list(limit=1)), HEALTH_TIMEOUT_SECONDS
            )
        except Exception:  # any failure means unhealthy; the reason goes to the log only.
            log.warning("health check failed", exc_info=True)
            self.send_json({"status": "unavailable"}, 503)
            return
        self.send_json({"status": "ok"})


class NotFoundHandler(ApiHandler):
    """Any path no route matches: a JSON 404 (after the guards, so that without the token
    nothing tells which paths exist)."""

    def prepare(self) -> None:
        super().prepare()
        raise ApiError(404, "no such route")
