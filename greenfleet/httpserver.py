"""uvicorn, configured once for greenfleet's HTTP servers (the base URL, the standalone router and every worker).

:class:`GracefulServer` is uvicorn's server for all of them: uvicorn re-raises the SIGINT/SIGTERM that stopped
it once it has shut down, and with the default handler that killed the process there, before the code after
``run()`` (stopping the fleet, shipping the router's last metrics, stopping a pipeline's members) could run.

uvicorn writes a response's head and its body with two ``transport.write`` calls, so each small
response costs two ``send`` system calls and arrives as two TCP segments, which the reader (wrk, a
client, or the router reading a worker) then handles in two event-loop wake-ups. On the invocation
path (client → router → worker → router → client) that happens twice per request.
:class:`CorkedTransport` holds a write until the next one and sends the two with one ``write`` (a
write still held at the end of the event-loop iteration is sent then); :class:`CorkedHttpToolsProtocol`
is uvicorn's httptools protocol on such a transport. Everything else about the transport (flow
control, close, extra info) is unchanged: a close or an abort first flushes (close) or drops (abort)
what is held.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import threading
from collections.abc import Iterator
from typing import Any, Literal

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

__all__ = ["CorkedHttpToolsProtocol", "CorkedTransport", "GracefulServer", "uvicorn_config"]


class GracefulServer(uvicorn.Server):
    """uvicorn's server that, stopped by SIGINT/SIGTERM, shuts down gracefully and returns from ``run()``
    (uvicorn would re-raise the signal; see the module's docstring)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():  # signals reach the main thread only
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


class CorkedTransport(asyncio.Transport):
    """Delegates to ``transport``. A write is held until the next one (usually the head until the body),
    then both leave in one ``write``; a write still held when the loop iteration ends leaves then."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport, self._loop = transport, loop
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if self._pending:  # the body after the head: both leave now, in one write
            self._pending.append(bytes(data))
            self.flush()
            return
        self._pending.append(bytes(data))
        self._loop.call_soon(self.flush)  # a head alone (a streamed body comes later) leaves at the loop's end

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending = []
        if not self._transport.is_closing():
            self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(map(len, self._pending))

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class CorkedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through a :class:`CorkedTransport`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CorkedTransport(transport, self.loop))


def uvicorn_config(app: Any, *, host: str, port: int, lifespan: Literal["on", "off"], timeout_keep_alive: int,
                   date_header: bool) -> uvicorn.Config:
    """The settings both servers share: uvloop, the corked httptools protocol, no websockets, no access
    log, no proxy headers, no ``server`` header."""
    return uvicorn.Config(app, host=host, port=port, loop="uvloop", http=CorkedHttpToolsProtocol, ws="none",
                          lifespan=lifespan, access_log=False, log_level="warning", proxy_headers=False,
                          server_header=False, date_header=date_header, timeout_keep_alive=timeout_keep_alive)
