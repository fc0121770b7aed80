"""One worker process: fetch the model data, load the model, serve it (``python -m greenfleet.workers``).

Any failure before serving writes one line to ``GREENFLEET_FAILURE_FILE`` and exits with status 3.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from greenfleet.workers.command import exec_command
from greenfleet.workers.environment import FailureTarget, InvalidEnvironment, PipelineEnvironment, WorkerEnvironment
from greenfleet.workers.errors import StartupError
from greenfleet.workers.failure import write_failure
from greenfleet.workers.images import RuntimeName, check_allowed, choose_runtime, match_image
from greenfleet.workers.runtime import Runtime
from greenfleet.workers.runtimes import INLINE_MAX_BYTES, build_runtime
from greenfleet.workers.server import InvocationApp, serve
from greenfleet.workers.watchdog import Heartbeat, start_orphan_watchdog

__all__ = ["main", "prepare"]

_log = logging.getLogger("greenfleet.workers")

ABANDONED_CALLS = 4
"""Calls past the invocation timeout whose threads may still run while new calls are served."""

_USER_CODE = frozenset({RuntimeName.SCRIPT, RuntimeName.MLFLOW})
"""Runtimes whose loading runs the user's code (an ``inference.py``, an MLflow model's loader)."""


MEMORY_LIMIT_MB = "GREENFLEET_MEMORY_LIMIT_MB"
NICENESS = "GREENFLEET_NICENESS"
SCHEDULING = "GREENFLEET_SCHEDULING"


def lower_priority(value: str | None, scheduling: str | None = None) -> str | None:
    """A shadow variant's instance runs at a lower CPU priority (best effort beside production): its
    niceness, and with ``scheduling`` "idle" Linux's SCHED_IDLE policy (it runs only on CPU time no other
    runnable process wants; an unprivileged process may switch itself to it). On Linux both are properties
    of a thread, inherited by the threads and processes it starts: they are set on every thread the process
    already has (imports may have started some, e.g. a BLAS library's pool), so every later one inherits them.
    None when set, else why not."""
    if scheduling and scheduling not in ("normal", "idle"):
        return f"unknown scheduling {scheduling!r} (expected normal or idle)"
    idle = scheduling == "idle"
    if idle and not hasattr(os, "SCHED_IDLE"):
        return "the idle scheduling policy (SCHED_IDLE) is Linux-only and not available on this system"
    niceness = int(value) if value and value.isdigit() and int(value) > 0 else 0
    for thread in _threads():
        try:
            if niceness:
                os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + niceness))
            if idle:
                os.sched_setscheduler(thread, os.SCHED_IDLE, os.sched_param(0))
        except ProcessLookupError:  # the thread ended meanwhile
            continue
        except OSError as exc:
            return f"the shadow's CPU priority (niceness {niceness}, scheduling {scheduling}) cannot be set: {exc}"
    return None


def _threads() -> list[int]:
    """The ids of this process's threads (Linux: /proc/self/task); elsewhere the process itself (0)."""
    try:
        return sorted(int(entry.name) for entry in Path("/proc/self/task").iterdir())
    except OSError:
        return [0]


def limit_memory(value: str | None) -> str | None:
    """A serverless variant's MemorySizeInMB as this process's address-space limit (RLIMIT_AS, POSIX): an
    allocation beyond it fails (MemoryError) instead of growing. None when set (or not asked), else why not."""
    if not value:
        return None
    try:
        import resource

        limit = int(value) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError) as exc:
        return f"the memory limit {value} MB cannot be set on this system: {exc}"
    return None


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    target = FailureTarget.from_environ()
    lowered = lower_priority(os.environ.get(NICENESS), os.environ.get(SCHEDULING))
    if lowered is not None:
        return write_failure(target.failure_file, lowered)
    limited = limit_memory(os.environ.get(MEMORY_LIMIT_MB))
    if limited is not None:
        return write_failure(target.failure_file, limited)
    try:
        pipeline = PipelineEnvironment.from_environ()
    except InvalidEnvironment as exc:
        return write_failure(target.failure_file, f"the pipeline's environment is invalid: {exc}")
    if pipeline is not None:
        gc.enable()
        from greenfleet.workers.pipeline import run_pipeline

        return run_pipeline(pipeline)
    try:
        env = WorkerEnvironment.from_environ()
    except InvalidEnvironment as exc:
        return write_failure(target.failure_file, f"the worker's environment is invalid: {exc}")
    heartbeat = Heartbeat()
    start_orphan_watchdog(heartbeat, env.orphan_grace_s)
    try:
        runtime, inline_max_bytes, user_code = prepare(env)
    except StartupError as exc:
        return write_failure(env.failure_file, exc.message)
    except Exception as exc:
        _log.exception("loading the model failed")
        return write_failure(env.failure_file, f"loading the model failed: {type(exc).__name__}: {exc}")
    gc.enable()  # off during start-up when run as ``python -m greenfleet.workers`` (see __main__.py)
    concurrency = env.model_server_workers if user_code else 1
    # Room for calls abandoned after the invocation timeout: their threads run on while new calls start.
    executor = ThreadPoolExecutor(max_workers=concurrency + ABANDONED_CALLS, thread_name_prefix="model")
    app = InvocationApp(runtime, heartbeat, inline_max_bytes=inline_max_bytes, executor=executor,
                        concurrency=concurrency, timeout_s=env.invocation_timeout_s,
                        default_accept=env.accept_fallback or "", max_body_bytes=env.max_body_bytes,
                        chunk_rows=env.stream_chunk_rows, spare=ABANDONED_CALLS)
    lane = None
    if env.lane_socket is not None:  # a pipeline's member: its supervisor calls it over the lane (lane_server.py)
        from greenfleet.workers.lane_server import LaneServer

        lane = LaneServer(env.lane_socket, app.invocations)
        try:
            lane.start()
        except OSError as exc:
            return write_failure(env.failure_file, f"the pipeline's lane cannot be served at {env.lane_socket}: {exc}")
    serve(app, env.port, env.bind_host)
    if lane is not None:
        lane.close()
    executor.shutdown(wait=False, cancel_futures=True)
    if app.abandoned:  # a thread stuck in the model would hold the interpreter's exit forever
        logging.shutdown()
        os._exit(0)
    return 0


