"""The worker's environment contract: the only place a worker reads environment variables.

The control plane launches ``python -m greenfleet.workers`` (see :func:`worker_argv`) with the
variables built by :func:`worker_environ` on top of its own environment; the worker reads them back
with :meth:`WorkerEnvironment.from_environ`. The SageMaker names keep their SageMaker spelling (no
prefix). Names are case-sensitive, and a variable set to the empty string counts as unset.

This module is imported by every worker process, so it parses the few variables by hand instead of
with pydantic-settings (which, with ``greenfleet.settings``, costs a worker ~20 MB and ~0.2 s): the
control-plane half only names :class:`~greenfleet.settings.Settings` in annotations.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from greenfleet.settings import Settings

__all__ = [
    "ALLOWED_IMAGES",
    "ALLOW_LINK_LOCAL",
    "ARTIFACT_MAX_BYTES",
    "BIND_HOST",
    "COMMAND",
    "DEFAULT_ACCEPT",
    "FAILURE_FILE",
    "IMAGE",
    "INVOCATION_TIMEOUT_S",
    "LANE_SOCKET",
    "MAX_BODY_BYTES",
    "MAX_SOCKET_PATH_BYTES",
    "MODEL_DATA_ROOTS",
    "MODEL_DATA_URL",
    "MODEL_DIR",
    "MODEL_SERVER_WORKERS",
    "ORPHAN_GRACE_S",
    "PIPELINE_FILE",
    "PORT",
    "PROGRAM",
    "S3_ENDPOINT_URL",
    "SERVER_LOCK",
    "STREAM_CHUNK_ROWS",
    "SUBMIT_DIRECTORY",
    "FailureTarget",
    "InvalidEnvironment",
    "PipelineEnvironment",
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
ALLOWED_IMAGES = "GREENFLEET_ALLOWED_IMAGES"
MODEL_DATA_ROOTS = "GREENFLEET_MODEL_DATA_ROOTS"
ALLOW_LINK_LOCAL = "GREENFLEET_MODEL_DATA_ALLOW_LINK_LOCAL"
SERVER_LOCK = "GREENFLEET_SERVER_LOCK"
MODEL_SERVER_WORKERS = "SAGEMAKER_MODEL_SERVER_WORKERS"
INVOCATION_TIMEOUT_S = "GREENFLEET_INVOCATION_TIMEOUT_S"
BIND_HOST = "GREENFLEET_BIND_HOST"
PIPELINE_FILE = "GREENFLEET_PIPELINE_FILE"
MAX_BODY_BYTES = "GREENFLEET_WORKER_MAX_BODY_BYTES"
STREAM_CHUNK_ROWS = "GREENFLEET_WORKER_STREAM_CHUNK_ROWS"
LANE_SOCKET = "GREENFLEET_LANE_SOCKET"
"""Set by an inference pipeline's supervisor for each member: the Unix socket the member serves its lane on."""
MAX_SOCKET_PATH_BYTES = 107
"""Longest Unix-domain socket path (``sun_path`` holds 108 bytes on Linux, its NUL included)."""
"""Set for an inference pipeline's instance: the worker supervises one worker per container (``pipeline.py``)."""

_T = TypeVar("_T")
_NONE: tuple[str, ...] = ()
_N = TypeVar("_N", int, float)


class InvalidEnvironment(ValueError):
    """One or more variables are missing or malformed; each problem reads ``NAME: what is wrong``."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


@dataclass(frozen=True, kw_only=True)
class FailureTarget:
    """Read first and alone, so even an invalid environment can be reported in the failure file."""

    failure_file: Path | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> FailureTarget:
        read = _Reader(os.environ if environ is None else environ)
        return cls(failure_file=read.optional(FAILURE_FILE, Path, None))


@dataclass(frozen=True, kw_only=True)
class PipelineEnvironment:
    """An inference pipeline's supervisor: its plan (the members' ports and environments, written by the
    instance backend), its own port, and the usual failure file, orphan grace and invocation timeout."""

    plan_file: Path
    port: int
    failure_file: Path | None = None
    orphan_grace_s: float = 60.0
    invocation_timeout_s: float | None = None

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> PipelineEnvironment | None:
        """None when the worker is not a pipeline's supervisor (``GREENFLEET_PIPELINE_FILE`` unset)."""
        read = _Reader(os.environ if environ is None else environ)
        plan_file = read.optional(PIPELINE_FILE, Path, None)
        if plan_file is None:
            return None
        port = read.required(PORT, _bounded(_integer, ge=1, le=65535))
        values = cls(plan_file=plan_file, port=port or 1, failure_file=read.optional(FAILURE_FILE, Path, None),
                     orphan_grace_s=read.optional(ORPHAN_GRACE_S, _bounded(_number, gt=0), cls.orphan_grace_s),
                     invocation_timeout_s=read.optional(INVOCATION_TIMEOUT_S, _bounded(_number, gt=0), None))
        if read.problems:
            raise InvalidEnvironment(read.problems)
        return values


