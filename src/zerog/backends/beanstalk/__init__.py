"""``beanstalk://host:11300?store=<url>``: the seed's own architecture. beanstalkd delivers
job uuids through one tube per queue; a record store decides everything else.

**Who holds what.** A job's record (values, progress, history, lease) lives in the store
(``store=sqlite:///...``). Its tube entry, in the tube named after its queue, carries only
``{"uuid": ...}``. beanstalkd does the queueing: priority order then put order, delays,
TTR, reserve, release, bury, kick, touch, delete. The store is the authority on the rest:
the job's state, the lease (tokens fence late writers as on every backend) and which entry
is the job's own (its beanstalkd id, ``bid``). A reserved entry is only a candidate: the
store's *claim* says what it is for (``_records.Verdict``): run it now; release it until it
is due, or until another worker's live lease could have expired; bury it (failed, paused);
delete it (finished, or stale: not the job's own entry, or no such job).

**Mapping.** Priority p becomes p + 2**31 after clamping to a signed 32-bit range, so the
order is kept (``_wire.priority_of``). Delays are whole seconds rounded up, and beanstalkd's
TTR is the lease rounded up plus one second; the store's clock decides when a job is due and
when a lease expires, so a job due before beanstalkd's delay ran out is kicked by the next
reserve, and a fake clock works as on every backend. Heartbeats touch the entry, a retry or
requeue releases it (with its delay), a failure or an operator's pause buries it, an
operator's retry or resume kicks it back (keeping its place), the end of a job deletes it.
A queue pause lives in the store (a paused queue's tube is not reserved from); beanstalkd's
``pause-tube`` mirrors it for 60 s at a time, renewed by the reconciler, because a tube's
pause has a maximum, is lost at a restart, and must lapse if a resume never reached it.

**Order of writes, and why a crash anywhere is safe.** Two systems cannot change in one
atomic step; each step writes in the order that leaves only what the next delivery or the
reconciler repairs:

1. A step that gives a job a new or revived entry (put, an operator's retry, resume or kick,
   a rescue) talks to beanstalkd *inside* the store transaction and records the entry's id
   in it. A crash before the commit leaves an entry no record names: stale on delivery,
   deleted. Inside, because a worker that reserves the new entry at once must wait for the
   store's write lock before it reads the record, so it never takes a new entry for stale.
2. A step that ends a run (settle) commits the store first, then releases, buries or deletes
   the entry through the connection that reserved it. A crash in between closes that
   connection, beanstalkd gives the entry back, and its delivery finds the record's new state.
   One exception, the busy worker's hot path: a job that completed (or was cancelled) and
   whose worker wants the next one has its entry deleted in the same buffer as the next
   reserve, before the commit (one round trip per job, not two). If that commit then fails,
   the job is still running under its lease, and when the lease expires the rescue gives it
   a new entry: exactly what a worker dying before its settlement leaves. A release or a
   bury is never done early: a released entry could be delivered while the lease is still
   live, and be held back for a whole TTR.
3. A reserve takes the entry first, then claims the record. A crash in between gives the
   entry back; nothing was written.

**The disagreements and their repair.**

- *Tube entry without a record* (crash in 1, or an entry of another program): stale on
  delivery, deleted (one not written by zerog is buried).
- *Record says running, beanstalkd gave the entry back* (worker died or lost its connection,
  TTR passed, beanstalkd restarted): the live store lease wins; the entry is released until
  the lease can have expired; then the claim rescues the job as ``rescue_expired`` would
  (history ``lease-expired``, or ``failed-worker-lost``) and runs it. Meanwhile the
  store-side ``rescue_expired`` may rescue it first; then the job gets its entry back
  (released, kicked, or a new one if a stuck worker still holds the old, which turns stale).
- *Record stored, no deliverable entry* (only if beanstalkd loses entries: a restart without
  a binlog, an entry deleted by hand; or it is buried while the job waits): the reconciler
  (``rescue_expired``, which every worker runs every few seconds, and the server) notices a
  restarted beanstalkd by its id, and checks the entries of a bounded batch of ready jobs per
  run, round-robin, re-creating a missing entry and kicking a buried one.
- *Record finished, failed or waiting, entry still around* (crash in 2): repaired on delivery.

No job is lost: every ready record keeps a deliverable entry, or the reconciler gives it one.
No job runs twice at once: only the store's claim starts a run, one transaction at a time,
and never while another lease is live. Every repair is idempotent and bounded, so any number
of workers may run the reconciler at once.

**Traps.** Each command goes out in one buffer with ``TCP_NODELAY`` (no 40 ms delayed-ACK
stall; ``_conn``), and so do a finished job's delete and the next reserve. JOB_TOO_BIG
(``-z`` below the size of a uuid) and DRAINING are reported plainly (``_entries``).
DEADLINE_SOON (beanstalkd's answer to a reserve that finds nothing while the connection holds
an entry in its last TTR second): the TTR margin keeps it rare; a reserve that meets it
touches the entries its connection holds and tries again. A beanstalkd without ``-b`` is
logged as not durable at open and at each restart. greenstalk clients are not thread-safe:
one connection per thread (and per tube it reserves from), none across a fork (``_conn``).
"""

from zerog.backends.beanstalk.backend import BeanstalkBackend

__all__ = ["BeanstalkBackend"]
