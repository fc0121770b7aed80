"""The worker's HTTP server: the SageMaker hosting contract, ``GET /ping`` and ``POST /invocations``.

A raw ASGI app on uvicorn (uvloop + httptools): no framework, no per-request validation objects.

Where predictions run: a request whose body is at most ``inline_max_bytes`` is answered inline on
the event loop. For the built-in runtimes that is a small batch (sklearn on one row is ~0.1-0.2 ms,
xgboost ~0.25 ms), and running it inline avoids the ~50-100 µs a thread hand-off costs per request;
a loop blocked that briefly cannot starve ``/ping``. Larger bodies, and every request to a runtime
running user code (script, mlflow: ``inline_max_bytes=0``), go to one dedicated model thread, so a
slow prediction never blocks health checks and user code is never entered by more threads at once than
SAGEMAKER_MODEL_SERVER_WORKERS allows (``slots.py``; an inference pipeline's member also answers its
supervisor's lane on threads of its own, ``lane_server.py``, which take their turn from the same slots).

Large bodies: a body is read whole up to ``stream_after_bytes`` (8 MiB, above SageMaker's 6 MB synchronous
limit, so every synchronous request is answered exactly as before). Past that, a row-oriented body
(``text/csv``, ``application/jsonlines``) of a runtime that can stream (``RowStreaming``: the built-in
scikit-learn and XGBoost runtimes) is read on incrementally, predicted ``chunk_rows`` rows at a time on the
model thread as the body arrives, its answer written to a spool (memory up to 1 MiB, then a temporary file),
so memory stays flat whatever the size (an asynchronous request may be 1 GB). The answer is sent from the
spool once the body has been read: HTTP/1.1 clients (httpx, the router, the asynchronous dispatcher) send
the whole request before they read the answer, so an answer sent while the request still arrives would
fill both directions' socket buffers and stall both sides. Waiting also keeps the status honest: a row
that fails anywhere in the body gets its own 400 (rows numbered from the start of the body), not a cut
response. Any other body is read whole up to ``max_body_bytes`` (GREENFLEET_WORKER_MAX_BODY_BYTES); a larger
one is read to its end, dropped, and answered 413.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import tempfile
import threading
from concurrent.futures import Executor
from typing import IO, Any

from starlette.types import ASGIApp, Receive, Scope, Send

from greenfleet.httpserver import GracefulServer, uvicorn_config
from greenfleet.workers.errors import Blocking, ModelInputError, PayloadTooLarge, RequestError
from greenfleet.workers.invocation import Answer, Invocations, failure
from greenfleet.workers.rows import CHUNK_ROWS, RowReader, RowStream
from greenfleet.workers.runtime import RowStreaming, Runtime
from greenfleet.workers.slots import Slots
from greenfleet.workers.watchdog import Heartbeat

__all__ = ["InvocationApp", "serve"]

_log = logging.getLogger("greenfleet.workers")

_TEXT = b"text/plain; charset=utf-8"
MAX_BODY_BYTES = 64 * 1024 * 1024
"""Default largest body read whole (GREENFLEET_WORKER_MAX_BODY_BYTES)."""
STREAM_AFTER_BYTES = 8 * 1024 * 1024
"""A row-oriented body larger than this is streamed (see the module's docstring)."""
SPOOL_MEMORY_BYTES = 1024 * 1024
"""A streamed answer is spooled in memory up to this size, then on disk."""
SEND_BYTES = 1024 * 1024


class InvocationApp:
    """The ASGI app of one worker."""

    def __init__(self, runtime: Runtime, heartbeat: Heartbeat, *, inline_max_bytes: int, executor: Executor,
                 concurrency: int = 1, timeout_s: float | None = None, default_accept: str = "",
                 max_body_bytes: int = MAX_BODY_BYTES, chunk_rows: int = CHUNK_ROWS,
                 stream_after_bytes: int = STREAM_AFTER_BYTES, spare: int = 4) -> None:
        self._runtime = runtime
        self._max_body_bytes = max_body_bytes
        self._chunk_rows = chunk_rows
        self._stream_after_bytes = min(stream_after_bytes, max_body_bytes)
        self._slots = Slots(concurrency, timeout_s, spare)
        """Calls on model threads at once (SAGEMAKER_MODEL_SERVER_WORKERS for user code, else 1), shared with
        a pipeline member's lane (``lane_server.py``); a call past ``timeout_s`` stops counting."""
        self.invocations = Invocations(runtime, self._slots, default_accept=default_accept,
                                       max_body_bytes=max_body_bytes)
        """How a whole body is answered (the lane answers through the same)."""
        self._heartbeat = heartbeat
        self._inline_max_bytes = inline_max_bytes
        self._executor = executor
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
        content_type = accept = ""
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"accept":
                accept = value.decode("latin-1")
        accept = self.invocations.accept_for(accept)
        try:
            body = await self._read_body(receive, send, content_type, accept)
        except RequestError as exc:
            await _respond(send, exc.status_code, exc.message.encode(), _TEXT)
            return
        if body is None:  # the client went away, or the body was streamed and answered
            return
        try:
            if len(body) > self._inline_max_bytes:
                raise Blocking("large body")
            result, media = self._runtime.invoke(body, content_type, accept)
            answer = Answer(200, result, media)
        except Blocking:
            answer = await self._on_model_thread(body, content_type, accept)
        except Exception as exc:
            answer = failure(exc)
        await _respond(send, answer.status, answer.body, answer.content_type.encode("latin-1"))

    async def _read_body(self, receive: Receive, send: Send, content_type: str, accept: str) -> bytes | None:
        """The whole body; None if the client went away or the body was streamed (and answered)."""
        parts: list[bytes] = []
        size = 0
        checked = False
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            data: bytes = message.get("body", b"")
            more = bool(message.get("more_body", False))
            if not more and not parts:
                body = data  # the usual case: the whole body in one message
                break
            parts.append(data)
            size += len(data)
            if not more:
                body = b"".join(parts)
                break
            if size > self._stream_after_bytes and not checked:
                checked = True
                stream = self._row_stream(content_type, accept)
                if stream is not None:
                    await self._stream(stream, parts, receive, send)
                    return None
            if size > self._max_body_bytes:
                parts.clear()
                if not await _drain(receive):  # read to the end, so that the caller, still sending, gets the answer
                    return None
                raise PayloadTooLarge(self.invocations.too_large(size, content_type))
        if len(body) > self._max_body_bytes:
            stream = self._row_stream(content_type, accept)
            if stream is None:
                raise PayloadTooLarge(self.invocations.too_large(len(body), content_type))
            await self._stream(stream, [body], receive, send, more=False)
            return None
        return body

    def _row_stream(self, content_type: str, accept: str) -> RowStream | None:
        return self._runtime.stream(content_type, accept) if isinstance(self._runtime, RowStreaming) else None

    async def _stream(self, stream: RowStream, parts: list[bytes], receive: Receive, send: Send, *,
                      more: bool = True) -> None:
        """Predict the rows of the body (``parts`` read so far, the rest from ``receive``) chunk by chunk into
        a spool, then send the answer from it."""
        reader = RowReader(stream.media, self._chunk_rows)
        parts.reverse()  # taken from the end, so that each part is let go once it has been fed
        ended = not more
        with tempfile.SpooledTemporaryFile(SPOOL_MEMORY_BYTES) as spool:
            token = await self._enter(expires=False)  # a stream's own chunks time out; it gives its slot up
            if token is None:
                if not more or await _drain(receive):
                    await _respond(send, 504, f"the model did not answer within {self._timeout_s:g} s".encode(),
                                   _TEXT)
                return
            try:
                try:
                    while True:
                        while parts:
                            for piece in reader.feed(parts.pop()):
                                await self._predict_chunk(stream, piece, spool)
                        if reader.unfinished > self._max_body_bytes:
                            raise PayloadTooLarge(f"a row of the request body is longer than this worker's maximum "
                                                  f"of {self._max_body_bytes} bytes (GREENFLEET_WORKER_MAX_BODY_BYTES)")
                        if ended:
                            await self._predict_chunk(stream, reader.finish(), spool)
                            break
                        message = await receive()
                        if message["type"] != "http.request":
                            return  # the client went away
                        more = bool(message.get("more_body", False))
                        parts.append(message.get("body", b""))
                        ended = not more
                    if not stream.rows:
                        raise ModelInputError(f"{stream.media} body holds no rows")
                except Exception as exc:
                    if isinstance(exc, RequestError):
                        status, message_text = exc.status_code, exc.message
                    else:
                        _log.exception("invocation failed")
                        status, message_text = 500, f"{type(exc).__name__}: {exc}"
                    if more and not await _drain(receive):
                        return
                    await _respond(send, status, message_text.encode(), _TEXT)
                    return
            finally:
                self._slots.leave(token)
            size = len(stream.head) + spool.tell() + len(stream.tail)
            spool.seek(0)
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", stream.answer.encode("latin-1")),
                                    (b"content-length", str(size).encode())]})
            data = stream.head + spool.read(SEND_BYTES)
            while data:
                await send({"type": "http.response.body", "body": data, "more_body": True})
                data = spool.read(SEND_BYTES)
            await send({"type": "http.response.body", "body": stream.tail, "more_body": False})

    async def _predict_chunk(self, stream: RowStream, piece: bytes, spool: IO[bytes]) -> None:
        """Predict ``piece`` on the model thread, its answer written to ``spool``."""
        def predict() -> None:
            spool.write(stream.chunk(piece))

        future = asyncio.get_running_loop().run_in_executor(self._executor, predict)
        try:
            await asyncio.wait_for(asyncio.shield(future), self._timeout_s)
        except TimeoutError:
            self.abandoned += 1
            future.add_done_callback(_drop)
            raise CallTimedOut(f"the model did not answer a chunk of rows within {self._timeout_s:g} s") from None

    async def _enter(self, expires: bool = True) -> int | None:
        """A slot's token: taken on the loop when one is free (the usual case), else waited for on a thread
        of the loop's default executor, so that the loop never blocks; None when none was free within the
        timeout (every slot held by calls still live, or by as many abandoned ones as may run on)."""
        token = self._slots.try_enter(expires)
        if token is not None:
            return token
        waited = asyncio.get_running_loop().run_in_executor(None, self._slots.enter, expires, self._timeout_s)
        try:
            return await asyncio.shield(waited)
        except asyncio.CancelledError:  # the slot, once had, is given back
            waited.add_done_callback(self._give_back)
            raise

    def _give_back(self, waited: asyncio.Future[int | None]) -> None:
        if not waited.cancelled() and waited.exception() is None:
            token = waited.result()
            if token is not None:
                self._slots.leave(token)

    async def _on_model_thread(self, body: bytes, content_type: str, accept: str) -> Answer:
        """``invoke`` on a model thread, holding one of the slots; a call still running after the timeout
        gives its slot up (its thread runs on, its answer is dropped), so it never blocks the next one.

        The thread settles a plain loop future itself (one ``call_soon_threadsafe``) and the timeout is one
        timer: ``run_in_executor`` + ``shield`` + ``wait_for`` chained three futures through extra callbacks,
        ~10 µs a call, a good part of a trivial script's whole hop in a pipeline (bench/README.md)."""
        token = await self._enter()
        if token is None:
            return failure(CallTimedOut(f"the model did not answer within {self._timeout_s:g} s"))
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[Answer] = loop.create_future()
        timer = None
        self._executor.submit(self._invoke_on_thread, loop, answer, token, body, content_type, accept)
        if self._timeout_s is not None:
            timer = loop.call_later(self._timeout_s, _expire, answer, self._timeout_s)
        try:
            return await answer
        except CallTimedOut as exc:  # its slot stops counting at the same time (Slots' timeout)
            self.abandoned += 1
            return failure(exc)
        finally:
            if timer is not None:
                timer.cancel()

    def _invoke_on_thread(self, loop: asyncio.AbstractEventLoop, answer: asyncio.Future[Answer], token: int,
                          body: bytes, content_type: str, accept: str) -> None:
        """Runs on a model thread: the answer (or an exception that is not an Exception) to ``answer``, on the
        loop; the slot is given back when the runtime returns."""
        try:
            result = self.invocations.answer(body, content_type, accept)
        except BaseException as exc:  # handed to the awaiting request, as an executor would
            loop.call_soon_threadsafe(_settle, answer, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, answer, result, None)
        finally:
            self._slots.leave(token)