def prepare(env: WorkerEnvironment) -> tuple[Runtime, int, bool]:
    """Fetch, choose and load: the loaded runtime, its inline limit and whether it runs user code. The
    command image never returns."""
    rule = match_image(env.image)
    check_allowed(env.image, rule, None, env.allowed_images)
    if env.model_data_url:
        _install(env, env.model_data_url, env.model_dir, label="ModelDataUrl")
    else:
        env.model_dir.mkdir(parents=True, exist_ok=True)
    choice = choose_runtime(rule, program=env.program, model_dir=env.model_dir)
    check_allowed(env.image, rule, choice, env.allowed_images)
    if choice.runtime is RuntimeName.COMMAND:
        exec_command(env)
    if choice.runtime is RuntimeName.SCRIPT and env.submit_directory and "://" in env.submit_directory:
        _install(env, env.submit_directory, env.model_dir / "code", label="SAGEMAKER_SUBMIT_DIRECTORY")
    runtime = build_runtime(choice, env)
    if choice.runtime in _USER_CODE:
        gc.enable()  # user code loads with the collector on, as it would anywhere else
    runtime.load(env.model_dir)
    return runtime, INLINE_MAX_BYTES.get(choice.runtime, 0), choice.runtime in _USER_CODE


def _install(env: WorkerEnvironment, url: str, target: Path, *, label: str) -> None:
    """``install_model_data``, imported only by a worker that has model data to fetch; its
    ``ArtifactError`` becomes a StartupError with the same message."""
    from greenfleet.artifacts import ArtifactError, install_model_data

    try:
        install_model_data(
            url, target, max_bytes=env.artifact_max_bytes, s3_endpoint_url=env.s3_endpoint_url, label=label,
            roots=env.model_data_roots or None, allow_link_local=env.allow_link_local,
        )
    except ArtifactError as exc:
        raise StartupError(exc.message) from exc
