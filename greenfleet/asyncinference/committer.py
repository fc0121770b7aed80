"""Group commit for requests accepted on the event loop: InvokeEndpointAsync's front hands each accepted row
here and awaits it; one writer thread takes every row waiting, inserts them in one transaction
(``Queue.write``), then settles all their futures with one call into the loop. A 202 is sent only once its
row is committed (a crash loses no acknowledged request), and a burst of concurrent requests costs one
transaction and two thread switches, not two thread switches each (the thread-pool path this replaces)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Mapping
from typing import Any

from greenfleet.asyncinference.queue import Queue, Ticket

_Waiting = tuple[Ticket, "asyncio.Future[None]", asyncio.AbstractEventLoop]


class LoopCommitter:
    def __init__(self, queue: Queue, committed: Callable[[], None] = lambda: None) -> None:
        self.queue = queue
        self.committed = committed
        """Called (on the writer thread) after each committed batch: the server wakes the dispatcher."""
        self._pending: list[_Waiting] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    async def add(self, row: Mapping[str, Any]) -> None:
        """Return once ``row`` is committed; ValidationError for a reused InferenceId, the store's error else."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the asynchronous request writer is closed")
            self._pending.append((self.queue.ticket(row), future, loop))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="async-enqueue", daemon=True)
                self._thread.start()
        self._wake.set()
        await future

    def close(self) -> None:
        """Write what waits, then stop the writer thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(10)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                batch, self._pending = self._pending, []
                closed = self._closed
            if batch:
                try:
                    self.queue.write([ticket for ticket, _, _ in batch])
                except BaseException as exc:
                    for ticket, _, _ in batch:
                        ticket.error = exc if isinstance(exc, Exception) else RuntimeError(str(exc))
                by_loop: dict[asyncio.AbstractEventLoop, list[tuple[Ticket, asyncio.Future[None]]]] = {}
                for ticket, future, loop in batch:
                    by_loop.setdefault(loop, []).append((ticket, future))
                for loop, settled in by_loop.items():
                    with contextlib.suppress(RuntimeError):  # a closed loop: nobody waits any more
                        loop.call_soon_threadsafe(_settle, settled)
                if any(ticket.error is None for ticket, _, _ in batch):
                    self.committed()
            if closed:
                return


def _settle(settled: list[tuple[Ticket, asyncio.Future[None]]]) -> None:
    for ticket, future in settled:
        if future.done():  # the caller went away (its connection closed): the row is committed all the same
            continue
        if ticket.error is not None:
            future.set_exception(ticket.error)
        else:
            future.set_result(None)
