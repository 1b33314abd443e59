"""The deferrable face: ``from zerog import deferrable`` runs deferrable's examples.

from zerog.deferrable import Deferrable
from zerog.deferrable.backend import ZerogBackendFactory

stats = Deferrable(backend=ZerogBackendFactory("sqlite:///jobs.db").create_backend_for_group("stats"))

@stats.deferrable
def run_some_stats(team_id): ...

run_some_stats.later("team-1")   # producer
stats.run_once()                 # consumer (or any `zerog worker -q deferrable_stats`)
"""

from zerog.deferrable import backend, metadata
from zerog.deferrable import job as _job  # noqa: F401 - registers the kind of deferred calls.
from zerog.deferrable.deferrable import Deferrable, backoff_seconds
from zerog.deferrable.metadata import MetadataProducerConsumer

__all__ = ["Deferrable", "MetadataProducerConsumer", "backend", "backoff_seconds", "metadata"]
