"""The ``greenfleet/command`` image: replace the worker with any program implementing the contract.

After the model data is fetched, the worker ``exec``s ``GREENFLEET_COMMAND`` through ``/bin/sh -c``
with ``SAGEMAKER_BIND_TO_PORT``, ``PORT`` and ``SM_MODEL_DIR`` exported; the program must serve
``GET /ping`` and ``POST /invocations`` on 127.0.0.1 at that port (MLflow's scoring server does:
``mlflow models serve -m "$SM_MODEL_DIR" -h 127.0.0.1 -p "$PORT" --env-manager local``).
The exec'd program keeps the worker's pid, so the control plane supervises it unchanged. Python's
orphan watchdog does not survive the exec, so a forked watchdog process takes its place
(:func:`start_command_watchdog`): once no server has held the home lock for the orphan grace period
(the server died and was not restarted to adopt the instance), it stops the instance's process group.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import NoReturn

from greenfleet.ownership import server_running
from greenfleet.workers.environment import WorkerEnvironment
from greenfleet.workers.errors import StartupError

__all__ = ["SHELL", "exec_command", "start_command_watchdog"]

SHELL = "/bin/sh"


def exec_command(env: WorkerEnvironment) -> NoReturn:
    if not env.command:
        raise StartupError(f"Image '{env.image}' runs GREENFLEET_COMMAND, which is not set")
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    if env.server_lock is not None:
        start_command_watchdog(env.server_lock, env.orphan_grace_s)
    try:
        os.execve(SHELL, [SHELL, "-c", env.command], env.command_environ())
    except OSError as exc:
        raise StartupError(f"cannot run GREENFLEET_COMMAND with {SHELL}: {exc}") from exc


_STOP_GRACE_S = 10.0


def start_command_watchdog(server_lock: Path, grace_s: float) -> None:
    """Start a watchdog for the instance (this process, about to exec).

    The watchdog is forked twice, so init (not the exec'd program, which would not reap it) adopts it; it
    stays in the instance's process group, so stopping the instance stops it too, and it exits once the
    instance is gone. While a server holds ``server_lock`` (the one that started the instance, or a
    restarted one that adopts it) it waits; after ``grace_s`` without one it sends the instance's process
    group SIGTERM, then SIGKILL."""
    instance = os.getpid()
    started = _start_time(instance)
    first = os.fork()
    if first:
        os.waitpid(first, 0)  # the intermediate child exits at once
        return
    try:  # the children: no logging, no threads, only system calls
        if os.fork():
            os._exit(0)
        interval_s = min(1.0, grace_s / 4)
        last_seen = time.monotonic()
        while _start_time(instance) == started:
            now = time.monotonic()
            if server_running(server_lock):
                last_seen = now
            elif now - last_seen >= grace_s:
                _stop_group(instance, started)
                break
            time.sleep(interval_s)
    finally:
        os._exit(0)


def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (a reused pid has another), None once it is gone or a zombie."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _stop_group(instance: int, started: str | None) -> None:
    group = instance if os.getpgid(instance) == instance else None  # a session leader: its own group

    def kill(sig: signal.Signals) -> None:
        try:
            if group is not None:
                os.killpg(group, sig)  # the instance and whatever it started (and this watchdog)
            else:
                os.kill(instance, sig)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # outlive the group's SIGTERM to follow up with SIGKILL
    kill(signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_S
    while time.monotonic() < deadline and _start_time(instance) == started:
        time.sleep(0.1)
    if _start_time(instance) == started:
        kill(signal.SIGKILL)
