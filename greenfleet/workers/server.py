"""The worker's HTTP server: the SageMaker hosting contract, ``GET /ping`` and ``POST /invocations``.

A raw ASGI app on uvicorn (uvloop + httptools): no framework, no per-request validation objects.

Where predictions run: a request whose body is at most ``inline_max_bytes`` is answered inline on
the event loop. For the built-in runtimes that is a small batch (sklearn on one row is ~0.1-0.2 ms,
xgboost ~0.25 ms), and running it inline avoids the ~50-100 µs a thread hand-off costs per request;
a loop blocked that briefly cannot starve ``/ping``. Larger bodies, and every request to a runtime
running user code (script, mlflow: ``inline_max_bytes=0``), go to one dedicated model thread, so a
slow prediction never blocks health checks and user code is never entered by two threads at once.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Executor

import uvicorn
from starlette.types import ASGIApp, Receive, Scope, Send

from greenfleet.httpserver import uvicorn_config
from greenfleet.workers.errors import Blocking, RequestError
from greenfleet.workers.runtime import Runtime
from greenfleet.workers.watchdog import Heartbeat

__all__ = ["InvocationApp", "serve"]

_log = logging.getLogger("greenfleet.workers")

_TEXT = b"text/plain; charset=utf-8"


class InvocationApp:
    """The ASGI app of one worker."""

    def __init__(self, runtime: Runtime, heartbeat: Heartbeat, *, inline_max_bytes: int, executor: Executor,
                 concurrency: int = 1, timeout_s: float | None = None, default_accept: str = "") -> None:
        self._runtime = runtime
        self._default_accept = default_accept
        """Answered in when the caller's Accept is absent or ``*/*`` (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, as
        SageMaker's containers do: how an intermediate container of a pipeline picks what the next one reads)."""
        self._heartbeat = heartbeat
        self._inline_max_bytes = inline_max_bytes
        self._executor = executor
        self._slots = asyncio.Semaphore(concurrency)
        """Calls on model threads at once (SAGEMAKER_MODEL_SERVER_WORKERS for user code, else 1)."""
        self._timeout_s = timeout_s
        self.abandoned = 0
        """Calls given up after the timeout (their threads may still run)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        method = scope["method"]
        if path == "/invocations":
            if method == "POST":
                await self._invoke(scope, receive, send)
            else:
                await _respond(send, 405, b"use POST /invocations", _TEXT)
        elif path == "/ping":
            if method in ("GET", "HEAD"):
                self._heartbeat.beat()
                await _respond(send, 200, b"", _TEXT)
            else:
                await _respond(send, 405, b"use GET /ping", _TEXT)
        else:
            await _respond(send, 404, b"not found: a model serves GET /ping and POST /invocations", _TEXT)

    async def _invoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _read_body(receive)
        if body is None:
            return
        content_type = accept = ""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
        if accept in ("", "*/*") and self._default_accept:
            accept = self._default_accept
        try:
            try:
                if len(body) > self._inline_max_bytes:
                    raise Blocking("large body")
                answer, media = self._runtime.invoke(body, content_type, accept)
            except Blocking:
                answer, media = await self._on_model_thread(body, content_type, accept)
        except RequestError as exc:
            await _respond(send, exc.status_code, exc.message.encode(), _TEXT)
        except RecursionError:  # a hostile body (deep nesting) the runtime's decoding could not walk
            await _respond(send, 400, b"request body nests too deeply to be read", _TEXT)
        except Exception as exc:
            _log.exception("invocation failed")
            await _respond(send, 500, f"{type(exc).__name__}: {exc}".encode(), _TEXT)
        else:
            await _respond(send, 200, answer, media.encode("latin-1"))


    async def _on_model_thread(self, body: bytes, content_type: str, accept: str) -> tuple[bytes, str]:
        """``invoke`` on a model thread, holding one of the slots; a call still running after the timeout
        gives its slot up (its thread runs on, its answer is dropped), so it never blocks the next one.

        The thread settles a plain loop future itself (one ``call_soon_threadsafe``) and the timeout is one
        timer: ``run_in_executor`` + ``shield`` + ``wait_for`` chained three futures through extra callbacks,
        ~10 µs a call, a good part of a trivial script's whole hop in a pipeline (bench/README.md)."""
        await self._slots.acquire()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[tuple[bytes, str]] = loop.create_future()
        timer = None
        try:
            self._executor.submit(self._invoke_on_thread, loop, answer, body, content_type, accept)
            if self._timeout_s is not None:
                timer = loop.call_later(self._timeout_s, _expire, answer, self._timeout_s)
            try:
                return await answer
            except CallTimedOut:
                self.abandoned += 1
                raise
        finally:
            if timer is not None:
                timer.cancel()
            self._slots.release()

    def _invoke_on_thread(self, loop: asyncio.AbstractEventLoop, answer: asyncio.Future[tuple[bytes, str]],
                          body: bytes, content_type: str, accept: str) -> None:
        """Runs on a model thread: the runtime's answer (or exception) to ``answer``, on the loop."""
        try:
            result = self._runtime.invoke(body, content_type, accept)
        except BaseException as exc:  # handed to the awaiting request, as an executor would
            loop.call_soon_threadsafe(_settle, answer, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, answer, result, None)


class CallTimedOut(RequestError):
    status_code = 504


def _settle(answer: asyncio.Future[tuple[bytes, str]], result: tuple[bytes, str] | None,
            exc: BaseException | None) -> None:
    """A model thread's outcome, dropped if the call was given up (timed out or cancelled) meanwhile."""
    if answer.done():
        return
    if exc is not None:
        answer.set_exception(exc)
    elif result is not None:
        answer.set_result(result)


def _expire(answer: asyncio.Future[tuple[bytes, str]], timeout_s: float) -> None:
    if not answer.done():
        answer.set_exception(CallTimedOut(f"the model did not answer within {timeout_s:g} s"))


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away."""
    message = await receive()
    if message["type"] != "http.request":
        return None
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body
    chunks = [body]
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


async def _respond(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def serve(app: ASGIApp, port: int, host: str = "127.0.0.1") -> None:
    """Serve ``app`` on ``host``:``port`` until SIGTERM/SIGINT (graceful: in-flight requests finish)."""
    config = uvicorn_config(app, host=host, port=port, lifespan="off", timeout_keep_alive=75,
                            date_header=False)
    uvicorn.Server(config).run()