@dataclass(frozen=True, kw_only=True)
class WorkerEnvironment:
    """Everything a worker process is told, from its environment."""

    port: int
    """Port to listen on, on ``bind_host`` (1-65535)."""

    bind_host: str = "127.0.0.1"
    """Address to listen on: loopback for the local backend; the node's address when a remote backend
    (Ray) runs the worker on another machine than the router."""

    model_dir: Path
    """Where the model data is unpacked and loaded from (``/opt/ml/model`` in SageMaker)."""

    image: str
    """The container's Image; picks the runtime (see ``images.py``)."""

    model_data_url: str | None = None
    """ModelDataUrl: a path, file://, http(s):// or s3:// URL of a tarball, directory or file."""

    artifact_max_bytes: int = 4 * 1024**3
    """Largest unpacked model data accepted (> 0)."""

    failure_file: Path | None = None
    """Where to write the reason the worker could not start."""

    command: str | None = None
    """Shell command the ``greenfleet/command`` image runs as the instance."""

    s3_endpoint_url: str | None = None
    """Endpoint of an S3-compatible store (MinIO, ...)."""

    orphan_grace_s: float = 60.0
    """Once the parent process is gone, exit after this many seconds without a ``GET /ping`` (> 0)."""

    program: str | None = None
    """Script-mode entry point (``inference.py``)."""

    submit_directory: str | None = None
    """Script-mode code location: a directory, or a URL of a source tarball."""

    default_accept: str = "application/json"
    """Accept passed to a script's ``output_fn`` when the request names none."""

    accept_fallback: str | None = None
    """``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` when set: what any runtime answers in when the request's Accept
    is absent or ``*/*`` (unset, a built-in runtime keeps its own default, e.g. XGBoost's CSV for CSV)."""

    allowed_images: tuple[str, ...] = ("*",)
    """Image patterns this worker may run (comma-separated); ``greenfleet/script`` and
    ``greenfleet/command`` must be allowed for a built-in image to run user code or a command."""

    model_data_roots: tuple[Path, ...] = ()
    """Directories a local ModelDataUrl must lie under (``os.pathsep``-separated); empty: anywhere."""

    allow_link_local: bool = False
    """Let http(s) model data come from link-local and cloud metadata addresses."""

    model_server_workers: int = 1
    """How many calls a runtime running user code (script, MLflow) serves at once, each on its own thread
    (SageMaker's SAGEMAKER_MODEL_SERVER_WORKERS; ≥ 1)."""

    invocation_timeout_s: float | None = None
    """How long the router waits for an answer; a call still running then is abandoned (its thread runs on)
    so that it does not block the next one. Unset: calls are never abandoned."""

    max_body_bytes: int = 64 * 1024 * 1024
    """Largest request body read whole (> 0); a larger one is answered 413. Row-oriented bodies (CSV, JSON
    lines) of the built-in scikit-learn and XGBoost runtimes are streamed instead, whatever their size."""

    stream_chunk_rows: int = 10_000
    """Rows predicted at a time when a row-oriented body is streamed (≥ 1)."""

    lane_socket: Path | None = None
    """Where to serve a pipeline supervisor's lane (``lane_server.py``): an absolute path of at most
    ``MAX_SOCKET_PATH_BYTES`` bytes; unset for a worker that is not a pipeline's member."""

    server_lock: Path | None = None
    """The server's home lock; a ``greenfleet/command`` instance stops once no server has held it for
    ``orphan_grace_s``."""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> WorkerEnvironment:
        """Read and check the variables (``os.environ`` by default); raise :class:`InvalidEnvironment`
        naming every variable that is missing or malformed."""
        read = _Reader(os.environ if environ is None else environ)
        port = read.required(PORT, _bounded(_integer, ge=1, le=65535))
        model_dir = read.required(MODEL_DIR, Path)
        image = read.required(IMAGE, str)
        values = cls(
            port=port or 1,  # placeholders while a required variable is missing: raised below
            model_dir=model_dir or Path(),
            image=image or "",
            model_data_url=read.optional(MODEL_DATA_URL, str, None),
            artifact_max_bytes=read.optional(ARTIFACT_MAX_BYTES, _bounded(_integer, gt=0), cls.artifact_max_bytes),
            failure_file=read.optional(FAILURE_FILE, Path, None),
            command=read.optional(COMMAND, str, None),
            s3_endpoint_url=read.optional(S3_ENDPOINT_URL, str, None),
            orphan_grace_s=read.optional(ORPHAN_GRACE_S, _bounded(_number, gt=0), cls.orphan_grace_s),
            program=read.optional(PROGRAM, str, None),
            submit_directory=read.optional(SUBMIT_DIRECTORY, str, None),
            default_accept=read.optional(DEFAULT_ACCEPT, str, cls.default_accept),
            accept_fallback=read.optional(DEFAULT_ACCEPT, str, None),
            allowed_images=read.optional(ALLOWED_IMAGES, _items(","), cls.allowed_images),
            model_data_roots=tuple(Path(root) for root in read.optional(MODEL_DATA_ROOTS, _items(os.pathsep), _NONE)),
            allow_link_local=read.optional(ALLOW_LINK_LOCAL, _flag, False),
            server_lock=read.optional(SERVER_LOCK, Path, None),
            model_server_workers=read.optional(MODEL_SERVER_WORKERS, _bounded(_integer, ge=1, le=64), 1),
            invocation_timeout_s=read.optional(INVOCATION_TIMEOUT_S, _bounded(_number, gt=0), None),
            bind_host=read.optional(BIND_HOST, str, cls.bind_host),
            max_body_bytes=read.optional(MAX_BODY_BYTES, _bounded(_integer, gt=0), cls.max_body_bytes),
            stream_chunk_rows=read.optional(STREAM_CHUNK_ROWS, _bounded(_integer, ge=1), cls.stream_chunk_rows),
            lane_socket=read.optional(LANE_SOCKET, _socket_path, None),
        )
        if read.problems:
            raise InvalidEnvironment(read.problems)
        return values

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


