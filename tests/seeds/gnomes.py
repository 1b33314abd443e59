"""The seed README's ``gnomes.py`` (per-queue static methods), its ``...`` filled in.

A ``zerog worker`` imports it by the dotted path the jobs were put with.
"""


# In gnomes.py
class GnomesJob:
    # This would be invoked when a GnomesJob is popped off the 'underpants' queue
    @staticmethod
    def underpants(job):
        # 1) Collect Underpants
        # Record how many underpants we collected
        job["collected"] = 12 if job["address"] else 3
        # Complete and advance to the next step, 'unknown'
        job.complete("unknown")

    @staticmethod
    def unknown(job):
        # 2) ?
        # Make some decision based on how many we've collected.
        if job["collected"] > 10:
            job["plan"] = "sell"
        else:
            job["plan"] = "wear"
        # Complete and advance to the next step, 'profit'
        job.complete("profit")

    @staticmethod
    def profit(job):
        # 3) Profit
        job["profit"] = job["collected"] * 2 if job["plan"] == "sell" else 0
        # Complete the job
        job.complete()
