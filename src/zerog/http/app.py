"""Putting the routes together: :func:`make_app` for a whole application, :func:`api_routes`
to mount the API inside an application of your own.

    app = zerog.http.make_app(store, token="s3cret", prefix="/zerog",
                              handlers=[(r"/my_job", MyJobHandler)])
    app.listen(8080, address="127.0.0.1")
    ...
    app.close()  # stops the executor of store calls

Seed-style handlers (like ``zerog.examples.MyJobHandler``) enqueue through the process's default
store (``zerog.use(...)``); give ``make_app`` no store, or the same one, so both see the same jobs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import tornado.web
from tornado.routing import Rule

from zerog.http._context import ApiContext, Limits
from zerog.http.audit import AuditHandler
from zerog.http.batches import BatchHandler
from zerog.http.dashboard import DashboardAssetHandler, IndexHandler
from zerog.http.edits import (
    ConfigHandler,
    ConfigListHandler,
    JobEditHandler,
    LimitHandler,
    RecurringCreateHandler,
    RecurringEditHandler,
)
from zerog.http.failed import GROUP_ACTIONS, FailedGroupActionHandler, FailedGroupsHandler
from zerog.http.jobs import (
    JOB_ACTIONS,
    JobActionHandler,
    JobListHandler,
    StalledJobsHandler,
)
from zerog.http.messages import JobMessageHandler
from zerog.http.metrics import MetricsHandler
from zerog.http.openapi import OpenApiHandler
from zerog.http.operations import DailyStatsHandler, LimitsHandler
from zerog.http.queues import (
    QUEUE_ACTIONS,
    QueueActionHandler,
    QueueHandler,
    QueueListHandler,
    WorkerListHandler,
)
from zerog.http.rates import RateLimitHandler, RateLimitsHandler
from zerog.http.stream import JobStreamHandler
from zerog.http.system import HealthHandler, NotFoundHandler, ReadyHandler
from zerog.store import Store

Route = tuple[Any, ...] | Rule
"""What tornado accepts in an application's rule list: ``(pattern, handler[, kwargs])``."""

SEGMENT = r"([^/]+)"  # one path segment; tornado unquotes it (%2F stays inside the segment).


def api_routes(api: ApiContext) -> list[Route]:
    """Every route of the API, under ``api.prefix``, each handler given ``api``."""
    p = api.prefix
    jobs, queues = "|".join(JOB_ACTIONS), "|".join(QUEUE_ACTIONS)
    table: list[tuple[str, type[tornado.web.RequestHandler]]] = [
        (r"/api/jobs", JobListHandler),
        (rf"/api/jobs/{SEGMENT}/stream", JobStreamHandler),
        (rf"/api/jobs/{SEGMENT}/messages", JobMessageHandler),
        (rf"/api/jobs/{SEGMENT}/({jobs})", JobActionHandler),
        (rf"/api/jobs/{SEGMENT}", JobEditHandler),
        (r"/api/queues", QueueListHandler),
        (rf"/api/queues/{SEGMENT}/({queues})", QueueActionHandler),
        (rf"/api/queues/{SEGMENT}", QueueHandler),
        (r"/api/workers", WorkerListHandler),
        (r"/api/recurring", RecurringCreateHandler),
        (rf"/api/recurring/{SEGMENT}", RecurringEditHandler),
        (r"/api/stalled", StalledJobsHandler),
        (r"/api/audit", AuditHandler),
        (rf"/api/batches/{SEGMENT}", BatchHandler),
        (r"/api/failed", FailedGroupsHandler),
        (rf"/api/failed/{SEGMENT}/({'|'.join(GROUP_ACTIONS)})", FailedGroupActionHandler),
        (r"/api/limits", LimitsHandler),
        (r"/api/rate-limits", RateLimitsHandler),
        (rf"/api/rate-limits/{SEGMENT}", RateLimitHandler),
        (rf"/api/limits/{SEGMENT}", LimitHandler),
        (r"/api/config", ConfigListHandler),
        (rf"/api/config/{SEGMENT}", ConfigHandler),
        (r"/api/stats/daily", DailyStatsHandler),
        (r"/api/openapi\.json", OpenApiHandler),
        (r"/metrics", MetricsHandler),
        (r"/healthz", HealthHandler),
        (r"/readyz", ReadyHandler),
        (r"/", IndexHandler),
        (r"/dashboard/(.+)", DashboardAssetHandler),
    ]
    return [
        (p + pattern, handler, {"api": api, "route": p + template(pattern)})
        for pattern, handler in table
    ]


PARAMETER_NAMES = {
    "jobs": "{uuid}",
    "queues": "{name}",
    "recurring": "{id}",
    "failed": "{group}",
    "limits": "{name}",
    "config": "{key}",
}


def template(pattern: str) -> str:
    """A route's pattern as people write it (``/api/jobs/{uuid}/{action}``): the ``route``
    label of the request metrics, which must not hold the ids of a path (one series per job
    would grow without bound)."""
    text = pattern.replace("\\.", ".").replace("(.+)", "{file}")
    for noun, name in PARAMETER_NAMES.items():
        text = text.replace(f"/{noun}/{SEGMENT}", f"/{noun}/{name}")
    return re.sub(r"\([a-z|]+\)", "{action}", text)


class ApiApplication(tornado.web.Application):
    """A tornado Application serving the API; ``close()`` stops its executor."""

    def __init__(self, api: ApiContext, routes: list[Route], **settings: Any) -> None:
        settings.setdefault("default_handler_class", NotFoundHandler)
        settings.setdefault("default_handler_args", {"api": api, "route": "unmatched"})
        super().__init__(routes, **settings)
        self.api = api

    def log_request(self, handler: tornado.web.RequestHandler) -> None:
        super().log_request(handler)
        self.api.http_metrics.observe(handler)

    def close(self) -> None:
        """Release what the application holds (its executor, if it made it)."""
        self.api.close()


def make_app(
    store: Store | None = None,
    token: str | Iterable[str] | None = None,
    prefix: str = "",
    *,
    handlers: Sequence[Route] = (),
    limits: Limits | None = None,
    executor: ThreadPoolExecutor | None = None,
    allowed_hosts: Iterable[str] | None = None,
    **settings: Any,
) -> ApiApplication:
    """The HTTP API as a tornado Application.

    Args:
        store: the store to serve; None means the process's default store.
        token: when set, every route but ``/healthz`` and ``/readyz`` needs
            ``Authorization: Bearer <token>``. Several may be given; one written
            ``NAME=SECRET`` is named, and its name is the actor of what its holder does
            (the audit trail, the jobs' history); else the client's address is.
        prefix: mount the routes under this path (``"/zerog"``); ``handlers`` are not prefixed.
        handlers: more routes (seed-style handlers), matched before the API's.
        limits: body, parameter and page bounds, executor size, stream timings.
        executor: run store calls here instead of a pool the application makes and owns.
        allowed_hosts: answer only requests whose ``Host`` is one of these (None: any).
        settings: passed to ``tornado.web.Application``.
    """
    api = ApiContext(
        store=store,
        token=token,
        limits=limits,
        executor=executor,
        allowed_hosts=allowed_hosts,
        prefix=prefix,
    )
    return ApiApplication(api, [*handlers, *api_routes(api)], **settings)
