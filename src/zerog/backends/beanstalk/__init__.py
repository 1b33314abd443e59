"""``beanstalk://host:11300?store=<url>``: the seed's own architecture. beanstalkd delivers
job uuids through one tube per queue; a record store decides everything else.

**Who holds what.** A job's record (values, progress, history, lease) lives in the store
(``store=sqlite:///...`` or ``store=postgresql://...``: that backend's job store). Its tube
entry, in the tube named after its queue, carries only ``{"uuid": ...}``. beanstalkd does the
queueing: priority order then put order, delays, TTR, reserve, release, bury, kick, touch,
delete. The store is the authority on the rest: the job's state, the lease (tokens fence late
writers as on every backend) and which entry is the job's own (its beanstalkd id, ``bid``). A
reserved entry is only a candidate: the store's *claim* says what it is for
(``_records.Verdict``): run it now; release it until it is due, or until another worker's live
lease could have expired; bury it (failed, paused); delete it (finished, or stale: not the
job's own entry, or no such job).

Dependencies, unique keys, debounce, recurrences, limits, config, statistics and retention
are the store's alone (the SQL backends' own steps). A job gets an entry only when the
store has it ready (waiting or scheduled); one in ``depends`` has a *held-back* entry in its
tube, delayed for good, which is kicked when the job is released, so that it keeps its place.
Limits: a queue whose own limit is full is not reserved from (the claim gives back an entry
of it, QUEUE_FULL); a job one of whose throttles is full is *parked* (THROTTLED: its entry
buried, noted in the store), and when a run ends or a limit changes, the parked jobs that
now have room are kicked (``_sql_limits``). Recurring jobs spawn in a store step that a
reserve runs before it reads a queue's tube, at most when the store says one is due
(``_flow``).

**Mapping.** Priority p becomes p + 2**31 after clamping to a signed 32-bit range, so the
order is kept (``_wire.priority_of``). Delays are whole seconds rounded up, and beanstalkd's
TTR is the lease rounded up plus one second; the store's clock decides when a job is due and
when a lease expires, so a job due before beanstalkd's delay ran out is kicked by the next
reserve, and a fake clock works as on every backend. Heartbeats touch the entry, a retry or
requeue releases it (with its delay), a failure or an operator's pause buries it, an
operator's retry or resume kicks it back (keeping its place), the end of a job deletes it.
An entry's tube and priority are fixed: a job moved, re-prioritised or advanced to the next
queue of a pipeline gets a new entry and its old one turns stale. beanstalkd orders a
priority's entries by entry id, so such a job (and one retried out of cancelled or expired,
whose entry was deleted) goes behind the jobs entered before it, where the SQLite and memory
backends keep its first put order. An operator's timeout ends the lease in the store only;
the rescue then gives the job a new entry, and the old one, still reserved by the worker's
connection, is deleted when the worker's next write is refused.
A queue pause lives in the store (a paused queue's tube is not reserved from); beanstalkd's
``pause-tube`` mirrors it for 60 s at a time, renewed by the reconciler, because a tube's
pause has a maximum, is lost at a restart, and must lapse if a resume never reached it.

**Order of writes, and why a crash anywhere is safe.** Two systems cannot change in one
atomic step; each step writes in the order that leaves only what the next delivery or the
reconciler repairs:

1. A step that gives a job a new or revived entry talks to beanstalkd *inside* the store
   transaction and records the entry's id in it: a put, a settlement's released dependents
   (their held-back entries kicked) and its job advanced to the next queue, an alter that
   moves, re-prioritises or releases a job, a recurrence's spawn, an operator's retry,
   resume or kick, a rescue. A crash before the commit leaves an entry no record names
   (stale on delivery, deleted), or a ready entry of a job still in depends (deleted on
   delivery; the release, done again, puts a new one). Inside, because a worker that
   reserves the new entry at once must wait for the store's write lock (SQLite's, or the
   PostgreSQL schema's advisory lock, released once the commit is visible) before it reads
   the record, so it never takes a new entry for stale. A settlement is never refused for
   beanstalkd: if it cannot be reached, the jobs the settlement readies keep their held-back
   entry (or get none) and the reconciler gives them a deliverable one.
2. A step that ends a run (settle) commits the store first, then releases, buries or deletes
   the entry through the connection that reserved it. A crash in between closes that
   connection, beanstalkd gives the entry back, and its delivery finds the record's new state.
   What a step leaves for *other* jobs is also done after the commit, best effort
   (``_records.Effects``): old entries of moved jobs deleted (else stale on delivery), parked
   entries kicked (else by the reconciler), a pruned job's leftover entry deleted once it is
   seen to name that job (beanstalkd restarted without a binlog gives ids again).
   One exception, the busy worker's hot path: a job that completed (or was cancelled) and
   whose worker wants the next one has its entry deleted in the same buffer as the next
   reserve, before the commit (one round trip per job, not two); a worker writing a batch
   of completions deletes all their entries and reserves its next jobs in one buffer, then
   settles and claims in one transaction (``settle_batch``: one round trip and one commit
   per batch). If that commit then fails, each job is still running under its lease, and
   when the lease expires the rescue gives it a new entry: exactly what a worker dying
   before its settlement leaves. A release or a
   bury is never done early: a released entry could be delivered while the lease is still
   live, and be held back for a whole TTR. As that next entry was reserved before the
   settlement, a settlement that makes a better-placed job ready (a released dependent, a
   parked job with room now, its own job requeued) gives it back instead of claiming it
   (OUTRANKED), and the worker reserves again, as settle-then-reserve would.
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
- *Record stored, no deliverable entry* (beanstalkd lost entries: a restart without a
  binlog, an entry deleted by hand; it was unreachable when a settlement readied the job;
  or the entry is buried or held back while the job waits): the reconciler
  (``rescue_expired``, which every worker runs every few seconds, and the server) notices a
  restarted beanstalkd by its id, and checks the entries of a bounded batch of ready jobs per
  run, round-robin, re-creating a missing entry and kicking a buried one.
- *Record finished, failed or waiting, entry still around* (crash in 2): repaired on delivery.
- *Parked job with room, entry still buried* (a kick lost in 2): the reconciler's check
  kicks the buried entry of a ready job; its claim parks it again if there is still no room.

No job is lost: every ready record keeps a deliverable entry (or a parked one, kicked when
its limits have room), or the reconciler gives it one.
No job runs twice at once: only the store's claim starts a run, one transaction at a time,
and never while another lease is live. Every repair is idempotent and bounded, so any number
of workers may run the reconciler at once.

**Traps.** Each command goes out in one buffer with ``TCP_NODELAY`` (no 40 ms delayed-ACK
stall; ``_conn``), and so do finished jobs' deletes and the next reserves. JOB_TOO_BIG
(``-z`` below the size of a uuid) and DRAINING are reported plainly (``_entries``).
DEADLINE_SOON (beanstalkd's answer to a reserve that finds nothing while the connection holds
an entry in its last TTR second): the TTR margin keeps it rare; a reserve that meets it
touches the entries its connection holds and tries again. A beanstalkd without ``-b`` is
logged as not durable at open and at each restart. greenstalk clients are not thread-safe:
one connection per thread (and per tube it reserves from), none across a fork (``_conn``).
"""

from zerog.backends.beanstalk.backend import BeanstalkBackend

__all__ = ["BeanstalkBackend"]
