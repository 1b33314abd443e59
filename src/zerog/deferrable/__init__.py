"""The deferrable face: ``from zerog import deferrable`` runs deferrable's examples.

    from zerog.deferrable import Deferrable
    from zerog.deferrable.backend import ZerogBackendFactory

    factory = ZerogBackendFactory("sqlite:///jobs.db")
    stats = Deferrable(backend=factory.create_backend_for_group("stats"))

    @stats.deferrable
    def run_some_stats(team_id): ...

    run_some_stats.later("team-1")   # producer
    stats.run_once()                 # consumer (or any `zerog worker -q deferrable:stats`)

deferrable's modules keep their names (``backoff``, ``ttl``, ``delay``, ``debounce``,
``metadata``, ``backend.memory``, ``backend.base``, ``backend.dockets``, ``queue.memory``, ...);
its ``pickling`` is tagged JSON (:mod:`zerog.deferrable.codec`), never pickle.
"""

from zerog.deferrable import backend, codec, metadata
from zerog.deferrable import job as _job  # noqa: F401 - registers the kind of deferred calls.
from zerog.deferrable.backoff import backoff_seconds
from zerog.deferrable.deferrable import Deferrable
from zerog.deferrable.metadata import MetadataProducerConsumer

__all__ = [
    "Deferrable",
    "MetadataProducerConsumer",
    "backend",
    "backoff_seconds",
    "codec",
    "metadata",
]
