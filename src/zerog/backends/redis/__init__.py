"""``redis://``: jobs in Redis, every state change one Lua script (needs the extra
``zerog[redis]``: redis-py, and hiredis to parse replies faster).

URLs: ``redis://[:password@]host[:port][/db]``, ``rediss://`` (TLS), ``unix:///path.sock?db=N``;
``?prefix=<name>`` (default ``zerog``) names the store: all its keys start with ``{<name>}:``.

**One script per state change.** Each method of the contract that changes jobs is one script
(``lua/*.lua``; each lists its KEYS and ARGV at its top), so a job is never stored but not
queued, queued twice, or claimed by two workers, and a crash of the client at any point leaves
either all of a change or none of it. On Redis 7 the scripts (with the libraries of
``lua/lib/``) are one function library, loaded once with FUNCTION LOAD and run with FCALL;
on Redis 6, or with ``?scripts=eval``, each is a script run by SHA1 (EVALSHA); either is
loaded again when the server lost it (NOSCRIPT, "function not found"); see :mod:`._scripts`.
Every stored time, and every lease's expiry, is the server's ``TIME`` read inside the script,
never a worker's clock (:attr:`RedisBackend.clock` is this host's clock plus the offset to
the server's measured at open; tests give a fake clock, whose reading the scripts then use).

**Keys** (``P`` is ``{<prefix>}``; the variable part always last):

- ``P:j:<uuid>`` a job's record: a hash of its keys, each holding that key's JSON text;
  ``P:h:<uuid>``, ``P:ev:<uuid>``, ``P:er:<uuid>``, ``P:sm:<uuid>``: its history, events,
  errors and progress samples (lists, capped);
- ``P:ready:<queue>`` ready jobs (sorted set: priority, then put order), ``P:sched:<queue>``
  scheduled jobs (by due time; a claim moves the due ones to ready), ``P:running`` leases (by
  expiry, for the rescue), ``P:ttl`` TTL deadlines of ready jobs, ``P:failed:<queue>`` and
  ``P:done`` finished jobs (by finish time, for kick and retention);
- ``P:all``, ``P:st:<state>``, ``P:qa:<queue>``, ``P:tag:<tag>``, ``P:tracked``,
  ``P:rj:<recurrence>``: jobs in put order, for lists; ``P:counts`` jobs per queue and state;
  ``P:tags`` how many jobs carry each tag;
- ``P:uniq`` unique keys, ``P:debounce`` debounce plans, ``P:paused`` paused queues,
  ``P:limits`` and ``P:lrun`` limits and the running jobs counting against each;
- ``P:r:<id>``, ``P:recurs``, ``P:rq:<queue>`` recurrences (spawned by the claims of their
  queue, exactly one job per tick); ``P:config``; ``P:workers``, ``P:wseen`` the worker
  registry; ``P:stats:<day>:<queue>``, ``P:statkeys``, ``P:stathist`` statistics;
- ``P:wake:<queue>`` wake-up tokens that idle workers block on (BLPOP), see :mod:`._waiter`;
- ``P:seq`` the put order counter; ``P:nonce:<n>`` replies kept a minute for a write sent
  again after a lost connection.

**Redis Cluster.** Every key of a store carries the same hash tag, ``{<prefix>}``, so all of a
store lives in one slot and every script runs on a Cluster as on one node: everything works.
What a Cluster does not give one store is scale: one store is served by one shard. A queue's
keys could have had a tag of their own (``{<prefix>:<queue>}``), spreading queues over
shards, but then a dependency between jobs of two queues, a unique key or a throttle shared
by two queues, moving a job to another queue, reading a job by its id, or a worker serving
several queues would each touch two slots in one script, which a Cluster refuses; they would
need one node. To spread load over shards, give groups of queues stores of their own
(``?prefix=``). zerog connects with a plain client: point it at a node, or at a proxy in front
of the Cluster (a client that follows MOVED redirections is not part of this version).

**Durability.** Refuses a server whose ``maxmemory-policy`` may evict keys. With
``appendonly yes`` and ``appendfsync always`` a job is on disk before the put returns: a
server killed and restarted loses no acknowledged job. With ``appendfsync everysec`` (Redis's
default) a crash of the server (not of a client) can lose the last second of changes: jobs put
in it, and settlements, which then run again (at-least-once holds; the put is what can go).
"""

from zerog.backends.redis.backend import RedisBackend

__all__ = ["RedisBackend"]
