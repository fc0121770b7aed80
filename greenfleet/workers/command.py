"""The ``greenfleet/command`` image: replace the worker with any program implementing the contract.

After the model data is fetched, the worker ``exec``s ``GREENFLEET_COMMAND`` through ``/bin/sh -c``
with ``SAGEMAKER_BIND_TO_PORT``, ``PORT`` and ``SM_MODEL_DIR`` exported; the program must serve
``GET /ping`` and ``POST /invocations`` on 127.0.0.1 at that port (MLflow's scoring server does:
``mlflow models serve -m "$SM_MODEL_DIR" -h 127.0.0.1 -p "$PORT" --env-manager local``).
The exec'd program keeps the worker's pid, so the control plane supervises it unchanged; it no
longer has the worker's orphan watchdog.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import NoReturn

from greenfleet.workers.environment import WorkerEnvironment
from greenfleet.workers.errors import StartupError

__all__ = ["SHELL", "exec_command"]

SHELL = "/bin/sh"


def exec_command(env: WorkerEnvironment) -> NoReturn:
    if not env.command:
        raise StartupError(f"Image '{env.image}' runs GREENFLEET_COMMAND, which is not set")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execve(SHELL, [SHELL, "-c", env.command], env.command_environ())
    except OSError as exc:
        raise StartupError(f"cannot run GREENFLEET_COMMAND with {SHELL}: {exc}") from exc
