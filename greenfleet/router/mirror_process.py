"""The mirror process: sends the router's shadow copies, so that their network work and HTTP parsing cost
the serving process nothing. Started and supervised by the router's ``Mirror``:

    python -m greenfleet.router.mirror_process COPIES_FD ANSWERS_FD TIMEOUT_S SWEEP_S NICENESS SCHEDULING

It reads COPY frames (``mirror_frames``) from COPIES_FD; each copy is written on an idle pooled keep-alive
connection to its instance (``upstream.Connection.send_to``: its answer comes back from the parser's
callback, with no task or future), or, with none idle, through a task and ``Upstream.invoke_request``
(connect, retry once). What each copy ended with goes back on ANSWERS_FD as an ANSWER frame, all those of
one event-loop pass in one write. A copy unanswered after TIMEOUT_S (checked every SWEEP_S) is ended
``TIMED_OUT`` and its connection dropped.

It lowers its own CPU priority first, as a shadow's instances do (NICENESS; SCHEDULING ``idle``: Linux's
SCHED_IDLE, it runs only on CPU time nothing else wants). The end of its input (the router stopped or
died) makes it exit; it ignores SIGINT and SIGTERM (its lifetime is the pipe's)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

from greenfleet.router.mirror_frames import (
    ANSWERED,
    COPY,
    TIMED_OUT,
    UNREACHABLE,
    FrameReader,
    answer_frame,
    parse_copy,
)
from greenfleet.router.table import InstanceAddress
from greenfleet.router.upstream import Connection, InstanceTimeout, InstanceUnreachable, Upstream

log = logging.getLogger("greenfleet.router.mirror")
READ_BYTES = 1 << 20


class Sender:
    """Sends copies and collects what they ended with (``answers``: frames not yet written)."""

    def __init__(self, upstream: Upstream, answers_fd: int, sweep_s: float) -> None:
        self.upstream, self.answers_fd, self.sweep_s = upstream, answers_fd, sweep_s
        self.answers: list[bytes] = []
        self._write_soon: asyncio.Handle | None = None
        self._instances: dict[tuple[str, int], InstanceAddress] = {}
        self._waiting: set[_Copy] = set()
        self._sweep: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader = FrameReader()

    def read(self, data: bytes) -> None:
        for kind, body in self._reader.feed(data):
            if kind == COPY:
                frame = parse_copy(body)
                self.send(frame.copy_id, frame.host, frame.port, frame.wants_body, frame.serialised)

    def send(self, copy_id: int, host: str, port: int, wants_body: bool, serialised: bytes) -> None:
        instance = self._instances.get((host, port))
        if instance is None:
            if len(self._instances) > 4096:  # instances come and go: keep the cache bounded
                self._instances.clear()
            instance = self._instances[(host, port)] = InstanceAddress(f"{host}:{port}", host, port)
        copy = _Copy(self, copy_id, instance, wants_body, serialised)
        connection = self.upstream.pooled(instance)
        if connection is None:
            self.spawn(copy)
            return
        copy.connection = connection
        self._waiting.add(copy)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(self.sweep_s, self._expire)
        connection.send_to(self.upstream.line(instance) + serialised, copy)

    def spawn(self, copy: _Copy) -> None:
        task = asyncio.get_running_loop().create_task(self._invoke(copy))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _invoke(self, copy: _Copy) -> None:
        sent = time.perf_counter()
        try:
            response = await self.upstream.invoke_request(copy.instance, copy.serialised)
        except InstanceTimeout:
            self.answer(copy, TIMED_OUT, 504, (time.perf_counter() - sent) * 1e6, None, b"")
        except InstanceUnreachable:
            self.answer(copy, UNREACHABLE, 503, None, None, b"")
        except Exception:  # one copy's failure must not end the others
            log.exception("shadow copy to %s failed", copy.instance.instance_id)
            self.answer(copy, UNREACHABLE, 503, None, None, b"")
        else:
            self.answer(copy, ANSWERED, response.status, (time.perf_counter() - sent) * 1e6,
                        response.content_type, response.body)

    def answer(self, copy: _Copy, ended: int, status: int, model_us: float | None, content_type: str | None,
               body: bytes) -> None:
        if copy.wants_body:
            self.answers.append(answer_frame(copy.copy_id, ended, status, model_us, content_type, body))
        else:
            self.answers.append(answer_frame(copy.copy_id, ended, status, model_us, None, b""))
        if self._write_soon is None:  # after the callbacks of this loop pass: one write for all of them
            self._write_soon = asyncio.get_running_loop().call_soon(self.write)

    def write(self) -> None:
        self._write_soon = None
        data = memoryview(b"".join(self.answers))
        self.answers.clear()
        while data:  # blocking: the router reads its end all the time
            data = data[os.write(self.answers_fd, data):]

    def _expire(self) -> None:
        """Once every SWEEP_S while copies wait: those past the invocation timeout end (one timer for all)."""
        self._sweep = None
        deadline = time.perf_counter() - self.upstream.timeout_s
        for copy in [c for c in self._waiting if c.sent <= deadline]:
            copy.expire()
        if self._waiting:
            self._sweep = asyncio.get_running_loop().call_later(self.sweep_s, self._expire)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._sweep is not None:
            self._sweep.cancel()
        await self.upstream.close()


class _Copy:
    """One copy on its way to a shadow's instance: the listener its pooled connection answers."""

    __slots__ = ("connection", "copy_id", "instance", "sender", "sent", "serialised", "wants_body")

    def __init__(self, sender: Sender, copy_id: int, instance: InstanceAddress, wants_body: bool,
                 serialised: bytes) -> None:
        self.sender, self.copy_id, self.instance, self.wants_body, self.serialised = (
            sender, copy_id, instance, wants_body, serialised)
        self.connection: Connection | None = None
        self.sent = time.perf_counter()

    # Listener: called from the connection's callbacks.
    def answered(self, connection: Connection, status: int, body: bytes, content_type: str | None) -> None:
        model_us = (time.perf_counter() - self.sent) * 1e6
        sender = self.sender
        sender._waiting.discard(self)
        sender.upstream.release(self.instance, connection)
        sender.answer(self, ANSWERED, status, model_us, content_type, body)

    def failed(self, connection: Connection, exc: Exception) -> None:
        self.sender._waiting.discard(self)
        if not connection.answered:  # a pooled connection the instance had closed: connect in a task
            self.sender.spawn(self)
        else:
            self.sender.answer(self, UNREACHABLE, 503, None, None, b"")

    def expire(self) -> None:
        """The invocation timeout passed with no answer: the connection is dropped, the copy ended."""
        self.sender._waiting.discard(self)
        connection = self.connection
        if connection is None or connection.listener is not self:
            return
        connection.listener = None
        connection.close()
        self.sender.answer(self, TIMED_OUT, 504, (time.perf_counter() - self.sent) * 1e6, None, b"")


def lower_priority(niceness: int, scheduling: str) -> None:
    """Before any thread starts (each thread has its own on Linux; later ones inherit these)."""
    if niceness:
        os.nice(niceness)
    if scheduling == "idle" and hasattr(os, "SCHED_IDLE"):
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))


async def serve(copies_fd: int, answers_fd: int, timeout_s: float, sweep_s: float) -> None:
    loop = asyncio.get_running_loop()
    sender = Sender(Upstream(timeout_s), answers_fd, sweep_s)
    ended = loop.create_future()

    def readable() -> None:
        try:
            data = os.read(copies_fd, READ_BYTES)
        except BlockingIOError:
            return
        if not data:
            loop.remove_reader(copies_fd)
            if not ended.done():
                ended.set_result(None)
            return
        sender.read(data)

    os.set_blocking(copies_fd, False)
    loop.add_reader(copies_fd, readable)
    try:
        await ended
    finally:
        await sender.close()


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    lower_priority(int(argv[4]), argv[5])
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    import uvloop  # the router's loop too (httpserver.py)

    uvloop.run(serve(int(argv[0]), int(argv[1]), float(argv[2]), float(argv[3])))


if __name__ == "__main__":
    main(sys.argv[1:])
