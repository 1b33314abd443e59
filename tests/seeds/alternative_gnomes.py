"""The seed README's "Alternative gnomes.py": one ``process`` method for every stage.

Written as the README writes it, branches and all: its 'underpants' branch advances to
'underpants' again (the README's own slip), and ``job['queue']`` reads the job's queue.
"""


# Alternative gnomes.py
class GnomesJob:
    # This method would be invoked at every stage
    @staticmethod
    def process(job):
        if job["queue"] == "underpants":
            job["visits"] = (job["visits"] or 0) + 1
            job.complete("underpants")
        elif job["queue"] == "unknown":
            job["plan"] = "?"
            job.complete("profit")
        elif job["queue"] == "profit":
            job["profit"] = True
            job.complete()
        else:
            job.fail("unknown-stage", "What what?")
