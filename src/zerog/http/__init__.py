"""zerog's HTTP API on tornado: importable handlers, :func:`make_app`, and a server helper.

The routes are those of API.md (jobs by type, a job, lists, operator actions, queues, workers,
a live SSE stream per job, the OpenAPI document, Prometheus metrics, health). Every handler is
importable, so an application can mount the API under its own prefix (:func:`make_app` with
``prefix=``, or :func:`api_routes` in its own Application) next to seed-style handlers.
"""

from zerog.http._base import ApiError, ApiHandler
from zerog.http._context import LOOPBACK_HOSTS, ApiContext, Limits
from zerog.http.app import ApiApplication, api_routes, make_app
from zerog.http.dashboard import DashboardAssetHandler, IndexHandler
from zerog.http.jobs import JobActionHandler, JobHandler, JobListHandler
from zerog.http.metrics import MetricsHandler
from zerog.http.openapi import OpenApiHandler
from zerog.http.openapi import build as openapi_document
from zerog.http.queues import QueueActionHandler, QueueHandler, QueueListHandler, WorkerListHandler
from zerog.http.server import ServerThread, make_server
from zerog.http.stream import JobStreamHandler
from zerog.http.system import HealthHandler, NotFoundHandler, ReadyHandler

__all__ = [
    "LOOPBACK_HOSTS",
    "ApiApplication",
    "ApiContext",
    "ApiError",
    "ApiHandler",
    "DashboardAssetHandler",
    "HealthHandler",
    "IndexHandler",
    "JobActionHandler",
    "JobHandler",
    "JobListHandler",
    "JobStreamHandler",
    "Limits",
    "MetricsHandler",
    "NotFoundHandler",
    "OpenApiHandler",
    "QueueActionHandler",
    "QueueHandler",
    "QueueListHandler",
    "ReadyHandler",
    "ServerThread",
    "WorkerListHandler",
    "api_routes",
    "make_app",
    "make_server",
    "openapi_document",
]
