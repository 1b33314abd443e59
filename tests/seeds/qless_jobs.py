"""Job classes for the qless seed tests (``myJob`` is the README's name for one), and a
deferred function to run beside them."""

from zerog import qless
from zerog.deferrable import Deferrable
from zerog.deferrable.backend import InMemoryBackendFactory

socks = Deferrable(backend=InMemoryBackendFactory().create_backend_for_group("socks"))
SOCKS_COUNTED: list[int] = []


@socks.deferrable
def count_socks(pairs):
    SOCKS_COUNTED.append(pairs)


class myJob:  # the README's name: the omelette, maintenance and retries examples put it.
    @staticmethod
    def process(job):
        job["done"] = True
        job.complete()


class Breaks:
    @staticmethod
    def process(job):
        raise ValueError(f"cannot handle {job['what']}")


class Flaky:
    @staticmethod
    @qless.retry(ConnectionError)
    def process(job):
        raise ConnectionError("the underpants shop is closed")


class ForgetsToComplete:
    @staticmethod
    def process(job):
        job["seen"] = True


class Heartbeats:
    @staticmethod
    def process(job):
        job["beat"] = job.heartbeat()
        job.complete()


class Retries:
    @staticmethod
    def process(job):
        job.retry(30, "transient", "try again in 30 s")


class Moves:
    @staticmethod
    def process(job):
        job.complete("anotherQueue", delay=10)

    @staticmethod
    def anotherQueue(job):
        job.complete()


class NoMethods:
    """Neither a method named after its queue nor ``process``."""
