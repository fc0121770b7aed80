"""An inference pipeline's instance: a supervisor worker that runs one worker per container, side by side
on the instance, and chains them.

The instance backend starts ``python -m greenfleet.workers`` with ``GREENFLEET_PIPELINE_FILE`` naming a plan
(each member's hostname, port and whole environment, made as a single container's would be). The supervisor
starts every member (``python -m greenfleet.workers`` again, each on its own ``SAGEMAKER_BIND_TO_PORT``),
serves the SageMaker contract on the instance's port, and:

- ``GET /ping`` answers 200 once every member answers its own ``/ping`` (that check is also the members'
  heartbeat: a member whose supervisor is gone stops being checked and exits after its orphan grace);
- ``POST /invocations`` in **Serial** mode sends the request to the first container, each response to the
  next one with its Content-Type verbatim, and the caller's Accept to the last container only (an
  intermediate container answers in its own default, as SageMaker's do); in **Direct** mode it sends the
  request to the container ``X-Amzn-SageMaker-Target-Container-Hostname`` names (the router has checked it);
- a container's error is answered as that container gave it, naming it in ``X-Greenfleet-Container``
  (the router's ModelError names it); ``X-Greenfleet-Container-Latency`` lists each container's time.

When every container runs a built-in runtime (no user code), a Serial pipeline runs them all inside the
supervisor instead (chain.py): no member processes, no HTTP hop between containers.

A member that fails (exits with a non-zero status) takes the instance down: the supervisor writes why to
its failure file, stops the others and exits (the reconciler replaces the instance, as it replaces any
failed one). A member that exits with status 0 was stopped with the instance (SIGTERM to its process group).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from greenfleet.router.table import InstanceAddress
from greenfleet.router.upstream import InstanceTimeout, InstanceUnreachable, Upstream
from greenfleet.types import Receive, Scope, Send
from greenfleet.workers.chain import ChainApp, Link, in_process
from greenfleet.workers.environment import InvalidEnvironment, PipelineEnvironment, WorkerEnvironment
from greenfleet.workers.errors import StartupError
from greenfleet.workers.failure import FAILURE_EXIT_CODE, write_failure
from greenfleet.workers.messages import read_body as _read_body
from greenfleet.workers.messages import respond as _respond
from greenfleet.workers.server import serve
from greenfleet.workers.watchdog import Heartbeat, start_orphan_watchdog

__all__ = ["Member", "PipelineApp", "run_pipeline"]

_log = logging.getLogger("greenfleet.workers")
_TEXT = b"text/plain; charset=utf-8"
_PING_TIMEOUT_S = 2.0
_FORWARDED = {
    b"content-type": "Content-Type",
    b"x-amzn-sagemaker-custom-attributes": "X-Amzn-SageMaker-Custom-Attributes",
    b"x-amzn-sagemaker-inference-id": "X-Amzn-SageMaker-Inference-Id",
}
_HOSTNAME = b"x-amzn-sagemaker-target-container-hostname"


@dataclass(frozen=True)
class Member:
    hostname: str
    address: InstanceAddress
    directory: Path


class PipelineApp:
    """The supervisor's ASGI app."""

    def __init__(self, members: list[Member], mode: str, heartbeat: Heartbeat, timeout_s: float) -> None:
        self.members = members
        self.mode = mode
        self.heartbeat = heartbeat
        self.upstream = Upstream(timeout_s)
        self.by_hostname = {m.hostname: m for m in members}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/ping" and scope["method"] in ("GET", "HEAD"):
            self.heartbeat.beat()
            ready = await asyncio.gather(*(_ping(m.address) for m in self.members))
            waiting = [m.hostname for m, ok in zip(self.members, ready, strict=True) if not ok]
            if waiting:
                await _respond(send, 503, f"waiting for {', '.join(waiting)}".encode(), _TEXT)
            else:
                await _respond(send, 200, b"", _TEXT)
        elif scope["path"] == "/invocations" and scope["method"] == "POST":
            await self._invoke(scope, receive, send)
        else:
            await _respond(send, 404, b"a pipeline serves GET /ping and POST /invocations", _TEXT)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        headers: dict[str, str] = {}
        accept = hostname = None
        for key, value in scope["headers"]:
            name = _FORWARDED.get(key)
            if name is not None:
                headers[name] = value.decode("latin-1")
            elif key == b"accept":
                accept = value.decode("latin-1")
            elif key == _HOSTNAME:
                hostname = value.decode("latin-1")
        if self.mode == "Direct":
            member = self.by_hostname.get(hostname or "")
            if member is None:
                await _respond(send, 400, f"unknown container hostname {hostname!r}".encode(), _TEXT)
                return
            chain = [member]
        else:
            chain = self.members
        latencies: list[str] = []
        content_type = headers.get("Content-Type")
        attributes = None
        for position, member in enumerate(chain):
            sent = dict(headers)
            if content_type is not None:
                sent["Content-Type"] = content_type  # the previous container's answer, verbatim
            else:
                sent.pop("Content-Type", None)
            if accept is not None and position == len(chain) - 1:
                sent["Accept"] = accept
            started = time.perf_counter()
            try:
                response = await self.upstream.invoke(member.address, body, sent)
            except (InstanceUnreachable, InstanceTimeout) as exc:
                await _respond(send, 500, f"container {member.hostname} did not answer: {exc}".encode(), _TEXT,
                               [(b"x-greenfleet-container", member.hostname.encode())])
                return
            latencies.append(f"{member.hostname}={(time.perf_counter() - started) * 1e6:.0f}")
            if not 200 <= response.status < 300:
                await _respond(send, response.status, response.body,
                               (response.content_type or "text/plain").encode("latin-1"),
                               [(b"x-greenfleet-container", member.hostname.encode())])
                return
            body, content_type, attributes = response.body, response.content_type, response.custom_attributes
        extra = [(b"x-greenfleet-container-latency", ",".join(latencies).encode())]
        if attributes is not None:
            extra.append((b"x-amzn-sagemaker-custom-attributes", attributes.encode("latin-1")))
        await _respond(send, 200, body, (content_type or "application/octet-stream").encode("latin-1"), extra)


