"""Model-serving worker processes: one per endpoint instance, speaking SageMaker's container contract.

The control plane launches ``worker_argv(settings)`` with ``worker_environ(settings, ...)`` added to
its environment, health-checks ``GET /ping`` and, if the process exits with ``FAILURE_EXIT_CODE``,
reads the endpoint's FailureReason with ``read_failure_reason(failure_file)``.

Importing this package is cheap: the runtimes (NumPy, scikit-learn, ...) load only in the worker.
"""

from __future__ import annotations

from greenfleet.workers.environment import WorkerEnvironment, worker_argv, worker_environ
from greenfleet.workers.failure import FAILURE_EXIT_CODE, read_failure_reason

__all__ = ["FAILURE_EXIT_CODE", "WorkerEnvironment", "read_failure_reason", "worker_argv", "worker_environ"]
