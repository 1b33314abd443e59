"""Job routes: enqueue by type, read one job, list jobs, operator actions.

``POST /api/jobs/{type}`` is the seed's handler made general: the body is the job's values,
validated by the job class's marshmallow schema through ``make_base_job``, exactly as a
seed-style handler does (``make_my_job(values=params).enqueue()``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from zerog import registry
from zerog.errors import JobNotFound
from zerog.http._base import ApiError, ApiHandler
from zerog.http._describe import describe
from zerog.http._validate import check_values
from zerog.jobs import make_base_job
from zerog.model import ALL_STATES, Record, State
from zerog.record import JobSpec
from zerog.store import Store

JOB_ACTIONS = ("cancel", "retry", "pause", "resume", "timeout")
STATE_NAMES = frozenset(state.value for state in ALL_STATES)
SUMMARY_LEFT_OUT = frozenset(
    {"values", "events", "errors", "result", "samples", "history", "inbox"}
)
"""Keys a list leaves out: each may be up to a megabyte, and a page holds 500 jobs."""
NOT_AN_OBJECT = {"_schema": ["the job's values must be a JSON object"]}
PRIORITY_BOUND = 2**31  # priorities are stored as 64-bit integers; this leaves room.
MAX_DELAY_SECONDS = 10 * 365 * 86400.0  # ten years: longer is a typo, not a schedule.


@dataclass(frozen=True)
class EnqueueOptions:
    """What the query string of ``POST /api/jobs/{type}`` may add to the values."""

    priority: int | None = None
    delay: float = 0.0
    tags: tuple[str, ...] = ()


class JobHandler(ApiHandler):
    """``GET /api/jobs/{uuid}``: one job. ``POST /api/jobs/{type}``: enqueue a job."""

    async def get(self, uuid: str) -> None:
        """A short id (a unique prefix, or the last digits lists show) finds its job too."""
        text = self.param(uuid, "the job id")
        record = await self.call(lambda store: store.get(store.resolve_id(text)))
        self.send_json(record)

    async def delete(self, uuid: str) -> None:
        """Delete a finished job and its history; 409 while it is not finished, 501 on a
        backend that cannot delete."""
        text = self.param(uuid, "the job id")

        def delete(store: Store) -> str:
            found = store.resolve_id(text)
            if not store.delete(found):
                raise JobNotFound(found)
            return found

        deleted = await self.call(delete)
        self.send_json({"uuid": deleted, "deleted": True})

    async def post(self, job_type: str) -> None:
        job_type = self.param(job_type, "the job type")
        values = self.json_body(empty={})
        if not isinstance(values, dict):  # make_base_job would take null for {}; not here.
            raise ApiError(400, "the body must be a JSON object", errors=NOT_AN_OBJECT)
        options = self._options()
        spec = await self.call(lambda _: job_spec(job_type, values, options))
        uuid = await self.answer(self.api.batcher.enqueue(spec))
        self.set_header("Location", f"{self.api.prefix}/api/jobs/{uuid}")
        self.send_json({"uuid": uuid}, 201)

    def allowed_methods(self) -> list[str]:
        """POST for a job type, GET for anything else (a job id)."""
        args = getattr(self, "path_args", None)  # unset when the method itself is unknown.
        segment = args[0] if args else ""
        return ["POST"] if segment in registry.known_types() else ["GET", "DELETE"]

    def _options(self) -> EnqueueOptions:
        tags = tuple(self.get_query_arguments("tag", strip=False))
        if len(tags) > self.api.limits.max_tags:
            raise ApiError(400, f"at most {self.api.limits.max_tags} tags may be given")
        return EnqueueOptions(
            priority=self._priority(),
            delay=self._delay(),
            tags=tuple(self.param(tag, "a tag") for tag in tags if tag),
        )

    def _priority(self) -> int | None:
        raw = self.text_arg("priority", empty_is_none=False)
        if raw is None:
            return None
        try:
            priority = int(raw)
        except ValueError:
            raise ApiError(400, "the 'priority' parameter must be an integer") from None
        if not -PRIORITY_BOUND <= priority <= PRIORITY_BOUND:
            raise ApiError(400, f"the 'priority' parameter must be within +-{PRIORITY_BOUND}")
        return priority

    def _delay(self) -> float:
        raw = self.text_arg("delay", empty_is_none=False)
        if raw is None:
            return 0.0
        try:
            delay = float(raw)
        except ValueError:
            raise ApiError(400, "the 'delay' parameter must be a number of seconds") from None
        if not 0 <= delay <= MAX_DELAY_SECONDS or math.isnan(delay):
            raise ApiError(400, f"the 'delay' parameter must be 0..{MAX_DELAY_SECONDS:.0f} s")
        return delay


def job_spec(job_type: str, values: Any, options: EnqueueOptions) -> JobSpec:
    """Validate with the type's schema and make the spec to store (runs on the executor:
    the first lookup of a type imports the job modules)."""
    check_values(job_type, values)  # the published document first: see _validate.
    job = make_base_job(values, job_type)
    capture = _SpecCapture()
    job.enqueue(priority=options.priority, delay=options.delay, tags=options.tags, store=capture)
    assert capture.spec is not None
    return capture.spec


class _SpecCapture(Store):
    """Stands in for the store in ``BaseJob.enqueue`` and keeps the spec it is given, so that
    ``BaseJob.enqueue`` stays the one place where a job becomes a spec (class defaults for
    priority, TTR, TTL and retries included), while the storing is batched."""

    def __init__(self) -> None:  # no backend: nothing is ever stored through it.
        self.spec: JobSpec | None = None

    def enqueue(self, spec: JobSpec) -> str:
        self.spec = spec
        return spec.uuid or ""


class JobListHandler(ApiHandler):
    """``GET /api/jobs``: a page of jobs, newest first, with the cursor of the next page."""

    async def get(self) -> None:
        state = self.text_arg("state", empty_is_none=False)
        if state is not None and state not in STATE_NAMES:
            raise ApiError(400, f"unknown state {state!r}", states=sorted(STATE_NAMES))
        limits = self.api.limits
        query: dict[str, Any] = {
            "state": state,
            "queue": self.text_arg("queue"),
            "type": self.text_arg("type"),
            "tag": self.text_arg("tag"),
            "worker": self.text_arg("worker"),
            "limit": self.int_arg("limit", limits.default_page, 1, limits.max_page),
            "cursor": self.text_arg("cursor", empty_is_none=False),
        }
        if query["cursor"] == "":
            raise ApiError(400, "the 'cursor' parameter is empty")
        self.send_json(await self.call(lambda store: page_of(store, query)))


def page_of(store: Store, query: dict[str, Any]) -> dict[str, Any]:
    """One page as the API shows it; a cursor this server did not make is a 400."""
    try:
        page = store.list(**query)
    except (ValueError, OverflowError):
        raise ApiError(400, "the cursor is not one this server gave out") from None
    return {"jobs": [summary(store.shown(r)) for r in page.records], "cursor": page.cursor}


def summary(record: Record) -> Record:
    """A job in a list (as Store.shown gives it): everything but its bulky parts, plus what
    says what it is (``description``), what it said last (``last_message``) and its last
    error."""
    out = {key: value for key, value in record.items() if key not in SUMMARY_LEFT_OUT}
    out["description"] = describe(record)
    events = record.get("events") or []
    out["last_message"] = record.get("progress_message") or (
        events[-1].get("msg") if events else None
    )
    errors = record.get("errors") or []
    last = errors[-1] if errors else None
    out["last_error"] = (
        None if last is None else {k: last.get(k) for k in ("timeStamp", "errorCode", "msg")}
    )
    return out


class StalledJobsHandler(ApiHandler):
    """``GET /api/stalled``: running jobs with no progress past their stall threshold
    (zerog.stalls)."""

    async def get(self) -> None:
        queue = self.text_arg("queue")
        records = await self.call(lambda store: store.stalled(queue))
        self.send_json({"jobs": [summary(record) for record in records]})


class JobActionHandler(ApiHandler):
    """``POST /api/jobs/{uuid}/{cancel,retry,pause,resume,timeout}``; 409 when the state
    forbids it.

    Cancel and pause of a running job are requests: the job's worker learns of them at its
    next heartbeat and settles the job itself, so the answer says ``requested`` and the job
    is still ``running``. A timeout ends a running job's lease and takes it back at once.
    """

    async def post(self, uuid: str, action: str) -> None:
        text = self.param(uuid, "the job id")
        uuid = await self.call(lambda store: store.resolve_id(text))
        if action == "timeout":
            state = await self.call(lambda store: store.timeout(uuid))
        else:
            state = await self.call(lambda store: store.act(uuid, action))
        requested = state == State.RUNNING and action != "timeout"
        self.send_json(
            {"uuid": uuid, "action": action, "state": str(state), "requested": requested}
        )
