"""Job classes that come with qless-py: :class:`SubprocessJob` runs a command.

queue.put(SubprocessJob, {"command": "convert", "args": ["in.png", "out.jpg"]})
"""

from __future__ import annotations

import subprocess
from typing import Any

GROUP = "subprocess-failed"  # the failure group of a command that did not exit with 0.


class SubprocessJob:
    """Runs ``job.data['command']`` with ``job.data['args']`` in the job's sandbox (its
    working directory when it has none): exit status 0 completes the job; any other fails it
    with the command's stdout and stderr in the message."""

    @staticmethod
    def process(job: Any) -> None:
        """Run the command; complete or fail the job by its exit status."""
        command = [str(job.data["command"]), *(str(arg) for arg in job.data.get("args", []))]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, cwd=job.sandbox or None, check=False
            )
        except OSError as exc:  # no such command, not executable, no such directory.
            job.fail(GROUP, f"{command!r} could not run: {exc}")
            return
        if done.returncode == 0:
            job.complete()
            return
        message = f"{command!r} exited with {done.returncode}\nstdout:\n{done.stdout}\n"
        job.fail(GROUP, f"{message}stderr:\n{done.stderr}")
