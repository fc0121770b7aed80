"""What runs on a Ray node for one instance: a small actor that starts the worker process
(``python -m greenfleet.workers``, the same contract as the local backend) on its node, reports the
address it listens on, waits for it to exit, samples its CPU and memory, and stops it.

The worker is started in its own session and told to die with the actor (``PR_SET_PDEATHSIG``), so a
killed actor, or a node whose raylet is gone, never leaves a worker answering behind the control plane's
back. Needs greenfleet installed on every node (the same package as the server's)."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from greenfleet.instances.contract import placed_environment
from greenfleet.instances.local import FAILURE_FILE, exit_reason, free_port
from greenfleet.metrics.procfs import ProcessSampler

_PR_SET_PDEATHSIG = 1
try:
    _LIBC: ctypes.CDLL | None = ctypes.CDLL(None, use_errno=True)
except OSError:  # pragma: no cover - not Linux
    _LIBC = None


def _prepare_child() -> None:
    """In the child before exec: SIGTERM when the actor's thread that started it dies (Linux only), and
    the ordinary scheduling priority: Ray runs its worker processes at niceness 15, which a worker serving
    requests must not inherit (on a busy node it would lose the CPU to everything else: -25 % req/s
    measured on 2 cores). Raising the priority back needs CAP_SYS_NICE or an RLIMIT_NICE that allows it;
    without either the worker keeps Ray's niceness."""
    if _LIBC is not None:
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    with contextlib.suppress(OSError):
        os.setpriority(os.PRIO_PROCESS, 0, 0)


def instance_root() -> Path:
    return Path(tempfile.gettempdir()) / "greenfleet-ray"


class InstanceSupervisor:
    """The body of each instance's named, detached actor (``ray.remote`` is applied by the backend)."""

    def __init__(self, instance_id: str, environment: dict[str, str], token: str, python: str | None,
                 user: tuple[int, int] | None) -> None:
        import ray

        self.token = token
        self.host = str(ray.util.get_node_ip_address())  # type: ignore[no-untyped-call]
        self.node_id = ray.get_runtime_context().get_node_id()
        self.directory = instance_root() / instance_id
        shutil.rmtree(self.directory, ignore_errors=True)
        (self.directory / "model").mkdir(parents=True)
        self.port = free_port(self.host)
        env = placed_environment(environment, self.directory, self.port, FAILURE_FILE, host=self.host)
        if os.environ.get("CUDA_VISIBLE_DEVICES") is not None:  # the GPUs Ray reserved for this actor
            env["CUDA_VISIBLE_DEVICES"] = os.environ["CUDA_VISIBLE_DEVICES"]
        if user is not None:
            for path in (self.directory, self.directory / "model"):
                os.chown(path, *user)
        with open(self.directory / "log", "ab") as log:
            self.child = subprocess.Popen(
                [python or sys.executable, "-m", "greenfleet.workers"], env=env, cwd=self.directory,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                user=user[0] if user else None, group=user[1] if user else None,
                extra_groups=[] if user else None, preexec_fn=_prepare_child)
        self.sampler = ProcessSampler()

    async def identity(self) -> dict[str, str | int]:
        """Where the worker listens and which instance this is (the token the control plane recorded)."""
        return {"host": self.host, "port": self.port, "token": self.token, "pid": self.child.pid,
                "node_id": self.node_id}

    async def wait_exit(self) -> dict[str, str | int | None]:
        """Returns once the worker process has exited, with its status and the reason it gave."""
        code = await asyncio.to_thread(self.child.wait)
        return {"code": code, "reason": exit_reason(self.directory, code)}

    async def usage(self) -> tuple[float, float] | None:
        """CPU (sum over cores, %) and memory (% of the node's) since the previous call."""
        sample = self.sampler.sample(self.child.pid, time.monotonic())
        return None if sample is None else (sample.cpu_percent, sample.memory_percent)

    async def stop(self, grace_s: float) -> None:
        """SIGTERM (in-flight requests finish), SIGKILL after ``grace_s``; then remove the directory."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.child.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        while self.child.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        if self.child.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.child.pid, signal.SIGKILL)
            await asyncio.to_thread(self.child.wait)
        shutil.rmtree(self.directory, ignore_errors=True)
