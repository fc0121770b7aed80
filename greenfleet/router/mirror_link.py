"""The router's end of its mirror process (``mirror_process``): the pipes, the process's start and restart.

Everything runs on the router's event loop, with no thread: the COPY frames offered during one loop pass
are written with one non-blocking ``write`` after it (``call_soon``; what the pipe does not take waits for
it to drain), and the ANSWER frames are read whenever the pipe has some, all those one ``read`` returns
handed over in one call. (A thread in between, as data capture has, would add a wake-up's latency to
every copy, and copies in flight per endpoint are few: ``shadow_max_in_flight``.)

- Bounded: frame bytes offered and not yet taken by the pipe are at most ``max_queued_bytes``; beyond,
  ``offer`` refuses (the caller drops and counts the copy).
- Supervised: the process starts with the first copy. When it exits (its answers pipe ends, or a write
  finds the pipe broken) ``on_exit`` is called (the copies it had are lost) and a new one is started with
  the next copy, after 0.5 s doubling up to 30 s while it keeps dying young; meanwhile ``ready`` says no."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass

from greenfleet.pipechild import RestartBackoff, spawn
from greenfleet.router.mirror_frames import ANSWER, FrameReader

log = logging.getLogger("greenfleet.router.mirror")
READ_BYTES = 1 << 20
STOP_TIMEOUT_S = 2.0


@dataclass(slots=True)
class _Child:
    process: subprocess.Popen[bytes]
    copies_fd: int
    answers_fd: int
    started: float
    reader: FrameReader


class MirrorLink:
    def __init__(self, *, timeout_s: float, sweep_s: float, niceness: int, scheduling: str, max_queued_bytes: int,
                 on_answers: Callable[[list[memoryview]], None], on_exit: Callable[[], None]) -> None:
        self.timeout_s, self.sweep_s = timeout_s, sweep_s
        self.niceness, self.scheduling = niceness, scheduling
        self.max_queued_bytes = max_queued_bytes
        self.on_answers, self.on_exit = on_answers, on_exit
        self.restarts = 0
        """Mirror processes started after one exited."""
        self._child: _Child | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._out: list[bytes] = []
        self._unwritten = memoryview(b"")
        self._queued_bytes = 0
        self._write_soon: asyncio.Handle | None = None
        self._restart = RestartBackoff()

    @property
    def pid(self) -> int | None:
        """The mirror process's, while one runs."""
        return self._child.process.pid if self._child is not None else None

    def ready(self) -> bool:
        """Whether a mirror process runs (one is started if none does and its back-off has passed)."""
        if self._child is not None:
            return True
        if not self._restart.due():
            return False
        self._child = self._spawn()
        return self._child is not None

    def offer(self, frame: bytes) -> bool:
        """Queue a frame for the running mirror process (``ready`` first); False when over the bound."""
        if self._queued_bytes + len(frame) > self.max_queued_bytes:
            return False
        self._queued_bytes += len(frame)
        self._out.append(frame)
        if self._write_soon is None and not self._unwritten:
            self._write_soon = asyncio.get_running_loop().call_soon(self._write)
        return True

    def _write(self) -> None:
        self._write_soon = None
        child = self._child
        if child is None:
            return
        if self._out:
            joined = b"".join(self._out)
            self._out.clear()
            self._unwritten = memoryview(bytes(self._unwritten) + joined) if self._unwritten else memoryview(joined)
        try:
            written = os.write(child.copies_fd, self._unwritten)
        except BlockingIOError:
            written = 0
        except OSError:  # the mirror process is gone
            self._exited(child)
            return
        self._unwritten = self._unwritten[written:]
        self._queued_bytes -= written
        loop = self._loop
        assert loop is not None
        if self._unwritten:
            loop.add_writer(child.copies_fd, self._drained)
        else:
            loop.remove_writer(child.copies_fd)

    def _drained(self) -> None:
        if self._write_soon is None:
            self._write()

    def _readable(self) -> None:
        child = self._child
        if child is None:
            return
        try:
            data = os.read(child.answers_fd, READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._exited(child)
            return
        answers = [body for kind, body in child.reader.feed(data) if kind == ANSWER]
        if answers:
            self.on_answers(answers)

    def _spawn(self) -> _Child | None:
        loop = self._loop = asyncio.get_running_loop()
        try:
            piped = spawn("greenfleet.router.mirror_process", [repr(self.timeout_s), repr(self.sweep_s),
                                                                str(self.niceness), self.scheduling])
        except OSError as exc:
            log.error("cannot start the mirror process: %s", exc)
            self._restart.failed()
            return None
        loop.add_reader(piped.from_child, self._readable)
        return _Child(piped.process, piped.to_child, piped.from_child, piped.started, FrameReader())

    def _exited(self, child: _Child) -> None:
        """The mirror process is gone: its copies are lost (``on_exit``); another starts later."""
        self._detach(child)
        code = _reap(child.process, STOP_TIMEOUT_S)
        log.warning("the mirror process exited (code %s); its copies in flight are counted dropped", code)
        self.restarts += 1
        self._restart.exited(child.started)
        self.on_exit()

    def _detach(self, child: _Child) -> None:
        loop = self._loop
        assert loop is not None
        loop.remove_reader(child.answers_fd)
        loop.remove_writer(child.copies_fd)
        for fd in (child.copies_fd, child.answers_fd):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._child = None
        self._out.clear()
        self._unwritten = memoryview(b"")
        self._queued_bytes = 0
        if self._write_soon is not None:
            self._write_soon.cancel()
            self._write_soon = None

    def kill(self) -> None:
        """End a mirror process that is stuck (its answers pipe then ends: ``on_exit``, and a restart)."""
        child = self._child
        if child is not None:
            with contextlib.suppress(OSError):
                child.process.kill()

    async def close(self) -> None:
        """Close the copies pipe (the mirror process ends); what it had in flight is not waited for."""
        child = self._child
        if child is None:
            return
        self._detach(child)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        while child.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        _reap(child.process, 0.0)


def _reap(process: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait()
