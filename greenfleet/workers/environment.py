"""The worker's environment contract: the only place a worker reads environment variables.

The control plane launches ``python -m greenfleet.workers`` (see :func:`worker_argv`) with the
variables built by :func:`worker_environ` on top of its own environment; the worker reads them back
with :class:`WorkerEnvironment`. The SageMaker names keep their SageMaker spelling (no prefix).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from greenfleet.settings import Settings

__all__ = [
    "ARTIFACT_MAX_BYTES",
    "COMMAND",
    "DEFAULT_ACCEPT",
    "FAILURE_FILE",
    "IMAGE",
    "MODEL_DATA_URL",
    "MODEL_DIR",
    "ORPHAN_GRACE_S",
    "PORT",
    "PROGRAM",
    "S3_ENDPOINT_URL",
    "SUBMIT_DIRECTORY",
    "FailureTarget",
    "WorkerEnvironment",
    "worker_argv",
    "worker_environ",
]

PORT = "SAGEMAKER_BIND_TO_PORT"
MODEL_DIR = "SM_MODEL_DIR"
PROGRAM = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY = "SAGEMAKER_SUBMIT_DIRECTORY"
DEFAULT_ACCEPT = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
IMAGE = "GREENFLEET_IMAGE"
MODEL_DATA_URL = "GREENFLEET_MODEL_DATA_URL"
ARTIFACT_MAX_BYTES = "GREENFLEET_ARTIFACT_MAX_BYTES"
FAILURE_FILE = "GREENFLEET_FAILURE_FILE"
COMMAND = "GREENFLEET_COMMAND"
S3_ENDPOINT_URL = "GREENFLEET_S3_ENDPOINT_URL"
ORPHAN_GRACE_S = "GREENFLEET_ORPHAN_GRACE_S"

_CONFIG = SettingsConfigDict(case_sensitive=True, extra="ignore", env_ignore_empty=True)


class FailureTarget(BaseSettings):
    """Read first and alone, so even an invalid environment can be reported in the failure file."""

    model_config = _CONFIG

    failure_file: Path | None = Field(default=None, validation_alias=FAILURE_FILE)


class WorkerEnvironment(BaseSettings):
    """Everything a worker process is told, from its environment."""

    model_config = _CONFIG

    port: int = Field(validation_alias=PORT, ge=1, le=65535)
    """Port to listen on, on 127.0.0.1."""

    model_dir: Path = Field(validation_alias=MODEL_DIR)
    """Where the model data is unpacked and loaded from (``/opt/ml/model`` in SageMaker)."""

    image: str = Field(validation_alias=IMAGE)
    """The container's Image; picks the runtime (see ``images.py``)."""

    model_data_url: str | None = Field(default=None, validation_alias=MODEL_DATA_URL)
    """ModelDataUrl: a path, file://, http(s):// or s3:// URL of a tarball, directory or file."""

    artifact_max_bytes: int = Field(default=4 * 1024**3, validation_alias=ARTIFACT_MAX_BYTES, gt=0)
    """Largest unpacked model data accepted."""

    failure_file: Path | None = Field(default=None, validation_alias=FAILURE_FILE)
    """Where to write the reason the worker could not start."""

    command: str | None = Field(default=None, validation_alias=COMMAND)
    """Shell command the ``greenfleet/command`` image runs as the instance."""

    s3_endpoint_url: str | None = Field(default=None, validation_alias=S3_ENDPOINT_URL)
    """Endpoint of an S3-compatible store (MinIO, ...)."""

    orphan_grace_s: float = Field(default=60.0, validation_alias=ORPHAN_GRACE_S, gt=0)
    """Once the parent process is gone, exit after this many seconds without a ``GET /ping``."""

    program: str | None = Field(default=None, validation_alias=PROGRAM)
    """Script-mode entry point (``inference.py``)."""

    submit_directory: str | None = Field(default=None, validation_alias=SUBMIT_DIRECTORY)
    """Script-mode code location: a directory, or a URL of a source tarball."""

    default_accept: str = Field(default="application/json", validation_alias=DEFAULT_ACCEPT)
    """Accept passed to a script's ``output_fn`` when the request names none."""

    def command_environ(self) -> dict[str, str]:
        """The whole environment, as the ``greenfleet/command`` program should see it.

        The worker's own ``bin`` directory goes first on ``PATH``, so the console scripts of its
        environment (``mlflow``, and the ``uvicorn`` that ``mlflow models serve`` starts) are found.
        """
        environ = dict(os.environ)
        environ.update({PORT: str(self.port), "PORT": str(self.port), MODEL_DIR: str(self.model_dir)})
        scripts = os.path.dirname(sys.executable)
        path = environ.get("PATH", os.defpath)
        if scripts and scripts not in path.split(os.pathsep):
            environ["PATH"] = os.pathsep.join([scripts, path])
        return environ


def worker_argv(settings: Settings) -> list[str]:
    """The command line that starts one worker process."""
    return [settings.worker_python or sys.executable, "-m", "greenfleet.workers"]


def worker_environ(
    settings: Settings,
    *,
    port: int,
    model_dir: Path,
    image: str,
    failure_file: Path,
    model_data_url: str | None = None,
    container_environment: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables to add to the control plane's environment when it launches a worker.

    ``container_environment`` is the container's Environment map (``SAGEMAKER_PROGRAM``, a
    ``GREENFLEET_COMMAND``, ...); the contract variables computed here take precedence over it.
    """
    environ = dict(container_environment or {})
    environ.update(
        {
            PORT: str(port),
            MODEL_DIR: str(model_dir),
            IMAGE: image,
            FAILURE_FILE: str(failure_file),
            ARTIFACT_MAX_BYTES: str(settings.artifact_max_bytes),
            ORPHAN_GRACE_S: str(settings.worker_orphan_grace_s),
        }
    )
    if model_data_url:
        environ[MODEL_DATA_URL] = model_data_url
    if settings.s3_endpoint_url:
        environ[S3_ENDPOINT_URL] = settings.s3_endpoint_url
    return environ
