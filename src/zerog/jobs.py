"""Job classes, the seeds' way: ``BaseJob``, ``BaseJobSchema`` and ``make_base_job``.

A job class declares its inputs with a marshmallow schema. The fields the schema declares are
the job's values *and* its checkpoint: they are stored at ``enqueue()``, saved again by
``save()`` and when ``run()`` asks to be requeued, and a re-run after a crash is built from the
last saved ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, ClassVar

import marshmallow

from zerog import kinds, registry, settings
from zerog.errors import JobValidationError, ZerogError
from zerog.model import Record
from zerog.record import JobSpec, new_uuid
from zerog.store import Store, default_store

CURSOR_KEY = "_zerog_cursor"
"""Where the values keep ``job_log.iterate``'s cursor (items done) beside the schema's fields."""


class BaseJobSchema(marshmallow.Schema):
    """Base of every job's schema; unknown input fields are refused, each named."""


class BaseJob:
    """Base of every job class: set ``JOB_TYPE``, ``SCHEMA``, ``QUEUE_NAME`` and write run().

    Optional class attributes: ``PRIORITY`` (lower runs sooner), ``TTR`` (lease seconds,
    renewed by heartbeats), ``MAX_RETRIES``, ``TTL`` (seconds it may wait before it expires),
    ``RETRY_BACKOFF_SECONDS`` (first retry delay, doubled each attempt), ``FAIR_KEY`` (the
    default fairness key: see ``enqueue``).
    """

    JOB_TYPE: ClassVar[str] = ""
    SCHEMA: ClassVar[type[marshmallow.Schema]] = BaseJobSchema
    QUEUE_NAME: ClassVar[str] = "default"
    PRIORITY: ClassVar[int] = settings.DEFAULT_PRIORITY
    TTR: ClassVar[float | None] = None  # None: the store's heartbeat config (default 60 s).
    MAX_RETRIES: ClassVar[int | None] = None  # None: the store's settings (default 5).
    TTL: ClassVar[float | None] = None
    # Seconds without progress (its completeness unmoved; any report, for a job that never
    # reports one) after which a running job is stalled (None: the store's stall-seconds
    # config, 15 minutes by default).
    STALL_SECONDS: ClassVar[float | None] = None
    # What the worker does to it once stalled: alert (only tell), cancel, retry or pause
    # (None: the store's <queue>-stall-policy or stall-policy config, else alert).
    STALL_POLICY: ClassVar[str | None] = None
    RETRY_BACKOFF_SECONDS: ClassVar[float | None] = None
    FAIR_KEY: ClassVar[str | None] = None
    _schema_instance: ClassVar[marshmallow.Schema | None] = None
    iteration_cursor: int | None = None  # items job_log.iterate() has done (zerog.iteration).

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("JOB_TYPE"):
            registry.register(cls)

    def __init__(self, **kwargs: Any) -> None:
        self.uuid: str = kwargs.get("uuid") or new_uuid()
        self.jobType: str = self.JOB_TYPE
        self.state: str | None = None
        self.completeness: float = 0.0
        self.eta: float | None = None
        self.events: list[dict[str, Any]] = []
        self.errors: list[dict[str, Any]] = []
        self.result: Any = None
        self.resultCode: int | None = None
        self.attempts: int = 0
        self.history: list[dict[str, Any]] = []
        self.queue: str = self.QUEUE_NAME
        self._record: Record | None = None

    def run(self) -> tuple[float, bool]:
        """Do the work. Return ``(resume_at_epoch_seconds, requeue)``: ``requeue=True`` saves
        the job's fields and runs it again at ``resume_at``."""
        raise NotImplementedError(f"{type(self).__name__} must define run()")

    def retry_delay(self, attempt: int) -> float | None:
        """Seconds to wait before retrying after failed ``attempt`` (1, 2, ...); None means
        the worker's exponential backoff from ``RETRY_BACKOFF_SECONDS``, with jitter."""
        return None

    # --- values and checkpoint ---------------------------------------------------------------

    @classmethod
    def schema(cls) -> marshmallow.Schema:
        """One instance of the class's schema, made once (building one costs more than a load
        or a dump, and an instance holds no per-call state)."""
        cached = cls.__dict__.get("_schema_instance")
        if cached is None or not isinstance(cached, cls.SCHEMA):
            cached = cls.SCHEMA()
            cls._schema_instance = cached
        return cached

    def dump_values(self) -> dict[str, Any]:
        """The job's fields as JSON-ready values (its checkpoint)."""
        schema = self.schema()
        dumped: dict[str, Any] = schema.dump(self)
        for name, field in schema.fields.items():
            key = field.data_key or name
            if dumped.get(key, 0) is None and not field.allow_none:
                del dumped[key]  # unset optional field: leave it out, as the caller did.
        if self.iteration_cursor is not None:
            dumped[CURSOR_KEY] = self.iteration_cursor  # saved with the fields, in one write.
        return dumped

    def save(self) -> None:
        """Store the job's fields now as its checkpoint (only while it runs)."""
        from zerog import job_log

        job_log.checkpoint(self)

    def enqueue(
        self,
        priority: int | None = None,
        delay: float = 0,
        ttr: float | None = None,
        tags: Sequence[str] = (),
        ttl: float | None = None,
        max_retries: int | None = None,
        queue: str | None = None,
        store: Store | None = None,
        depends: Sequence[str] = (),
        throttles: Sequence[str] = (),
        unique: bool | str | None = None,
        on_duplicate: str = "merge",
        stall_seconds: float | None = None,
        stall_policy: str | None = None,
        unique_window: float | None = None,
        memory_limit_mb: float | None = None,
        fair_key: str | None = None,
    ) -> str:
        """Store the job and queue it; returns its uuid.

        ``depends``: uuids of jobs that must complete first. ``throttles``: named limits it
        counts against while it runs (see Store.set_limit). ``unique``: True (one such job at a
        time per type and values) or a key of your own; a duplicate put while one is waiting
        or running returns that job's uuid (``on_duplicate="refuse"``: raises DuplicateJob);
        ``unique_window``: the key also holds that many seconds after the job finished (an
        idempotency window). ``memory_limit_mb``: run it in a process of its own, killed
        past that resident size (see zerog.worker.isolate). ``fair_key``: a tenant; claims take
        a queue's tenants in turn, so one tenant's backlog does not starve another's (see
        docs/resources.md). ``stall_seconds`` and ``stall_policy``: when it counts as stalled
        and what is then done (zerog.stalls)."""
        spec = self.spec(
            priority=priority,
            delay=delay,
            ttr=ttr,
            tags=tags,
            ttl=ttl,
            max_retries=max_retries,
            queue=queue,
            depends=depends,
            throttles=throttles,
            unique=unique,
            on_duplicate=on_duplicate,
            stall_seconds=stall_seconds,
            stall_policy=stall_policy,
            unique_window=unique_window,
            memory_limit_mb=memory_limit_mb,
            fair_key=fair_key,
        )
        return (store or default_store()).enqueue(spec)

    def spec(
        self,
        priority: int | None = None,
        delay: float = 0,
        ttr: float | None = None,
        tags: Sequence[str] = (),
        ttl: float | None = None,
        max_retries: int | None = None,
        queue: str | None = None,
        depends: Sequence[str] = (),
        throttles: Sequence[str] = (),
        unique: bool | str | None = None,
        on_duplicate: str = "merge",
        stall_seconds: float | None = None,
        stall_policy: str | None = None,
        unique_window: float | None = None,
        memory_limit_mb: float | None = None,
        fair_key: str | None = None,
    ) -> JobSpec:
        """What :meth:`enqueue` stores, not stored: for :func:`batch` and
        ``Store.enqueue_many`` (the options are enqueue's)."""
        return JobSpec(
            uuid=self.uuid,
            type=self.JOB_TYPE,
            queue=queue or self.QUEUE_NAME,
            values=self.dump_values(),
            priority=self.PRIORITY if priority is None else priority,
            delay_seconds=delay,
            ttr_seconds=self.TTR if ttr is None else ttr,
            ttl_seconds=self.TTL if ttl is None else ttl,
            stall_seconds=self.STALL_SECONDS if stall_seconds is None else stall_seconds,
            stall_policy=self.STALL_POLICY if stall_policy is None else stall_policy,
            max_retries=self.MAX_RETRIES if max_retries is None else max_retries,
            tags=tuple(tags),
            depends=tuple(depends),
            throttles=tuple(throttles),
            unique=unique,
            on_duplicate=on_duplicate,
            unique_window_seconds=unique_window,
            memory_limit_mb=memory_limit_mb,
            fair_key=self.FAIR_KEY if fair_key is None else fair_key,
        )

    # --- reading back ------------------------------------------------------------------------

    def get_data(self) -> dict[str, Any]:
        """Everything known about the job: its values and, once loaded, its stored record."""
        data = dict(self._record or {})
        data.update(uuid=self.uuid, jobType=self.JOB_TYPE, values=self.dump_values())
        return data

    def _load_status(self, record: Record) -> None:
        self._record = record
        self.uuid = record["uuid"]
        self.state = record["state"]
        self.queue = record["queue"]
        self.completeness = record["completeness"]
        self.eta = record.get("eta")
        self.events = record["events"]
        self.errors = record["errors"]
        self.result = record["result"]
        self.resultCode = record["result_code"]
        self.attempts = record["attempts"]
        self.history = record.get("history", [])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.JOB_TYPE} {self.uuid} {self.state or 'new'}>"


