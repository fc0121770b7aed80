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

How a container is called: over its **lane**, a Unix-domain socket in its directory (``lane.sock``; a short
temporary path when that one is over a socket's 107 bytes) whose path the supervisor passes in the member's
``GREENFLEET_LANE_SOCKET``. A request is one length-prefixed binary frame (``lane.py``: Content-Type, Accept,
custom attributes, inference id, body), its answer another (status, Content-Type, custom attributes, body),
on pooled connections, one per call in flight (``lane_client.py``). In the member a thread blocks on each
connection and runs the call itself (``lane_server.py``): no HTTP parsing, no event loop, no hand-off to a
model thread, so a hop is one exchange between two processes. The member answers through the same code as
its HTTP app (``invocation.py``: the same statuses and messages) and takes its turn from the same slots
(``slots.py``: ``SAGEMAKER_MODEL_SERVER_WORKERS`` holds across both ways in). The supervisor enforces the
invocation timeout: a container that does not answer in time is answered 504 naming it (its connection is
dropped); one that closes its lane before answering (it died) 500 naming it, "did not answer". A body larger
than the member reads whole (8 MiB, or its GREENFLEET_WORKER_MAX_BODY_BYTES if smaller) goes over HTTP to
the member's port, where it streams rows or refuses the body as a single worker does; so does every call to
a member that serves no lane (a ``greenfleet/command`` image runs its own server). A member still serves
``/ping`` and ``/invocations`` on its port.

When every container runs a built-in runtime (no user code), a Serial pipeline runs them all inside the
supervisor instead (chain.py): no member processes, no hop between containers.

A member that fails (exits with a non-zero status) takes the instance down: the supervisor writes why to
its failure file, stops the others and exits (the reconciler replaces the instance, as it replaces any
failed one). A member that exits with status 0 or by SIGTERM was stopped with the instance (SIGTERM to its
process group), as are all of them once the supervisor is stopping.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
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
from greenfleet.workers.environment import (
    LANE_SOCKET,
    MAX_SOCKET_PATH_BYTES,
    InvalidEnvironment,
    PipelineEnvironment,
    WorkerEnvironment,
)
from greenfleet.workers.errors import StartupError
from greenfleet.workers.failure import FAILURE_EXIT_CODE, write_failure
from greenfleet.workers.lane import LaneRequest
from greenfleet.workers.lane_client import Lane, LaneClosed, LaneTimeout, LaneUnavailable
from greenfleet.workers.messages import read_body as _read_body
from greenfleet.workers.messages import respond as _respond
from greenfleet.workers.server import STREAM_AFTER_BYTES, serve
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
    lane_socket: Path | None = None
    """The member's lane (``lane_server.py``), named in its GREENFLEET_LANE_SOCKET; None: HTTP only."""
    lane_max_bytes: int = STREAM_AFTER_BYTES
    """Larger bodies go over HTTP, where the member streams rows or refuses them as a single worker does."""


class PipelineApp:
    """The supervisor's ASGI app."""

    def __init__(self, members: list[Member], mode: str, heartbeat: Heartbeat, timeout_s: float) -> None:
        self.members = members
        self.mode = mode
        self.heartbeat = heartbeat
        self.upstream = Upstream(timeout_s)
        self.by_hostname = {m.hostname: m for m in members}
        self.lanes = {m.hostname: Lane(m.lane_socket, timeout_s) for m in members if m.lane_socket is not None}

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
            wanted = accept if position == len(chain) - 1 else None
            started = time.perf_counter()
            try:
                status, body, content_type, attributes = await self._call(member, body, content_type, wanted,
                                                                          headers)
            except _Unanswered as exc:
                await _respond(send, exc.status, f"container {member.hostname} {exc.reason}".encode(), _TEXT,
                               [(b"x-greenfleet-container", member.hostname.encode())])
                return
            latencies.append(f"{member.hostname}={(time.perf_counter() - started) * 1e6:.0f}")
            if not 200 <= status < 300:
                await _respond(send, status, body, (content_type or "text/plain").encode("latin-1"),
                               [(b"x-greenfleet-container", member.hostname.encode())])
                return
        extra = [(b"x-greenfleet-container-latency", ",".join(latencies).encode())]
        if attributes is not None:
            extra.append((b"x-amzn-sagemaker-custom-attributes", attributes.encode("latin-1")))
        await _respond(send, 200, body, (content_type or "application/octet-stream").encode("latin-1"), extra)

    async def _call(self, member: Member, body: bytes, content_type: str | None, accept: str | None,
                    headers: dict[str, str]) -> tuple[int, bytes, str | None, str | None]:
        """One container's status, body, Content-Type and custom attributes: over its lane when it serves one
        and the body is one it reads whole, else over HTTP. ``content_type`` is the previous container's
        answer's (verbatim), ``accept`` the caller's for the last container (None: the container's default),
        ``headers`` the caller's others (custom attributes, inference id)."""
        lane = self.lanes.get(member.hostname)
        lane_missing = False
        if lane is not None and len(body) <= member.lane_max_bytes:
            request = LaneRequest(content_type or "", accept or "",
                                  headers.get("X-Amzn-SageMaker-Custom-Attributes", ""),
                                  headers.get("X-Amzn-SageMaker-Inference-Id", ""), body)
            try:
                answer = await lane.call(request)
            except LaneTimeout as exc:
                raise _Unanswered(504, str(exc)) from exc
            except LaneClosed as exc:
                raise _Unanswered(500, f"did not answer: {exc}") from exc
            except LaneUnavailable:
                lane_missing = True
            else:
                return answer.status, answer.body, answer.content_type or None, answer.custom_attributes or None
        sent = dict(headers)
        if content_type is not None:
            sent["Content-Type"] = content_type
        else:
            sent.pop("Content-Type", None)
        if accept is not None:
            sent["Accept"] = accept
        try:
            response = await self.upstream.invoke(member.address, body, sent)
        except InstanceTimeout as exc:
            raise _Unanswered(504, f"did not answer within {self.upstream.timeout_s:g} s") from exc
        except InstanceUnreachable as exc:
            raise _Unanswered(500, f"did not answer: {exc}") from exc
        if lane_missing:  # it answers over HTTP and has no lane socket (bound before its HTTP port): it serves none
            self.lanes.pop(member.hostname, None)
        return response.status, response.body, response.content_type, response.custom_attributes


class _Unanswered(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


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
    spare_directory: list[Path] = []  # for sockets whose path in a member's directory is too long
    stopping = threading.Event()
    try:
        for position, entry in enumerate(plan["Members"]):
            directory = Path(entry["directory"])
            lane = _lane_path(directory, position, spare_directory)
            children.append(subprocess.Popen(
                [sys.executable, "-m", "greenfleet.workers"], env={**entry["environment"], LANE_SOCKET: str(lane)},
                cwd=directory, stdin=subprocess.DEVNULL))
            members.append(Member(entry["hostname"], InstanceAddress(entry["hostname"], "127.0.0.1", entry["port"]),
                                  directory, lane, _lane_max_bytes(entry["environment"])))
        threading.Thread(target=_watch_members, args=(members, children, env.failure_file, spare_directory, stopping),
                         name="members", daemon=True).start()
        app = PipelineApp(members, str(plan["Mode"]), heartbeat, env.invocation_timeout_s or 3600.0)
        serve(app, env.port)
    finally:  # served, or could not start a member or listen: the members go, and the lanes' directory
        stopping.set()
        for directory in spare_directory:
            shutil.rmtree(directory, ignore_errors=True)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.terminate()
        for child in children:
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
    return 0


def _lane_path(directory: Path, position: int, spare: list[Path]) -> Path:
    """``lane.sock`` in the member's directory, or, when that path is over a Unix socket's limit, in a private
    temporary directory (made once, in ``spare``)."""
    path = directory / "lane.sock"
    if len(os.fsencode(path)) <= MAX_SOCKET_PATH_BYTES:
        return path
    if not spare:
        spare.append(Path(tempfile.mkdtemp(prefix="greenfleet-lanes-")))
    return spare[0] / f"{position}.sock"


def _lane_max_bytes(environment: dict[str, str]) -> int:
    """The largest body a member reads whole without streaming it (its own limit, else the default)."""
    try:
        return min(STREAM_AFTER_BYTES, WorkerEnvironment.from_environ(environment).max_body_bytes)
    except InvalidEnvironment:
        return 0  # the member fails with its own reason; HTTP until then


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
    # A chain run past its timeout runs on in its model thread, and the interpreter's exit would wait for it:
    # nothing of the chain needs saving (built-in runtimes only), so the process ends here.
    logging.shutdown()
    os._exit(0)


def _watch_members(members: list[Member], children: list[subprocess.Popen[bytes]], failure_file: Path | None,
                   spare_directory: list[Path], stopping: threading.Event) -> None:
    """A member that exits takes the instance down, with the member's own reason (and the lanes' temporary
    directory with it), unless the instance is being stopped: the supervisor stops its members itself once it
    has stopped serving (``stopping``), and a member that exits 0 or by SIGTERM was stopped with the instance
    (its process group got SIGTERM; a member still loading its model dies of it)."""
    while not stopping.is_set():
        for member, child in zip(members, children, strict=True):
            code = child.poll()
            if code is None:
                continue
            if code in (0, -signal.SIGTERM) or stopping.is_set():  # a stop, not a failure
                return
            reason_file = member.directory / "failure"
            reason = reason_file.read_text(errors="replace").strip() if reason_file.exists() else ""
            write_failure(failure_file, f"container {member.hostname} of the pipeline exited (status {code})"
                          + (f": {reason}" if reason else ""))
            for other in children:
                with contextlib.suppress(ProcessLookupError):
                    other.kill()
            for directory in spare_directory:
                shutil.rmtree(directory, ignore_errors=True)
            logging.shutdown()
            os._exit(FAILURE_EXIT_CODE)
        time.sleep(0.2)