class _Reader:
    """Reads variables from ``environ``, collecting a ``NAME: problem`` line per bad one."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.problems: list[str] = []

    def required(self, name: str, parse: Callable[[str], _T]) -> _T | None:
        """The parsed value, or None (and a problem) if the variable is unset, empty or malformed."""
        if not self._environ.get(name):
            self.problems.append(f"{name}: Field required")
            return None
        return self._parse(name, parse, None)

    def optional(self, name: str, parse: Callable[[str], _T], default: _T) -> _T:
        """The parsed value; ``default`` if the variable is unset or empty (or malformed: a problem)."""
        if not self._environ.get(name):
            return default
        return self._parse(name, parse, default)

    def _parse(self, name: str, parse: Callable[[str], _T], fallback: _T) -> _T:
        try:
            return parse(self._environ[name])
        except ValueError as exc:
            self.problems.append(f"{name}: {exc}")
            return fallback


_INTEGER = re.compile(r"[+-]?[0-9]+(?:_[0-9]+)*(?:\.0+)?")


def _integer(text: str) -> int:
    """A decimal integer, surrounding whitespace and a zero fraction (``8080.0``) allowed."""
    text = text.strip()
    if not _INTEGER.fullmatch(text):
        raise ValueError("Input should be a valid integer, unable to parse string as an integer")
    return int(text.split(".", 1)[0])


def _number(text: str) -> float:
    """A decimal number (``2.5``, ``1e3``, ``inf``), surrounding whitespace allowed."""
    text = text.strip()
    try:
        if not text.isascii():
            raise ValueError(text)
        return float(text)
    except ValueError:
        raise ValueError("Input should be a valid number, unable to parse string as a number") from None


def _socket_path(text: str) -> Path:
    """An absolute path short enough to bind a Unix-domain socket to."""
    path = Path(text)
    if not path.is_absolute():
        raise ValueError("Input should be an absolute path")
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise ValueError(f"Input should be a path of at most {MAX_SOCKET_PATH_BYTES} bytes (a Unix socket's limit)")
    return path


def _items(separator: str) -> Callable[[str], tuple[str, ...]]:
    """A ``separator``-separated list of non-empty, stripped items."""

    def parse_items(text: str) -> tuple[str, ...]:
        return tuple(item.strip() for item in text.split(separator) if item.strip())

    return parse_items


def _flag(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError("Input should be a valid boolean")


def _bounded(
    parse: Callable[[str], _N], *, gt: int | None = None, ge: int | None = None, le: int | None = None
) -> Callable[[str], _N]:
    """``parse``, then a range check; the comparisons are written so that NaN fails them."""

    def parse_bounded(text: str) -> _N:
        value = parse(text)
        if gt is not None and not value > gt:
            raise ValueError(f"Input should be greater than {gt}")
        if ge is not None and not value >= ge:
            raise ValueError(f"Input should be greater than or equal to {ge}")
        if le is not None and not value <= le:
            raise ValueError(f"Input should be less than or equal to {le}")
        return value

    return parse_bounded


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
            MAX_BODY_BYTES: str(settings.worker_max_body_bytes),
            STREAM_CHUNK_ROWS: str(settings.worker_stream_chunk_rows),
        }
    )
    if model_data_url:
        environ[MODEL_DATA_URL] = model_data_url
    if settings.s3_endpoint_url:
        environ[S3_ENDPOINT_URL] = settings.s3_endpoint_url
    return environ
