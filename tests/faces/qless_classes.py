"""qless job classes for the qless face's tests (worker processes import this module)."""

import os
import time


class Done:
    @staticmethod
    def process(job):
        job["pid"] = os.getpid()
        job["sandbox"] = job.sandbox
        job["cwd"] = os.getcwd()
        job.complete()


class Slow:
    @staticmethod
    def process(job):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not os.path.exists(job["release"]):
            time.sleep(0.02)
        job.complete()
