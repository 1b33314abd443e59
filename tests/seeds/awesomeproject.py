"""The README's ``awesomeproject`` (Debugging / Developing)."""


class Job:
    @staticmethod
    def process(job):
        job.complete()
