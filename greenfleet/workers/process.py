"""One worker process: fetch the model data, load the model, serve it (``python -m greenfleet.workers``).

Any failure before serving writes one line to ``GREENFLEET_FAILURE_FILE`` and exits with status 3.
"""

from __future__ import annotations

import logging
import sys
from concurrent.futures import ThreadPoolExecutor

from pydantic import ValidationError

from greenfleet.artifacts import ArtifactError, install_model_data
from greenfleet.workers.command import exec_command
from greenfleet.workers.environment import FailureTarget, WorkerEnvironment
from greenfleet.workers.errors import StartupError
from greenfleet.workers.failure import write_failure
from greenfleet.workers.images import RuntimeName, choose_runtime, match_image
from greenfleet.workers.runtime import Runtime
from greenfleet.workers.runtimes import INLINE_MAX_BYTES, build_runtime
from greenfleet.workers.server import InvocationApp, serve
from greenfleet.workers.watchdog import Heartbeat, start_orphan_watchdog

__all__ = ["main", "prepare"]

_log = logging.getLogger("greenfleet.workers")


def main() -> int:
    logging.basicConfig(
        stream=sys.stderr, level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    target = FailureTarget()
    try:
        env = WorkerEnvironment()  # type: ignore[call-arg]  # filled from the environment
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        return write_failure(target.failure_file, f"the worker's environment is invalid: {problems}")
    heartbeat = Heartbeat()
    start_orphan_watchdog(heartbeat, env.orphan_grace_s)
    try:
        runtime, inline_max_bytes = prepare(env)
    except (ArtifactError, StartupError) as exc:
        return write_failure(env.failure_file, exc.message)
    except Exception as exc:
        _log.exception("loading the model failed")
        return write_failure(env.failure_file, f"loading the model failed: {type(exc).__name__}: {exc}")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="model") as executor:
        app = InvocationApp(runtime, heartbeat, inline_max_bytes=inline_max_bytes, executor=executor)
        serve(app, env.port)
    return 0


def prepare(env: WorkerEnvironment) -> tuple[Runtime, int]:
    """Fetch, choose and load: the loaded runtime and its inline limit. The command image never returns."""
    rule = match_image(env.image)
    if env.model_data_url:
        install_model_data(
            env.model_data_url, env.model_dir, max_bytes=env.artifact_max_bytes, s3_endpoint_url=env.s3_endpoint_url
        )
    else:
        env.model_dir.mkdir(parents=True, exist_ok=True)
    choice = choose_runtime(rule, program=env.program, model_dir=env.model_dir)
    if choice.runtime is RuntimeName.COMMAND:
        exec_command(env)
    if choice.runtime is RuntimeName.SCRIPT and env.submit_directory and "://" in env.submit_directory:
        install_model_data(
            env.submit_directory,
            env.model_dir / "code",
            max_bytes=env.artifact_max_bytes,
            s3_endpoint_url=env.s3_endpoint_url,
            label="SAGEMAKER_SUBMIT_DIRECTORY",
        )
    runtime = build_runtime(choice, env)
    runtime.load(env.model_dir)
    return runtime, INLINE_MAX_BYTES.get(choice.runtime, 0)
