"""Requests this server process answered: counts and durations per route and status.

The route label is the route's template (``/api/jobs/{uuid}``), never the raw path: a path
holds job ids and queue names, and one label value per job would grow without bound. A path
no route matches is ``unmatched``; a handler an application mounted itself, with no template,
is labelled by its class name (a fixed set too).
"""

from __future__ import annotations

import threading
from collections import Counter

import tornado.web

from zerog.http import _prom


class HttpMetrics:
    """Process-local request counters and a duration histogram per route."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[tuple[str, str, str]] = Counter()
        self.durations: dict[tuple[tuple[str, str], ...], _prom.Histogram] = {}

    def observe(self, handler: tornado.web.RequestHandler) -> None:
        """Count one finished request (called by the application's ``log_request``)."""
        route = route_of(handler)
        method = handler.request.method or "?"
        status = str(handler.get_status())
        seconds = handler.request.request_time()
        with self._lock:
            self.requests[(method, route, status)] += 1
            key = (("route", route),)
            if key not in self.durations:
                self.durations[key] = _prom.Histogram()
            self.durations[key].observe(seconds)

    def lines(self) -> list[str]:
        """Both families in the text format."""
        with self._lock:
            requests = sorted(self.requests.items())
            durations = {key: _copy(histogram) for key, histogram in sorted(self.durations.items())}
        out = _prom.family(
            "zerog_http_requests_total",
            "counter",
            "HTTP requests answered by this server process, by method, route and status.",
            (
                (count, {"method": method, "route": route, "status": status})
                for (method, route, status), count in requests
            ),
        )
        out.extend(
            _prom.histogram_family(
                "zerog_http_request_duration_seconds",
                "Time to answer a request, by route (this server process; a live stream "
                "counts its whole life).",
                durations,
            )
        )
        return out


def _copy(histogram: _prom.Histogram) -> _prom.Histogram:
    copy = _prom.Histogram(histogram.buckets)
    copy.counts = list(histogram.counts)
    copy.total, copy.count = histogram.total, histogram.count
    return copy


def route_of(handler: tornado.web.RequestHandler) -> str:
    """The ``route`` label of a request (see the module's docstring)."""
    template = getattr(handler, "route_template", None)
    return str(template) if template else type(handler).__name__
