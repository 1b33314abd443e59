"""The base of every API handler: guards, JSON in and out, and errors as JSON.

Every request passes the same guards in :meth:`ApiHandler.prepare`, before its body is read:
the ``Host`` header (DNS rebinding), the bearer token, the ``Origin`` of a state-changing
request (cross-site request forgery: with no token set, a hostile web page could otherwise POST
to a server on 127.0.0.1), and the declared body size. Bodies are streamed in and dropped past
the limit, so an oversized one costs no memory and ends in a 413 with a JSON error.

Errors are JSON everywhere (``{"error": "..."}``) and never carry a traceback, whatever the
application's ``debug`` setting; the traceback goes to the server's log.
"""

from __future__ import annotations

import http
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import tornado.web

from zerog import errors
from zerog.audit import Actor, acting
from zerog.http._context import ApiContext, default_context
from zerog.http._json import BadJson, parse
from zerog.store import Store
from zerog.store.reads import AmbiguousId

T = TypeVar("T")
log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=utf-8"
API_CSP = "default-src 'none'; frame-ancestors 'none'"  # a JSON answer never runs anything.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiError(tornado.web.HTTPError):
    """An HTTP error whose JSON body is ``{"error": message, **extra}``."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(status)  # no log_message: a client's mistake is not a server warning.
        self.body: dict[str, Any] = {"error": message, **extra}


def error_for(exc: Exception) -> ApiError | None:
    """The HTTP answer to an exception of the store or the job classes; None: a server fault."""
    if isinstance(exc, AmbiguousId):  # several jobs: the client picks one (300).
        return ApiError(300, str(exc), candidates=exc.candidates)
    if isinstance(exc, errors.JobValidationError):
        messages = exc.messages if isinstance(exc.messages, dict) else {"_schema": exc.messages}
        return ApiError(400, str(exc), errors=messages)
    simple: list[tuple[type[Exception], int]] = [
        (errors.JobNotFound, 404),
        (errors.PayloadTooLarge, 413),
        (errors.NotSerializable, 400),
        (errors.InvalidOptions, 400),
        (errors.NotSupported, 501),
        (errors.InboxFull, 429),
    ]
    for kind, status in simple:
        if isinstance(exc, kind):
            return ApiError(status, str(exc))
    if isinstance(exc, errors.BackendUnavailable):  # its text names hosts and paths: log it.
        log.warning("the store is unavailable: %s", exc)
        return ApiError(503, "the job store is unavailable; try again later")
    if isinstance(exc, errors.UnknownJobType):
        return ApiError(404, str(exc), types=exc.known)
    if isinstance(exc, errors.InvalidTransition):
        return ApiError(409, str(exc), state=str(exc.state), action=exc.action)
    if isinstance(exc, errors.BackendError) and not isinstance(exc, errors.ReservationLost):
        # The store refused the write (its disk full, its file read-only): the request was
        # fine, the store is not; the text names paths, so it goes to the log only.
        log.warning("the store failed: %s", exc)
        return ApiError(503, "the job store cannot take this request now; try again later")
    return None


@tornado.web.stream_request_body
class ApiHandler(tornado.web.RequestHandler):
    """JSON in, JSON out, guarded; store calls run on the context's executor."""

    auth_required = True  # /healthz turns it off: a load balancer has no token.

    def initialize(self, api: ApiContext | None = None, route: str | None = None) -> None:
        self.api = api or default_context()
        self._token_name: str | None = None
        self.actor = Actor("unknown", "http")  # set by prepare().
        self.route_template = route  # the metrics' route label (see zerog.http.app.template).
        self._body = bytearray()
        self._body_too_large = False

    def set_default_headers(self) -> None:
        self.clear_header("Server")  # no version string for scanners.
        self.set_header("Content-Type", JSON_TYPE)
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header("Referrer-Policy", "no-referrer")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Content-Security-Policy", API_CSP)

    # --- guards ------------------------------------------------------------------------------

    def prepare(self) -> None:
        if not self.api.host_allowed(self.request.headers.get("Host", "")):
            raise ApiError(403, "this server does not answer to that Host name")
        if self.auth_required and not self._authorized():
            raise ApiError(401, "a valid 'Authorization: Bearer <token>' header is required")
        address = self.request.remote_ip or "unknown"
        self.actor = Actor(self._token_name or address, f"http {address}")
        if self.request.method not in SAFE_METHODS and self._cross_site():
            raise ApiError(403, "cross-site requests may not change anything here")
        if _declared_length(self.request.headers.get("Content-Length")) > (
            self.api.limits.max_body_bytes
        ):
            raise self._too_large()

    def _authorized(self) -> bool:
        """Whether the request carries a token (any, when there is none); the token's name
        (``_token_name``) is then the actor of the request (zerog.audit)."""
        self._token_name = None
        if self.api.token is None:
            return True
        scheme, _, presented = self.request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        self._token_name = self.api.token_name(presented.strip())
        return self._token_name is not None

    def _cross_site(self) -> bool:
        """A browser marks where a request comes from; anything but this site is refused.
        Clients that are not browsers send neither header and pass."""
        site = self.request.headers.get("Sec-Fetch-Site")
        if site is not None:
            return site not in ("same-origin", "none")
        origin = self.request.headers.get("Origin")
        if origin is None:
            return False
        host = self.request.headers.get("Host", "").lower()
        return urlsplit(origin).netloc.lower() != host

    def _too_large(self) -> ApiError:
        limit = self.api.limits.max_body_bytes
        return ApiError(413, f"the request body is over the limit of {limit} bytes")

    # --- the body ----------------------------------------------------------------------------

    def data_received(self, chunk: bytes) -> None:
        if self._body_too_large or len(self._body) + len(chunk) > self.api.limits.max_body_bytes:
            self._body_too_large = True
            self._body = bytearray()  # keep reading (to answer), but keep nothing.
            return
        self._body += chunk

    def json_body(self, empty: Any = None) -> Any:
        """The body as JSON (``empty`` when there is none); 400 or 413 when it cannot be."""
        if self._body_too_large:
            raise self._too_large()
        if not self._body.strip():
            return empty
        try:
            return parse(bytes(self._body), self.api.limits)
        except BadJson as exc:
            raise ApiError(400, f"the request body is not acceptable JSON: {exc}") from None

    # --- parameters --------------------------------------------------------------------------

    def param(self, value: str, what: str) -> str:
        """A path parameter, checked for length."""
        if len(value) > self.api.limits.max_param_chars:
            raise ApiError(400, f"{what} is over {self.api.limits.max_param_chars} characters")
        return value

    def text_arg(self, name: str, empty_is_none: bool = True) -> str | None:
        """A query parameter, checked for length; None when absent (or, with
        ``empty_is_none``, empty: a filter left blank in a form filters nothing)."""
        value = self.get_query_argument(name, None, strip=False)
        if value is None or (empty_is_none and not value):
            return None
        return self.param(value, f"the {name!r} parameter")

    def int_arg(self, name: str, default: int, minimum: int, maximum: int) -> int:
        """An integer query parameter: below ``minimum`` is a 400, above ``maximum`` is
        clamped (a page size asked too large still gets the largest page)."""
        raw = self.text_arg(name, empty_is_none=False)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(400, f"the {name!r} parameter must be an integer") from None
        if value < minimum:
            raise ApiError(400, f"the {name!r} parameter must be at least {minimum}")
        return min(value, maximum)

    # --- calling the store, answering --------------------------------------------------------

    async def call(self, fn: Callable[[Store], T]) -> T:
        """Run ``fn(store)`` off the event loop, as the request's actor (what it changes is
        audited as theirs); store errors become their HTTP answers."""
        actor = self.actor

        def as_actor(store: Store) -> T:
            with acting(actor):
                return fn(store)

        return await self.answer(self.api.run(as_actor))

    async def answer(self, pending: Awaitable[T]) -> T:
        """Await a store operation; its errors become their HTTP answers."""
        try:
            return await pending
        except errors.ZerogError as exc:
            answer = error_for(exc)
            if answer is None:
                raise
            raise answer from None

    def send_json(self, body: Any, status: int = 200) -> None:
        """Finish with a JSON body."""
        self.set_status(status)
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(dumps(body))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        body = exc.body if isinstance(exc, ApiError) else {"error": _phrase(status_code)}
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
        if status_code == 401:
            self.set_header("WWW-Authenticate", 'Bearer realm="zerog"')
        self.set_header("Content-Type", JSON_TYPE)
        self.finish(dumps(body))

    def allowed_methods(self) -> list[str]:
        """The methods this handler class implements (for a 405's ``Allow`` header)."""
        base = tornado.web.RequestHandler
        return [
            method
            for method in ("GET", "POST", "PATCH", "DELETE")
            if getattr(type(self), method.lower()) is not getattr(base, method.lower())
        ]


def dumps(body: Any) -> str:
    """Compact JSON, ASCII-only so that any stored text (even a lone surrogate a job logged)
    can be sent; NaN and infinities are refused as the store refuses them."""
    return json.dumps(body, ensure_ascii=True, allow_nan=False, separators=(",", ":"))


def _declared_length(header: str | None) -> int:
    """The Content-Length a client declared (0 if none); tornado refuses malformed ones
    after this check runs, so a bad value here is a 400 too."""
    if header is None:
        return 0
    try:
        return int(header)
    except ValueError:
        raise ApiError(400, "the Content-Length header is not a number") from None


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase.lower()
    except ValueError:
        return "error"