def make_base_job(values: dict[str, Any] | None = None, jobType: str = "") -> BaseJob:
    """Validate ``values`` with the job type's schema and build the job (nothing is stored).

    Raises UnknownJobType (naming the registered types) or JobValidationError (``.messages``
    per field).
    """
    cls = registry.job_class(jobType)
    if values is not None and not isinstance(values, dict):
        raise JobValidationError({"_schema": ["values must be a JSON object"]}, jobType)
    try:
        loaded = cls.schema().load(values or {})
    except marshmallow.ValidationError as exc:
        raise JobValidationError(_as_dict(exc.messages), jobType) from exc
    return cls(**loaded)


def job_from_record(record: Record) -> BaseJob:
    """Rebuild a stored job from its record (its last saved fields and its status), by the
    face its kind names (:mod:`zerog.kinds`)."""
    job: BaseJob = kinds.load(record)
    return job


def _class_job(record: Record) -> BaseJob:
    """A job class's job: its registered class, its values loaded by its schema."""
    cls = registry.job_class(record["type"])
    values = dict(record["values"])
    cursor = values.pop(CURSOR_KEY, None)  # not a field: the schema would refuse it.
    try:
        loaded = cls.schema().load(values, partial=True)
    except marshmallow.ValidationError as exc:
        raise JobValidationError(_as_dict(exc.messages), record["type"]) from exc
    job = cls(**loaded)
    job.iteration_cursor = cursor if isinstance(cursor, int) else None
    job._load_status(record)
    return job