class CallTimedOut(RequestError):
    status_code = 504


def _drop(future: asyncio.Future[Any]) -> None:
    """An abandoned call's outcome: read (so asyncio does not log it as never retrieved) and dropped."""
    if not future.cancelled():
        future.exception()


def _settle(answer: asyncio.Future[Answer], result: Answer | None, exc: BaseException | None) -> None:
    """A model thread's outcome, dropped if the call was given up (timed out or cancelled) meanwhile."""
    if answer.done():
        return
    if exc is not None:
        answer.set_exception(exc)
    elif result is not None:
        answer.set_result(result)


def _expire(answer: asyncio.Future[Answer], timeout_s: float) -> None:
    if not answer.done():
        answer.set_exception(CallTimedOut(f"the model did not answer within {timeout_s:g} s"))


async def _drain(receive: Receive) -> bool:
    """Read the rest of the body and drop it; False if the client went away."""
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return False
        if not message.get("more_body", False):
            return True


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
    """Serve ``app`` on ``host``:``port`` until SIGTERM/SIGINT (graceful: in-flight requests finish), then return:
    the caller's clean-up runs and the worker exits 0."""
    config = uvicorn_config(app, host=host, port=port, lifespan="off", timeout_keep_alive=75,
                            date_header=False)
    GracefulServer(config).run()
    if threading.current_thread() is threading.main_thread():  # stopping: a second SIGTERM (the process group's
        signal.signal(signal.SIGTERM, signal.SIG_IGN)          # and a supervisor's) does not cut the clean-up short
