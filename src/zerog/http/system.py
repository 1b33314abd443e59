"""``/healthz``, the placeholder page at ``/``, and the JSON 404 for every other path."""

from __future__ import annotations

import asyncio
import html
import logging

from zerog import __version__
from zerog.http._base import ApiError, ApiHandler
from zerog.http._stats import full_counts

PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"
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


class IndexHandler(ApiHandler):
    """``GET /``: a minimal page until the dashboard comes; every shown value is escaped."""

    async def get(self) -> None:
        counts = await self.call(lambda store: store.counts())
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("Content-Security-Policy", PAGE_CSP)
        self.finish(page(counts, self.api.prefix))


def page(counts: dict[str, dict[str, int]], prefix: str) -> str:
    """The page's HTML: one row per queue, counts per state."""
    rows = []
    for queue, per_state in sorted(counts.items()):
        cells = "".join(f"<td>{n}</td>" for n in full_counts(per_state).values())
        rows.append(f"<tr><th>{html.escape(queue)}</th>{cells}</tr>")
    header = "".join(f"<th>{html.escape(s)}</th>" for s in full_counts({}))
    base = html.escape(prefix, quote=True)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>zerog</title>"
        "<style>body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em}</style>"
        f"</head><body><h1>zerog {html.escape(__version__)}</h1>"
        "<p>The dashboard is coming. Meanwhile: "
        f'<a href="{base}/api/openapi.json">the API document</a>, '
        f'<a href="{base}/api/jobs">jobs</a>, <a href="{base}/metrics">metrics</a>.</p>'
        f"<table><tr><th>queue</th>{header}</tr>{''.join(rows)}</table></body></html>"
    )


class NotFoundHandler(ApiHandler):
    """Any path no route matches: a JSON 404 (after the guards, so that without the token
    nothing tells which paths exist)."""

    def prepare(self) -> None:
        super().prepare()
        raise ApiError(404, "no such route")
