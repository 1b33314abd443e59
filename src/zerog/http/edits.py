"""The operator's edits over HTTP, the same ones the CLI and :class:`zerog.store.Store` make:
a job's priority, queue and tags; concurrency limits; the store's shared config; creating and
changing recurring jobs.

Each calls the very Store method the CLI calls, through :meth:`ApiHandler.call`, so the audit
trail names the request's actor (the token's name, else the client's address) and its source
(``http <address>``), as for every other action of the API. A body is checked in full before
anything is changed (:mod:`zerog.http._bodies`): a bad one is a 400 and changes nothing.
"""

from __future__ import annotations

from typing import Any

from zerog import config as configuration
from zerog.errors import UnknownJobType
from zerog.http import _bodies as b
from zerog.http._base import ApiError, ApiHandler
from zerog.http._validate import check_values
from zerog.http.jobs import JobHandler, summary
from zerog.http.operations import RecurringHandler
from zerog.http.queues import RecurringListHandler
from zerog.model import Change
from zerog.recurrence import RecurSpec
from zerog.store import Store


class JobEditHandler(JobHandler):
    """``PATCH /api/jobs/{uuid}`` with ``{"priority", "queue", "add_tags", "remove_tags"}``
    (any of them): one :meth:`Store.alter`. 409 when the job is running or finished and the
    priority or queue is to change (tags change in any state)."""

    async def patch(self, uuid: str) -> None:
        text = self.param(uuid, "the job id")
        body = b.checked(self.json_body(), b.JOB_EDIT, at_least_one=True)
        change = Change(
            priority=body.get("priority"),
            queue=body.get("queue"),
            add_tags=tuple(body.get("add_tags") or ()),
            remove_tags=tuple(body.get("remove_tags") or ()),
        )

        def alter(store: Store) -> dict[str, Any]:
            record = store.alter(store.resolve_id(text), change)
            return summary(store.shown(record))

        self.send_json(await self.call(alter))

    def allowed_methods(self) -> list[str]:
        found = super().allowed_methods()
        return found if found == ["POST"] else [*found, "PATCH"]


class LimitHandler(ApiHandler):
    """``POST /api/limits/{name}`` ``{"maximum": N}``: set a limit (``queue:<queue>`` is a
    queue's own; any other name a throttle). ``DELETE``: remove it (404 when unset). 501 on
    a backend without limits."""

    async def post(self, name: str) -> None:
        limit = self.param(name, "the limit's name")
        maximum = b.checked(self.json_body(), b.LIMIT, required=("maximum",))["maximum"]
        await self.call(lambda store: store.set_limit(limit, maximum))
        self.send_json({"name": limit, "maximum": maximum})

    async def delete(self, name: str) -> None:
        limit = self.param(name, "the limit's name")

        def unset(store: Store) -> None:
            if limit not in store.limits():
                raise ApiError(404, f"no limit named {limit!r}")
            store.set_limit(limit, None)

        await self.call(unset)
        self.send_json({"name": limit, "removed": True})


def _config(store: Store) -> dict[str, Any]:
    return configuration.effective(store.config(fresh=True))


class ConfigListHandler(ApiHandler):
    """``GET /api/config``: the store's shared config (keys set, and the defaults of the
    others), as ``zerog config`` shows it."""

    async def get(self) -> None:
        self.send_json({"config": await self.call(_config)})


class ConfigHandler(ApiHandler):
    """``POST /api/config/{key}`` ``{"value": V}``: set a key for every process sharing the
    store (a known key takes a number > 0: 400 otherwise). ``DELETE``: unset it (back to its
    default). 501 on a backend that keeps no config."""

    async def post(self, key: str) -> None:
        name = self.param(key, "the config key")
        value = b.checked(self.json_body(), b.CONFIG, required=("value",))["value"]
        if value is None:
            raise ApiError(400, "'value' may not be null; DELETE the key to unset it")
        await self.call(lambda store: store.set_config(name, value))
        self.send_json({"key": name, "value": (await self.call(_config)).get(name)})

    async def delete(self, key: str) -> None:
        name = self.param(key, "the config key")
        await self.call(lambda store: store.set_config(name, None))
        self.send_json({"key": name, "value": (await self.call(_config)).get(name)})


def _check_job(job_type: str, values: Any) -> None:
    """A recurrence's job must be one this server can validate: its type registered (a 400,
    not a 404: the type is in the body) and its values what the type's schema takes."""
    try:
        check_values(job_type, values)
    except UnknownJobType as exc:
        raise ApiError(400, str(exc), types=exc.known) from None


class RecurringCreateHandler(RecurringListHandler):
    """``GET /api/recurring`` and ``POST /api/recurring``: create a recurring job from what
    :class:`~zerog.recurrence.RecurSpec` takes (``type``, ``queue``, and exactly one of
    ``interval_seconds`` and ``cron``); 201 with the stored recurrence."""

    async def post(self) -> None:
        body = b.checked(self.json_body(), b.RECUR_CREATE, required=b.RECUR_REQUIRED)
        fields = {key: value for key, value in body.items() if value is not None}
        spec = RecurSpec(**fields)

        def create(store: Store) -> dict[str, Any]:
            _check_job(spec.type, spec.values)
            if spec.id is not None and any(d["id"] == spec.id for d in store.recurrences()):
                raise ApiError(409, f"a recurring job with id {spec.id!r} exists")
            return store.get_recurrence(store.recur(spec))

        doc = await self.call(create)
        self.set_header("Location", f"{self.api.prefix}/api/recurring/{doc['id']}")
        self.send_json(doc, 201)


class RecurringEditHandler(RecurringHandler):
    """``PATCH /api/recurring/{id}`` with any keys the store lets change
    (:data:`zerog.recurrence.UPDATABLE`); ``DELETE`` stops it. 404 for an unknown id."""

    async def patch(self, recurrence_id: str) -> None:
        rid = self.param(recurrence_id, "the recurring job's id")
        changes = b.checked(self.json_body(), b.RECUR_UPDATE, at_least_one=True)

        def update(store: Store) -> dict[str, Any]:
            doc = store.get_recurrence(rid)  # JobNotFound: a 404.
            if "type" in changes or "values" in changes:
                _check_job(changes.get("type", doc["type"]), changes.get("values", doc["values"]))
            return store.update_recurrence(rid, **changes)

        self.send_json(await self.call(update))
