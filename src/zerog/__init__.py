"""zerog: background jobs built for long-running work.

Jobs report their progress, checkpoint their fields, are never dropped, and can be watched and
steered while they run. ``import zerog as zeroG`` (or ``as geyser``) runs the seeds' examples.
"""

from typing import TYPE_CHECKING, Any

from zerog import errors, job_log, jobs, registry
from zerog.errors import (
    InvalidTransition,
    JobNotFound,
    JobValidationError,
    PayloadTooLarge,
    UnknownJobType,
    WFErrorContinue,
    WFErrorFinish,
    ZerogError,
)
from zerog.jobs import (
    BaseJob,
    BaseJobSchema,
    batch,
    get_base_job,
    get_batch,
    make_base_job,
    wait_for,
)
from zerog.model import State
from zerog.settings import Settings
from zerog.store import Store, default_store, use

if TYPE_CHECKING:
    from zerog import qless

__version__ = "0.1.0"

get_job = get_base_job


def client(url: str | Store | None = None, **options: Any) -> "qless.Client":
    """A qless-style client on a zerog store (``zerog.qless.client``); the qless face is
    imported only when this is called."""
    from zerog import qless

    return qless.client(url, **options)


__all__ = [
    "BaseJob",
    "BaseJobSchema",
    "InvalidTransition",
    "JobNotFound",
    "JobValidationError",
    "PayloadTooLarge",
    "Settings",
    "State",
    "Store",
    "UnknownJobType",
    "WFErrorContinue",
    "WFErrorFinish",
    "ZerogError",
    "__version__",
    "batch",
    "client",
    "default_store",
    "errors",
    "get_base_job",
    "get_batch",
    "get_job",
    "job_log",
    "jobs",
    "make_base_job",
    "registry",
    "use",
    "wait_for",
]