def get_base_job(uuid: str, store: Store | None = None) -> BaseJob:
    """Load a job with its fields, state, completeness, ETA, events, errors and history."""
    return job_from_record((store or default_store()).get(uuid))


def wait_for(
    uuid: str, timeout: float = 60.0, store: Store | None = None, poll_seconds: float = 0.1
) -> BaseJob:
    """Wait until a job reaches a final state; returns it (raises ZerogError on timeout)."""
    from zerog.model import FINAL_STATES

    store = store or default_store()
    deadline = time.monotonic() + timeout
    while True:
        record = store.get(uuid, history=False)
        if record["state"] in FINAL_STATES:
            return get_base_job(uuid, store)
        if time.monotonic() >= deadline:
            raise ZerogError(f"job {uuid} is still {record['state']} after {timeout} s")
        time.sleep(poll_seconds)


def batch(
    members: Sequence[BaseJob | JobSpec], callback: BaseJob | JobSpec, store: Store | None = None
) -> str:
    """Store a batch: ``members`` and a ``callback`` job that runs once, after every member
    ended (complete, failed for good, cancelled or expired), in one step. Returns the batch's
    id, which is the callback's uuid: in its ``run()``, ``get_batch(self.uuid)`` tells how
    each member ended. A job given as a :class:`JobSpec` (``job.spec(priority=...)``) keeps
    its options; a job as itself, its class's."""
    specs = [m if isinstance(m, JobSpec) else m.spec() for m in members]
    last = callback if isinstance(callback, JobSpec) else callback.spec()
    return (store or default_store()).put_batch(specs, last)


def get_batch(batch_id: str, store: Store | None = None) -> dict[str, Any]:
    """A batch's progress and its members' outcomes (see ``Store.batch``)."""
    return (store or default_store()).batch(batch_id)


def _as_dict(messages: Any) -> dict[str, Any]:
    return messages if isinstance(messages, dict) else {"_schema": messages}


kinds.register("class", _class_job)