async def _ping(address: InstanceAddress) -> bool:
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(address.host, address.port),
                                                _PING_TIMEOUT_S)
    except (OSError, TimeoutError):
        return False
    try:
        writer.write(f"GET /ping HTTP/1.1\r\nHost: {address.host}\r\nConnection: close\r\n\r\n".encode())
        line = await asyncio.wait_for(reader.readline(), _PING_TIMEOUT_S)
        return line.split(b" ")[1:2] == [b"200"]
    except (OSError, TimeoutError, IndexError):
        return False
    finally:
        writer.close()


def run_pipeline(env: PipelineEnvironment) -> int:
    """Start the members, serve until SIGTERM, and exit with the failure status if a member exits."""
    plan = json.loads(env.plan_file.read_text())
    heartbeat = Heartbeat()
    start_orphan_watchdog(heartbeat, env.orphan_grace_s)
    if plan["Mode"] == "Serial":
        chained = _in_process_members(plan)
        if chained is not None:
            return _run_in_process(chained, env, heartbeat)
    members: list[Member] = []
    children: list[subprocess.Popen[bytes]] = []
    for entry in plan["Members"]:
        directory = Path(entry["directory"])
        children.append(subprocess.Popen(
            [sys.executable, "-m", "greenfleet.workers"], env=entry["environment"], cwd=directory,
            stdin=subprocess.DEVNULL))
        members.append(Member(entry["hostname"], InstanceAddress(entry["hostname"], "127.0.0.1", entry["port"]),
                              directory))
    threading.Thread(target=_watch_members, args=(members, children, env.failure_file), name="members",
                     daemon=True).start()
    app = PipelineApp(members, str(plan["Mode"]), heartbeat, env.invocation_timeout_s or 3600.0)
    serve(app, env.port)
    for child in children:
        with contextlib.suppress(ProcessLookupError):
            child.terminate()
    for child in children:
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
    return 0


def _in_process_members(plan: dict[str, Any]) -> list[tuple[str, WorkerEnvironment]] | None:
    """Each member's hostname and environment when every one can run in this process (chain.py), else None."""
    members = []
    for entry in plan["Members"]:
        try:
            member = WorkerEnvironment.from_environ(entry["environment"])
        except InvalidEnvironment:
            return None  # its own worker reports it
        if not in_process(member):
            return None
        members.append((str(entry["hostname"]), member))
    return members


def _run_in_process(members: list[tuple[str, WorkerEnvironment]], env: PipelineEnvironment,
                    heartbeat: Heartbeat) -> int:
    """Load every container's model here and serve the chain; a container that cannot load fails the instance
    with its own reason, named."""
    from greenfleet.workers.process import prepare

    links = []
    for hostname, member in members:
        try:
            runtime, inline_max_bytes, _ = prepare(member)
        except StartupError as exc:
            return write_failure(env.failure_file, f"container {hostname} of the pipeline could not start: "
                                                   f"{exc.message}")
        except Exception as exc:
            _log.exception("loading container %s failed", hostname)
            return write_failure(env.failure_file, f"container {hostname} of the pipeline could not start: "
                                                   f"loading the model failed: {type(exc).__name__}: {exc}")
        links.append(Link(hostname, runtime, inline_max_bytes, member.accept_fallback or ""))
    executor = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model")
    serve(ChainApp(links, heartbeat, executor, env.invocation_timeout_s), env.port)
    executor.shutdown(wait=False, cancel_futures=True)
    return 0


def _watch_members(members: list[Member], children: list[subprocess.Popen[bytes]], failure_file: Path | None) -> None:
    """A member that exits takes the instance down, with the member's own reason."""
    while True:
        for member, child in zip(members, children, strict=True):
            code = child.poll()
            if code is None:
                continue
            if code == 0:  # a graceful stop (the instance's process group got SIGTERM): no failure to report
                return
            reason_file = member.directory / "failure"
            reason = reason_file.read_text(errors="replace").strip() if reason_file.exists() else ""
            write_failure(failure_file, f"container {member.hostname} of the pipeline exited (status {code})"
                          + (f": {reason}" if reason else ""))
            for other in children:
                with contextlib.suppress(ProcessLookupError):
                    other.kill()
            logging.shutdown()
            os._exit(FAILURE_EXIT_CODE)
        time.sleep(0.2)
