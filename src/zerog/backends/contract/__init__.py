"""The backend contract, in beanstalkd's words, over plain JSON records, split by role.

A backend stores records (:mod:`zerog.record`) and moves them between states. Every method is
ONE atomic step: a job is never stored but not queued, queued twice, or reserved by two workers,
and every state change appends one history entry in the same step. Times come from the
backend's own clock (``self.clock()``), never a worker's, so leases mean the same everywhere.

Every write made under a lease carries the :class:`~zerog.model.Lease`; a backend refuses it
with :class:`~zerog.errors.ReservationLost` unless the job is still ``running`` under that
same ``token``. Tokens grow by one at every reservation and never repeat for a job, so a worker
that lost its lease can never write again, even after the job was retried.

The roles, each a class of its own on one screen:

- :class:`~.jobs.Jobs` (every backend): put, the worker's one write (settle and claim), touch,
  save, rescue, operator actions, reads;
- :class:`~.queues.Queues`: pausing queues, the worker registry;
- :class:`~.schedules.Schedules`: recurring jobs;
- :class:`~.limits.Limits`: concurrency limits across workers;
- :class:`~.upkeep.Upkeep`: config, statistics, retention;
- :class:`~.messages.Messages`: messages to running jobs;
- :class:`~.audit.Audit`: the append-only log of operator actions.

A backend offers a role whole or not at all: it says which by the classes it derives from,
and :attr:`Backend.roles` is that, as data. The conformance suite marks each test with the
role it needs, so a new backend can land role by role. Callers use :class:`zerog.store.Store`
(the facade), never a backend directly.
"""

from __future__ import annotations

from typing import TypeVar

from zerog.backends.contract.audit import Audit
from zerog.backends.contract.jobs import Backend, Capability, Role
from zerog.backends.contract.limits import Limits
from zerog.backends.contract.messages import Messages
from zerog.backends.contract.queues import STALE_WORKER_SECONDS, Queues
from zerog.backends.contract.schedules import Schedules
from zerog.backends.contract.upkeep import Upkeep
from zerog.backends.contract.waiting import LocalWaiter, Waiter
from zerog.errors import NotSupported

ROLES: dict[Role, type] = {
    Role.QUEUES: Queues,
    Role.SCHEDULES: Schedules,
    Role.LIMITS: Limits,
    Role.UPKEEP: Upkeep,
    Role.MESSAGES: Messages,
    Role.AUDIT: Audit,
}
"""The optional roles and the class a backend derives from to offer each."""

R = TypeVar("R")


class FullBackend(Backend, Queues, Schedules, Limits, Upkeep, Messages, Audit):
    """A backend with every role: what zerog's own backends are."""


def roles_of(backend: Backend) -> frozenset[Role]:
    """The roles a backend offers: jobs always, and each optional one it derives from."""
    return frozenset(
        {Role.JOBS, *(role for role, cls in ROLES.items() if isinstance(backend, cls))}
    )


def need(backend: Backend, role: type[R]) -> R:
    """``backend`` as the role asked for, or NotSupported naming the backend and the role."""
    if not isinstance(backend, role):
        raise NotSupported(f"{type(backend).__name__} has no {role.__name__.lower()} role")
    return backend


__all__ = [
    "ROLES",
    "STALE_WORKER_SECONDS",
    "Audit",
    "Backend",
    "Capability",
    "FullBackend",
    "Limits",
    "LocalWaiter",
    "Messages",
    "Queues",
    "Role",
    "Schedules",
    "Upkeep",
    "Waiter",
    "need",
    "roles_of",
]
