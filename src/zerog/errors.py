"""Every exception zerog raises, in two trees.

``ZerogError`` is the root of what goes wrong (bad input, configuration, a backend).
``JobOutcome`` is a separate root for the ways a job's ``run()`` ends early; library code
never swallows those by catching ``ZerogError`` or ``Exception`` carelessly.
Each class's docstring is its default message.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import marshmallow


class ZerogError(Exception):
    """Something went wrong in zerog."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or (self.__doc__ or "").strip())


class ConfigurationError(ZerogError):
    """The configuration is invalid."""


class UnknownJobType(ZerogError):
    """No job class is registered under that type."""

    def __init__(self, job_type: str, known: list[str], reason: str | None = None) -> None:
        self.job_type = job_type
        self.known = sorted(known)
        listed = ", ".join(self.known) or "none"
        message = reason or f"registered types: {listed}"
        super().__init__(f"unknown job type {job_type!r}; {message}")


class InvalidOptions(ZerogError, ValueError):
    """The options given for a job are invalid."""


class UnknownDependency(InvalidOptions):
    """A job was made to depend on jobs that do not exist."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = sorted(missing)
        super().__init__(f"unknown dependency id(s): {', '.join(self.missing)}")


class DependencyCycle(InvalidOptions):
    """A dependency would make jobs wait for each other forever."""

    def __init__(self, uuid: str, on: str) -> None:
        self.uuid, self.on = uuid, on
        super().__init__(f"job {uuid} cannot depend on {on}: {on} already waits for {uuid}")


class DuplicateJob(ZerogError):
    """A unique job with the same key is already waiting or running."""

    def __init__(self, key: str, existing: str) -> None:
        self.key, self.existing = key, existing
        super().__init__(f"job {existing} with unique key {key!r} is already waiting or running")


class NotSupported(ZerogError):
    """This backend does not support that operation."""


class PayloadTooLarge(ZerogError):
    """A job document is over its size limit."""

    def __init__(self, what: str, size: int, limit: int) -> None:
        self.what, self.size, self.limit = what, size, limit
        super().__init__(f"{what} is {size} bytes, over the limit of {limit} bytes")


class NotSerializable(ZerogError, TypeError):
    """A value cannot be stored as JSON (a TypeError too, as ``json.dumps`` raises)."""


class JobValidationError(ZerogError, marshmallow.ValidationError):
    """The job's values do not match its schema (also a marshmallow ValidationError)."""

    def __init__(self, messages: dict[str, Any], job_type: str | None = None) -> None:
        marshmallow.ValidationError.__init__(self, messages)
        self.job_type = job_type
        fields = ", ".join(sorted(str(k) for k in messages))
        prefix = f"invalid values for {job_type!r}" if job_type else "invalid values"
        self.summary = f"{prefix}: {fields}"

    def __str__(self) -> str:
        return self.summary


class BackendError(ZerogError):
    """The backend failed."""


class BackendUnavailable(BackendError):
    """The backend cannot be reached."""


class JobNotFound(BackendError):
    """No job has that id."""

    def __init__(self, uuid: str) -> None:
        self.uuid = uuid
        super().__init__(f"no job with id {uuid!r}")


class InvalidTransition(BackendError):
    """The job's state does not allow that action."""

    def __init__(self, uuid: str, state: str, action: str) -> None:
        self.uuid, self.state, self.action = uuid, state, action
        super().__init__(f"cannot {action} job {uuid}: it is {state}")


class NotRunning(InvalidTransition):
    """The job is not running, so a message to it was refused."""

    def __init__(self, uuid: str, state: str) -> None:
        super().__init__(uuid, state, "message")
        self.args = (
            f"cannot message job {uuid}: it is {state}, not running"
            + (
                ""
                if state in ("complete", "failed", "cancelled", "expired")
                else " (send it with queue_if_idle to deliver it at the job's next run)"
            ),
        )


class InboxFull(ZerogError):
    """Too many messages wait for the job already; it must read them first."""

    def __init__(self, uuid: str, limit: int) -> None:
        self.uuid, self.limit = uuid, limit
        super().__init__(f"job {uuid} has {limit} messages waiting already, the most it may")


class ReservationLost(BackendError):
    """This worker no longer holds the job's lease; another worker may own it now."""

    def __init__(self, uuid: str, token: int) -> None:
        self.uuid, self.token = uuid, token
        super().__init__(f"lease {token} on job {uuid} is no longer held")


class LostLockError(ReservationLost):
    """This client no longer holds the job's lock (qless's LostLockException): it was
    completed, failed or retried already, timed out, cancelled, or given to another worker."""

    def __init__(self, uuid: str, reason: str, token: int = 0) -> None:
        self.uuid, self.token, self.reason = uuid, token, reason
        BackendError.__init__(self, f"lost the lock on job {uuid}: {reason}")


class JobOutcome(Exception):
    """A job's run ended early; the worker decides what happens next."""

    def __init__(
        self, message: str = "", error_code: int | None = None, store_error: bool = True
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_code = error_code
        self.store_error = store_error  # False: log it only (job_log.error_log_only).


class WFErrorFinish(JobOutcome):
    """Stop the job now and do not requeue it: it ends failed."""


class WFErrorContinue(JobOutcome):
    """Stop the job now and run it again later, within its retry limit."""


class JobCancelled(JobOutcome):
    """An operator cancelled the running job; it stops at its next job_log call."""


class JobPaused(JobOutcome):
    """An operator paused the running job; its checkpoint is saved and it waits to resume."""


class Advance(JobOutcome):
    """This step of a pipeline is done: the job goes on in another queue (qless's
    ``job.complete(next)``), after ``delay_seconds`` or once ``depends`` complete."""

    def __init__(self, queue: str, delay_seconds: float = 0.0, depends: Sequence[str] = ()) -> None:
        super().__init__(f"advance to {queue}")
        self.queue, self.delay_seconds, self.depends = queue, delay_seconds, tuple(depends)


class LeaseLost(JobOutcome):
    """The worker lost the job's lease; the run must stop without settling."""
