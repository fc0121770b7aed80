"""A Serial inference pipeline whose containers all run greenfleet's built-in runtimes (scikit-learn, XGBoost,
ONNX: no user code), chained inside the supervisor's own process instead of one worker process per container
joined by loopback HTTP. Each extra container then costs its prediction and no HTTP hop (the hop was about 0.33
ms p50 each).

The chain keeps the HTTP chain's contract (pipeline.py): each container gets the previous one's answer with its
Content-Type verbatim; the caller's Accept goes to the last container only, an intermediate one answers in its
``SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT`` if set (else in its runtime's default); a container's error is answered
as it gave it, named in ``X-Greenfleet-Container``; ``X-Greenfleet-Container-Latency`` lists each one's time. A
small request runs inline on the event loop (as a single built-in worker's does); a larger one runs the whole
chain on one model thread (one hand-off, not one per container). Containers that run user code (a script, an
MLflow model, a command, or an image whose model data decides) keep their own processes."""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass

from greenfleet.types import Receive, Scope, Send
from greenfleet.workers.environment import WorkerEnvironment
from greenfleet.workers.errors import RequestError, StartupError
from greenfleet.workers.images import RuntimeName, ScriptMode, match_image
from greenfleet.workers.messages import read_body, respond
from greenfleet.workers.runtime import Runtime
from greenfleet.workers.watchdog import Heartbeat

__all__ = ["ChainApp", "Link", "in_process"]

_log = logging.getLogger("greenfleet.workers")
_TEXT = "text/plain; charset=utf-8"
BUILT_IN = frozenset({RuntimeName.SKLEARN, RuntimeName.XGBOOST, RuntimeName.ONNX})


def in_process(env: WorkerEnvironment) -> bool:
    """Whether a container can run inside the supervisor: its image's runtime is built in, whatever its model
    data holds (an image that switches to the user's script when the model data has one does not qualify)."""
    try:
        rule = match_image(env.image)
    except StartupError:
        return False  # its own worker reports it
    if rule.runtime not in BUILT_IN:
        return False
    if rule.script_mode is ScriptMode.NEVER:
        return True
    return rule.script_mode is ScriptMode.PROGRAM and not env.program


@dataclass(frozen=True)
class Link:
    hostname: str
    runtime: Runtime
    inline_max_bytes: int
    default_accept: str


@dataclass(frozen=True)
class _Outcome:
    status: int
    body: bytes
    content_type: str
    latencies: str
    failed: str | None = None


class ChainApp:
    """The supervisor's ASGI app when every container is in process (all loaded before it serves)."""

    def __init__(self, links: list[Link], heartbeat: Heartbeat, executor: Executor,
                 timeout_s: float | None = None) -> None:
        self.links = links
        self.heartbeat = heartbeat
        self.executor = executor
        self.timeout_s = timeout_s
        self.inline_max_bytes = min(link.inline_max_bytes for link in links)
        self._slot = asyncio.Semaphore(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/ping" and scope["method"] in ("GET", "HEAD"):
            self.heartbeat.beat()
            await respond(send, 200, b"", _TEXT.encode())
        elif scope["path"] == "/invocations" and scope["method"] == "POST":
            body = await read_body(receive)
            content_type = accept = ""
            for key, value in scope["headers"]:
                if key == b"content-type":
                    content_type = value.decode("latin-1")
                elif key == b"accept":
                    accept = value.decode("latin-1")
            if len(body) <= self.inline_max_bytes:
                outcome = self.run(body, content_type, accept)
            else:
                outcome = await self._on_model_thread(body, content_type, accept)
            extra = [(b"x-greenfleet-container-latency", outcome.latencies.encode())]
            if outcome.failed is not None:
                extra = [(b"x-greenfleet-container", outcome.failed.encode())]
            await respond(send, outcome.status, outcome.body, outcome.content_type.encode("latin-1"), extra)
        else:
            await respond(send, 404, b"a pipeline serves GET /ping and POST /invocations", _TEXT.encode())

    def run(self, body: bytes, content_type: str, accept: str) -> _Outcome:
        """The request through every container in order."""
        latencies = []
        last = len(self.links) - 1
        for position, link in enumerate(self.links):
            wanted = accept if position == last else ""
            if wanted in ("", "*/*") and link.default_accept:
                wanted = link.default_accept
            started = time.perf_counter()
            try:
                body, content_type = link.runtime.invoke(body, content_type, wanted)
            except RequestError as exc:
                return _Outcome(exc.status_code, exc.message.encode(), _TEXT, "", link.hostname)
            except RecursionError:
                return _Outcome(400, b"request body nests too deeply to be read", _TEXT, "", link.hostname)
            except Exception as exc:
                _log.exception("container %s failed", link.hostname)
                return _Outcome(500, f"{type(exc).__name__}: {exc}".encode(), _TEXT, "", link.hostname)
            latencies.append(f"{link.hostname}={(time.perf_counter() - started) * 1e6:.0f}")
        return _Outcome(200, body, content_type, ",".join(latencies))

    async def _on_model_thread(self, body: bytes, content_type: str, accept: str) -> _Outcome:
        async with self._slot:
            future = asyncio.get_running_loop().run_in_executor(self.executor, self.run, body, content_type, accept)
            try:
                return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
            except TimeoutError:
                future.add_done_callback(lambda done: done.cancelled() or done.exception())
                return _Outcome(504, f"the pipeline did not answer within {self.timeout_s:g} s".encode(), _TEXT,
                                "")
