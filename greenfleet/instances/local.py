"""Instances as local OS processes: ``python -m greenfleet.workers`` (the SageMaker hosting contract),
each in its own session so a control-plane crash does not take the fleet down with it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from greenfleet.instances.backend import Address, Exit, InstanceHandle, InstanceSpec
from greenfleet.instances.contract import (
    TOKEN_VARIABLE,
    WorkerContract,
    placed_environment,
    priority_environment,
    timeout_environment,
)
from greenfleet.instances.isolation import Isolation
from greenfleet.metrics.procfs import ProcessSampler, Usage
from greenfleet.resources.pipeline import is_pipeline, mode_of

FAILURE_FILE = "failure"
PIPELINE_FILE = "pipeline.json"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LocalProcessBackend:
    def __init__(self, home: Path, python: str | None = None, orphan_grace_s: float = 60.0,
                 artifact_max_bytes: int | None = None, s3_endpoint_url: str | None = None,
                 stop_grace_s: float = 10.0, isolation: Isolation | None = None,
                 server_lock: Path | None = None, invocation_timeout_s: float | None = None,
                 max_body_bytes: int | None = None, stream_chunk_rows: int | None = None) -> None:
        self.root = home / "instances"
        self.root.mkdir(parents=True, exist_ok=True)
        self.python = python or sys.executable
        self.orphan_grace_s = orphan_grace_s
        self.artifact_max_bytes = artifact_max_bytes
        self.s3_endpoint_url = s3_endpoint_url
        self.stop_grace_s = stop_grace_s
        self.isolation = isolation or Isolation()
        if self.isolation.user is not None:  # the worker user must reach its instance directory (traverse only)
            for path in (home, self.root):
                path.chmod(path.stat().st_mode | 0o011)
        self.server_lock = server_lock
        """The server's home lock: a command instance's watchdog stops it once no server holds it."""
        self.invocation_timeout_s = invocation_timeout_s
        self.contract = WorkerContract(self.isolation, orphan_grace_s, artifact_max_bytes, s3_endpoint_url,
                                       invocation_timeout_s, server_lock, max_body_bytes, stream_chunk_rows)
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._handles: dict[str, InstanceHandle] = {}
        self._lock = threading.Lock()
        self._sampler = ProcessSampler()

    def directory(self, instance_id: str) -> Path:
        return self.root / instance_id

    def log_path(self, instance_id: str) -> Path:
        return self.directory(instance_id) / "log"

    def start(self, spec: InstanceSpec, now: float) -> InstanceHandle:
        directory = self.directory(spec.instance_id)
        shutil.rmtree(directory, ignore_errors=True)
        (directory / "model").mkdir(parents=True)
        port, token = free_port(), secrets.token_hex(8)
        if is_pipeline(spec.container):
            env = self._pipeline_environment(spec.container, directory, port, token, spec.invocation_timeout_s)
        else:
            env = placed_environment(self.contract.environment(spec.container, token), directory, port, FAILURE_FILE)
            env.update(timeout_environment(spec.invocation_timeout_s))
        if spec.memory_mb:  # a serverless variant's MemorySizeInMB: the worker sets it as its RLIMIT_AS
            env["GREENFLEET_MEMORY_LIMIT_MB"] = str(spec.memory_mb)
        # A shadow's: the worker lowers its own priority before anything else.
        env.update(priority_environment(spec.niceness, spec.scheduling))
        user = self.isolation.user
        if user is not None:  # the worker writes its model, failure file and code under its directory
            for path in (directory, directory / "model"):
                os.chown(path, user.uid, user.gid)
        with open(self.log_path(spec.instance_id), "ab") as log:
            child = subprocess.Popen(
                [self.python, "-m", "greenfleet.workers"], env=env, cwd=directory, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                user=user.uid if user else None, group=user.gid if user else None,
                extra_groups=[] if user else None,
            )
        handle = InstanceHandle(spec.instance_id, Address("127.0.0.1", port), now, {"pid": child.pid, "token": token})
        with self._lock:
            self._children[spec.instance_id] = child
            self._handles[spec.instance_id] = handle
        return handle

    def _pipeline_environment(self, document: dict[str, Any], directory: Path, port: int,
                              token: str, timeout_s: float | None) -> dict[str, str]:
        """An inference pipeline's instance: a supervisor worker on the instance's port that starts one worker
        per container (each on its own SAGEMAKER_BIND_TO_PORT, in its own directory) and chains them. Each
        member's environment is made here, as a single container's is, and handed over in a file."""
        members = []
        for position, container in enumerate(document["Containers"], start=1):
            member_dir = directory / f"container-{position}"
            (member_dir / "model").mkdir(parents=True)
            if self.isolation.user is not None:
                for path in (member_dir, member_dir / "model"):
                    os.chown(path, self.isolation.user.uid, self.isolation.user.gid)
            member_port = free_port()
            environment = placed_environment(self.contract.environment(container, token), member_dir, member_port,
                                             FAILURE_FILE)
            environment.update(timeout_environment(timeout_s))
            members.append({"hostname": str(container.get("ContainerHostname") or f"container-{position}"),
                            "port": member_port, "directory": str(member_dir), "environment": environment})
        plan = directory / PIPELINE_FILE
        plan.write_text(json.dumps({"Mode": mode_of(document), "Members": members}))
        plan.chmod(0o600)
        if self.isolation.user is not None:
            os.chown(plan, self.isolation.user.uid, self.isolation.user.gid)
        supervisor = self.contract.environment({}, token)  # the contract's policy, no container of its own
        supervisor.pop("GREENFLEET_IMAGE", None)
        env = placed_environment(supervisor, directory, port, FAILURE_FILE)
        env["GREENFLEET_PIPELINE_FILE"] = str(plan)
        env.update(timeout_environment(timeout_s))
        return env

    def exited(self, handle: InstanceHandle) -> Exit | None:
        child = self._children.get(handle.instance_id)
        if child is not None:
            code = child.poll()
            if code is None:
                return None
        else:
            if _alive(*_process(handle)):
                return None
            code = None
        return Exit(code, self._reason(handle.instance_id, code))

    def _reason(self, instance_id: str, code: int | None) -> str | None:
        return exit_reason(self.directory(instance_id), code)

    def locate(self, handle: InstanceHandle) -> Address | None:
        return handle.address  # a local process has its address from the start

    def sample(self, handle: InstanceHandle, now: float) -> Usage | None:
        return self._sampler.sample(_process(handle)[0], now)

    def stop(self, handle: InstanceHandle) -> None:
        _signal_group(_process(handle)[0], signal.SIGTERM)
        child = self._children.get(handle.instance_id)
        threading.Thread(target=self._reap, args=(handle, child), daemon=True).start()

    def _reap(self, handle: InstanceHandle, child: subprocess.Popen[bytes] | None) -> None:
        deadline = time.monotonic() + self.stop_grace_s
        while time.monotonic() < deadline:
            if (child.poll() is not None) if child else not _alive(*_process(handle)):
                break
            time.sleep(0.05)
        else:
            _signal_group(_process(handle)[0], signal.SIGKILL)
            if child is not None:
                child.wait(5)
        with self._lock:
            self._children.pop(handle.instance_id, None)
            self._handles.pop(handle.instance_id, None)
        self._sampler.forget(_process(handle)[0])
        shutil.rmtree(self.directory(handle.instance_id), ignore_errors=True)

    def adopt(self, handle: InstanceHandle) -> bool:
        if not _alive(*_process(handle)):
            return False
        with self._lock:
            self._handles[handle.instance_id] = handle
        return True

    def close(self, stop_instances: bool) -> None:
        if not stop_instances:
            return
        with self._lock:
            handles = list(self._handles.values())
        for handle in handles:
            _signal_group(_process(handle)[0], signal.SIGTERM)
        deadline = time.monotonic() + self.stop_grace_s
        for handle in handles:
            child = self._children.get(handle.instance_id)
            while time.monotonic() < deadline and (
                (child.poll() is None) if child else _alive(*_process(handle))
            ):
                time.sleep(0.05)
            _signal_group(_process(handle)[0], signal.SIGKILL)


def exit_reason(directory: Path, code: int | None) -> str:
    """Why the worker in ``directory`` stopped: its failure file, else its exit status and log tail."""
    failure = directory / FAILURE_FILE
    if failure.exists():
        text = failure.read_text(errors="replace").strip()
        if text:
            return text
    tail = _tail(directory / "log")
    if code is not None and code < 0:
        return f"the instance process was killed by signal {-code}"
    return f"the instance process exited with status {code}" + (f": {tail}" if tail else "")


def _process(handle: InstanceHandle) -> tuple[int, str]:
    """The local backend's reference: the instance's pid and the token in its environment."""
    return int(handle.ref["pid"]), str(handle.ref["token"])


def _alive(pid: int, token: str) -> bool:
    """True if ``pid`` runs and is the instance that holds ``token`` (pids get reused)."""
    try:
        environ = Path(f"/proc/{pid}/environ").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat.rsplit(")", 1)[-1].split()[0] == "Z":
        return False
    return f"{TOKEN_VARIABLE}={token}".encode() in environ.split(b"\0")


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _tail(path: Path, limit: int = 600) -> str:
    try:
        data = path.read_bytes()[-limit:]
    except OSError:
        return ""
    return data.decode("utf-8", "replace").strip().replace("\n", " | ")
