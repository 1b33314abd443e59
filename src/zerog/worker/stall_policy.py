"""What a worker does when a job it runs stalls (see :mod:`zerog.stalls`): told once, the
policy applied once.

The worker's heartbeat thread sees every run it keeps alive, and when each last progressed
(:meth:`RunContext.quiet_since`), so it is the one to notice, with no store read per tick:
only the worker holding the lease can, and only while it holds it. Once a run has made no
progress for its window, it logs ``job.stalled``, posts the event to the webhook
(:mod:`zerog.worker.webhook`) and applies the job's policy, as an operator would, under the
actor ``zerog:stall-policy`` (source ``worker <host>:<pid>``), so the job's history and the
audit trail both name it:

- ``alert`` (the default): nothing more;
- ``cancel``: the job is cancelled (it stops at its next ``job_log`` call; a job in a
  process of its own, or under a supervisor, is stopped after the cancel grace);
- ``pause``: the job is paused likewise, to be resumed by an operator;
- ``retry``: the lease is timed out and taken back at once: the attempt counts as failed
  (worker lost) and the job is tried again after its backoff, or fails when its retries are
  used up. This run's writes stop at once.

Once per stall: the run is marked handled until its completeness moves again. A cancel or
pause is asked of the job once, and a retry ends the run, so another worker (the job's next
run) or a restarted one starts a fresh window; an ``alert`` job that stays stuck is told
about once per run.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Any

from zerog import config as configuration
from zerog.audit import Actor, acting
from zerog.errors import BackendError, InvalidTransition, JobNotFound
from zerog.model import Reservation, State
from zerog.run_context import RunContext
from zerog.store import Store
from zerog.worker.webhook import Webhook

if TYPE_CHECKING:
    from zerog.worker.heartbeat import Heartbeat
    from zerog.worker.runner import Ended, Runner

log = logging.getLogger("zerog.worker.heartbeat")

ACTOR = "zerog:stall-policy"
ACTIONS = {"cancel": "cancel", "pause": "pause", "retry": "timeout"}  # policy: store action.


def actor() -> Actor:
    """Who applies a stall policy: this worker process."""
    return Actor(ACTOR, f"worker {socket.gethostname()}:{os.getpid()}")


class StallWatch:
    """Notices a worker's stalled runs and handles each stall once."""

    def __init__(self, store: Store, webhook: Webhook | None = None) -> None:
        self.store = store
        self.webhook = webhook

    def check(self, context: RunContext, now: float) -> None:
        """Handle the run if it has made no progress past its window (once per stall)."""
        if context.stall_logged or context.lost:
            return
        quiet = now - context.quiet_since()
        limit = context.stall_seconds
        if limit is None:  # the store's config is read only for a run that needs it.
            limit = configuration.stall_for(self.store.config(), context.queue)
        if quiet < limit:
            return
        context.stall_logged = True
        policy = context.stall_policy or configuration.stall_policy_for(
            self.store.config(), context.queue
        )
        uuid = context.lease.uuid
        log.warning(
            "job %s has made no progress for %.0f s (stall threshold %g s): it may be stuck; "
            "stall policy %s",
            uuid,
            quiet,
            limit,
            policy,
            extra={"event": "job.stalled", "job_id": uuid, "policy": policy},
        )
        applied = self.apply(context, policy)
        if self.webhook is not None:
            self.webhook.send(stall_event(context, quiet, limit, policy, applied))

    def apply(self, context: RunContext, policy: str) -> bool:
        """Apply the policy to the run's job; whether anything was done to it."""
        action = ACTIONS.get(policy)
        if action is None:  # alert: the log line and the webhook are all.
            return False
        uuid = context.lease.uuid
        if action == "timeout":
            context.lost = True  # this run writes no more: its next run is the retry.
        try:
            with acting(actor()):
                self.store.act(uuid, action)
            if action == "timeout":
                self.store.rescue_expired()
        except (InvalidTransition, JobNotFound) as exc:  # it ended meanwhile.
            log.info("stall policy %s not applied to job %s: %s", policy, uuid, exc)
            return False
        except BackendError as exc:
            log.warning("stall policy %s on job %s failed: %s", policy, uuid, exc)
            return False
        return True


def stall_event(
    context: RunContext, quiet: float, limit: float, policy: str, applied: bool
) -> dict[str, Any]:
    """The webhook's ``job.stalled`` event."""
    job = context.job
    return {
        "event": "job.stalled",
        "at": time.time(),
        "job_id": context.lease.uuid,
        "type": getattr(job, "JOB_TYPE", type(job).__name__),
        "queue": context.queue,
        "quiet_seconds": round(quiet, 3),
        "stall_seconds": limit,
        "policy": policy,
        "applied": applied,
        "worker": actor().source,
    }


def failure_event(record: dict[str, Any], error: dict[str, Any] | None) -> dict[str, Any]:
    """The webhook's ``job.failed`` event: a job whose last attempt failed."""
    return {
        "event": "job.failed",
        "at": time.time(),
        "job_id": record["uuid"],
        "type": record.get("type"),
        "queue": record.get("queue"),
        "attempts": record.get("attempts"),
        "error": None if not error else str(error.get("msg") or "")[:1000],
        "worker": actor().source,
    }


def attach(heartbeat: Heartbeat, runner: Runner, store: Store) -> Webhook:
    """Give a worker its webhook: stalls (the heartbeat's) and failures (the runner's)."""
    webhook = Webhook(store)
    heartbeat.stalls.webhook = webhook

    def ended(reservation: Reservation, end: Ended) -> None:
        if end.settlement is not None and end.settlement.state == State.FAILED:
            webhook.send(failure_event(reservation.record, end.settlement.error))

    runner.on_ended = ended
    return webhook
