# The zerog seed README's "Skeleton Code for MyJob" and "MyJobHandler", call for call. Only the
# import lines differ (`import zerog as zeroG`), plus the fix of the README's `super()` typo
# (it names BasicJob). The test copies this file into a temporary `jobs/` package.
import time

import tornado.escape
import tornado.web
from marshmallow import fields

import zerog as zeroG

MY_JOB_TYPE = "my_job_type"


class MyJobSchema(zeroG.jobs.BaseJobSchema):
    fieldOne = fields.String()


class MyJob(zeroG.jobs.BaseJob):
    JOB_TYPE = MY_JOB_TYPE
    SCHEMA = MyJobSchema
    QUEUE_NAME = "my_job"

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

        self.fieldOne = kwargs.get("fieldOne")

    def run(self):
        """
        fill in with custom functionality

        this method must return a tuple consisting of:
           - the time (in epoch seconds) at which to resume
             consuming from the queue

           - a boolean indicating whether the job should be
             re-queued for further processing
        """
        zeroG.job_log.info(f"fieldOne is {self.fieldOne}")
        zeroG.job_log.set_completeness(1.0)
        return time.time(), False


# Use this creator function to create a job where the schema gets validated
def make_my_job(values={}):
    return zeroG.jobs.make_base_job(values, MY_JOB_TYPE)


zeroG.registry.JOB_MODULES = [*zeroG.registry.JOB_MODULES, "jobs.my_job"]


class MyJobHandler(tornado.web.RequestHandler):
    def get(self, argsDict):
        """
        Get the status of a job.
        """
        self.set_status(200)
        self.finish()

    def post(self):
        """
        Kick off a MyJob.
        """
        params = tornado.escape.json_decode(self.request.body)

        job = make_my_job(values=params)
        job.enqueue()

        output = dict(uuid=job.uuid)
        self.write(f"{output}\n")

        self.set_status(200)
        self.finish()
