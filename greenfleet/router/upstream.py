"""HTTP/1.1 keep-alive calls from the router to model instances.

A small pooled client on ``asyncio.Protocol`` with httptools' response parser (the parser uvicorn
uses). It replaced aiohttp's client, which cost the router twice the CPU per request (bench/README.md):
the data plane only ever sends one shape of request to one path, so it needs none of a general
client's machinery.

A request is serialised once (``request``: its headers and body; each instance's request line is cached),
so a shadow's copy writes the production request's bytes. A copy is sent on an idle pooled connection
with ``send_to``: its answer goes to a listener from the parser's callback, with no future or task
(bench/mirror_cpu.py measures what a copy costs)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Protocol, cast

import httptools

from greenfleet.router.table import InstanceAddress

CONNECT_TIMEOUT_S = 2.0


class InstanceUnreachable(Exception):
    """The request never reached the model (connection refused/reset before a response): safe to retry."""


class InstanceTimeout(Exception):
    """The model did not answer within the invocation timeout."""


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    body: bytes
    content_type: str | None
    custom_attributes: str | None
    container: str | None = None
    """The pipeline container that answered (``X-Greenfleet-Container``, set by a pipeline instance)."""
    container_latency: str | None = None
    """A pipeline instance's ``X-Greenfleet-Container-Latency``: ``hostname=microseconds,...``."""


CONTAINER_HEADER = "X-Greenfleet-Container"


class Listener(Protocol):
    """Takes the answer to a request sent with :meth:`Connection.send_to` (called from the connection's
    callbacks on the event loop: it must not raise or block)."""

    def answered(self, connection: Connection, status: int, body: bytes, content_type: str | None) -> None: ...

    def failed(self, connection: Connection, exc: Exception) -> None: ...


class Connection(asyncio.Protocol):
    """One keep-alive connection to an instance; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.waiter: asyncio.Future[UpstreamResponse] | None = None
        self.listener: Listener | None = None
        self.body: list[bytes] = []
        self.content_type: str | None = None
        self.custom_attributes: str | None = None
        self.container: str | None = None
        self.container_latency: str | None = None
        self.open = False
        self.answered = False  # any byte of a response arrived (then a failure is not safe to retry)
        self.keep_alive = False
        self.idle_since = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have the same methods.
        self.transport, self.open = cast(asyncio.Transport, transport), True

    def data_received(self, data: bytes) -> None:
        self.answered = True
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(InstanceUnreachable(f"malformed response from the instance: {exc}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self._fail(InstanceUnreachable(f"connection closed by the instance{': ' + str(exc) if exc else ''}"))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        elif self.listener is not None:
            listener, self.listener = self.listener, None
            listener.failed(self, exc)

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-type":
            self.content_type = value.decode("latin-1")
        elif lowered == b"x-amzn-sagemaker-custom-attributes":
            self.custom_attributes = value.decode("latin-1")
        elif lowered == b"x-greenfleet-container":
            self.container = value.decode("latin-1")
        elif lowered == b"x-greenfleet-container-latency":
            self.container_latency = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        self.keep_alive = self.parser.should_keep_alive()

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        if self.waiter is not None:
            if not self.waiter.done():
                body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
                self.waiter.set_result(UpstreamResponse(self.parser.get_status_code(), body, self.content_type,
                                                        self.custom_attributes, self.container,
                                                        self.container_latency))
        elif self.listener is not None:
            listener, self.listener = self.listener, None
            body = self.body[0] if len(self.body) == 1 else b"".join(self.body)
            listener.answered(self, self.parser.get_status_code(), body, self.content_type)

    def send(self, data: bytes, loop: asyncio.AbstractEventLoop) -> asyncio.Future[UpstreamResponse]:
        self.body, self.content_type, self.custom_attributes, self.answered = [], None, None, False
        self.container = self.container_latency = self.listener = None
        self.waiter = loop.create_future()
        if self.transport is None or not self.open:
            self.waiter.set_exception(InstanceUnreachable("connection is closed"))
        else:
            self.transport.write(data)
        return self.waiter

    def send_to(self, data: bytes, listener: Listener) -> None:
        """Write a request whose answer goes to ``listener`` (an open, idle connection: ``Upstream.pooled``)."""
        self.body, self.content_type, self.answered = [], None, False
        self.waiter, self.listener = None, listener
        cast(asyncio.Transport, self.transport).write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def request(body: bytes, headers: dict[str, str]) -> bytes:
    """A request's headers and body as written to an instance (after its request line and Host)."""
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{head}Content-Length: {len(body)}\r\n\r\n".encode("latin-1") + body


class Upstream:
    def __init__(self, timeout_s: float, keepalive_s: float = 30.0) -> None:
        self.timeout_s = timeout_s
        self.keepalive_s = keepalive_s
        self._idle: dict[tuple[str, int], list[Connection]] = {}
        self._lines: dict[tuple[str, int], bytes] = {}

    def line(self, instance: InstanceAddress) -> bytes:
        """The request line and Host header for ``instance`` (what precedes :func:`request`'s bytes)."""
        key = (instance.host, instance.port)
        line = self._lines.get(key)
        if line is None:
            if len(self._lines) > 4096:  # instances come and go: keep the cache bounded
                self._lines.clear()
            line = self._lines[key] = f"POST /invocations HTTP/1.1\r\nHost: {key[0]}:{key[1]}\r\n".encode("latin-1")
        return line

    async def invoke(self, instance: InstanceAddress, body: bytes, headers: dict[str, str]) -> UpstreamResponse:
        return await self.invoke_request(instance, request(body, headers))

    async def invoke_request(self, instance: InstanceAddress, serialised: bytes) -> UpstreamResponse:
        """Send a request serialised by :func:`request`; retried once on a fresh connection when a pooled
        one turns out to be closed before any answer."""
        loop = asyncio.get_running_loop()
        data = self.line(instance) + serialised
        connection = self.pooled(instance)
        reused = connection is not None
        if connection is None:
            connection = await self._connect(loop, instance)
        while True:
            waiter = connection.send(data, loop)
            timer = loop.call_later(self.timeout_s, _expire, waiter)
            try:
                response = await waiter
            except InstanceUnreachable:
                if reused and not connection.answered:  # a pooled connection the instance had closed
                    reused = False
                    connection = await self._connect(loop, instance)
                    continue
                raise
            except TimeoutError as exc:
                connection.close()
                raise InstanceTimeout(str(exc)) from exc
            finally:
                timer.cancel()
            self.release(instance, connection)
            return response

    def pooled(self, instance: InstanceAddress) -> Connection | None:
        """An open idle keep-alive connection to ``instance`` (taken from the pool), or None."""
        idle = self._idle.get((instance.host, instance.port))
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.open and now - connection.idle_since < self.keepalive_s:
                return connection
            connection.close()
        return None

    def release(self, instance: InstanceAddress, connection: Connection) -> None:
        """Back to the pool once its answer is read (closed instead if the instance did not keep it alive)."""
        if connection.open and connection.keep_alive:
            connection.idle_since = time.monotonic()
            self._idle.setdefault((instance.host, instance.port), []).append(connection)
        else:
            connection.close()

    @staticmethod
    async def _connect(loop: asyncio.AbstractEventLoop, instance: InstanceAddress) -> Connection:
        try:
            _transport, connection = await asyncio.wait_for(
                loop.create_connection(Connection, instance.host, instance.port), timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            raise InstanceUnreachable(str(exc)) from exc
        return connection

    async def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


def _expire(waiter: asyncio.Future[UpstreamResponse]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("the model did not answer in time"))
