"""Data capture as the server runs it: the serving process only frames each sampled invocation's raw bytes
(``frames``: one struct pack and one join, no encoding) onto a bounded queue; a thread writes the queue
to a pipe, many records per system call, to a capture-writer process of its own (``writer_process``),
which encodes SageMaker's records and writes the files. So encoding costs the serving process neither CPU
nor the GIL.

- Bounded: bytes taken and not yet confirmed written by the writer process are at most
  ``max_queued_bytes``; beyond that a record is dropped and counted (``dropped``), the invocation never waits.
- Supervised: the writer process starts with the first record. If it exits, the records it had not
  confirmed are counted ``lost`` (at most one flush interval's worth, or what was in the pipe), and a new
  one is started (after 0.5 s, doubling up to 30 s while it keeps dying young); records taken meanwhile
  wait in the queue, within the bound.
- ``flush`` returns once everything taken before it is written; ``stop`` writes everything, then closes
  the pipe, and the writer process exits."""

from __future__ import annotations

import collections
import contextlib
import logging
import os
import select
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.frames import (
    HEAD,
    NO_ID,
    RECORD,
    RECORD_FIXED,
    RECORD_HEAD,
    Status,
    Stream,
    flush_frame,
    reset_frame,
    status_lines,
    stream_frame,
)
from greenfleet.capture.sink import CaptureCounts, Key
from greenfleet.pipechild import RestartBackoff, spawn

log = logging.getLogger("greenfleet.capture")
MAX_STREAMS = 10_000
"""Stream declarations kept before the table starts over (each routing table has new settings)."""
FLUSH_TIMEOUT_S = 30.0

_StreamKey = tuple[int, str, str, str, str]
"""id(setting), endpoint, variant, request content type, response content type"""
_StreamEntry = tuple[int, CaptureSetting, Key, bool, bool]
"""stream id, the setting (kept, so its id stays its own), (endpoint, variant), capture input, output"""
_pack = RECORD_HEAD.pack


@dataclass(slots=True)
class _Child:
    process: subprocess.Popen[bytes]
    records_fd: int
    status_fd: int
    started: float
    sent: collections.Counter[Key] = field(default_factory=collections.Counter)
    sent_bytes: int = 0
    status: Status = field(default_factory=lambda: Status(0, 0, {}, {}))
    status_buffer: bytearray = field(default_factory=bytearray)


class CaptureHandoff:
    def __init__(self, *, max_queued_bytes: int, flush_interval_s: float, s3_endpoint_url: str | None = None,
                 poll_s: float = 0.05) -> None:
        self.max_queued_bytes = max_queued_bytes
        self.flush_interval_s = flush_interval_s
        self.s3_endpoint_url = s3_endpoint_url
        self.poll_s = poll_s
        """How often the thread moves the queue into the pipe (at most one write call per pass)."""
        # Written on the serving thread only: the queue's tail, the streams, offered bytes, drops.
        self._queue: deque[tuple[Key | None, bytes]] = deque()
        self._streams: dict[_StreamKey, _StreamEntry] = {}
        self._stream_frames: dict[int, bytes] = {}
        self._next_stream = 1
        self._offered_bytes = 0
        self._dropped: dict[Key, int] = {}
        # Written by the thread only (under _lock where counts() reads them).
        self._done_bytes = 0
        self._base: dict[Key, tuple[int, int, int]] = {}
        """(written, failed, lost) by writer processes that have exited"""
        self._child: _Child | None = None
        self._lock = threading.Lock()
        self._confirmed = threading.Condition(self._lock)
        self._flush_seq = 0
        self._confirmed_seq = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self.restarts = 0
        """Writer processes started after one exited."""
        self._restart = RestartBackoff()

    # --- the hot path (the serving thread) --------------------------------------------------------
    def capture(self, setting: CaptureSetting, endpoint: str, variant: str, at: float, request: bytes,
                request_type: str, response: bytes, response_type: str, inference_id: str | None) -> bool:
        stream = self._streams.get((id(setting), endpoint, variant, request_type, response_type))
        if stream is None or stream[1] is not setting:
            stream = self._declare(setting, endpoint, variant, request_type, response_type)
        stream_id, _, key, with_input, with_output = stream
        if not with_input:
            request = b""
        if not with_output:
            response = b""
        if inference_id is None:
            identifier, id_length = b"", NO_ID
        else:
            identifier = inference_id.encode()[:NO_ID - 1]
            id_length = len(identifier)
        length = RECORD_FIXED + len(identifier) + len(request) + len(response)
        offered = self._offered_bytes + length + HEAD.size
        if offered - self._done_bytes > self.max_queued_bytes:
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return False
        self._offered_bytes = offered
        self._queue.append((key, b"".join((_pack(RECORD, length, stream_id, at, id_length, len(request),
                                                 len(response)), identifier, request, response))))
        return True

    def _declare(self, setting: CaptureSetting, endpoint: str, variant: str, request_type: str,
                 response_type: str) -> _StreamEntry:
        if len(self._streams) >= MAX_STREAMS:
            self._streams, self._stream_frames = {}, {}
            self._queue.append((None, reset_frame()))
        stream_id, self._next_stream = self._next_stream, self._next_stream + 1
        entry = (stream_id, setting, (endpoint, variant), setting.capture_input, setting.capture_output)
        self._streams[(id(setting), endpoint, variant, request_type, response_type)] = entry
        frame = stream_frame(stream_id, Stream(setting, endpoint, variant, request_type, response_type))
        self._stream_frames[stream_id] = frame  # a new writer process is told every stream first
        self._queue.append((None, frame))
        return entry

    # --- what the control plane reads -------------------------------------------------------------
    def counts(self) -> dict[Key, CaptureCounts]:
        with self._lock:
            live = self._child.status.counts if self._child is not None else {}
            base = dict(self._base)
        dropped = dict(self._dropped)
        result = {}
        for key in set(base) | set(live) | set(dropped):
            written, failed, lost = base.get(key, (0, 0, 0))
            now_written, now_failed = live.get(key, (0, 0))
            result[key] = CaptureCounts(written + now_written, dropped.get(key, 0), failed + now_failed, lost)
        return result

    def failure(self, destination: str) -> str | None:
        with self._lock:
            child = self._child
            return child.status.failures.get(destination.rstrip("/")) if child is not None else None

    def failures(self) -> dict[str, str]:
        with self._lock:
            child = self._child
            return dict(child.status.failures) if child is not None else {}

    @property
    def queued_bytes(self) -> int:
        """Bytes taken and not yet written (or counted failed or lost)."""
        return self._offered_bytes - self._done_bytes

    @property
    def waiting(self) -> int:
        """Records (and frames) taken and not yet handed to the writer process."""
        return len(self._queue)

    @property
    def pid(self) -> int | None:
        """The writer process's, while one runs."""
        child = self._child
        return child.process.pid if child is not None else None

    # --- lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="greenfleet-capture-handoff", daemon=True)
            self._thread.start()

    def flush(self) -> None:
        if self._thread is None:
            raise RuntimeError("the capture hand-off is not started")
        if self.queued_bytes == 0:
            return  # everything taken is written, or counted failed or lost
        with self._lock:
            self._flush_seq += 1
            wanted = self._flush_seq
        self._queue.append((None, flush_frame(wanted)))
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        with self._confirmed:
            while self._confirmed_seq < wanted and time.monotonic() < deadline and self._thread.is_alive():
                self._confirmed.wait(0.1)

    def stop(self) -> None:
        if self._thread is None:
            return
        self.flush()
        self._stopping.set()
        self._thread.join(timeout=FLUSH_TIMEOUT_S)
        self._thread = None

    # --- the thread -------------------------------------------------------------------------------
    def _run(self) -> None:
        out = memoryview(b"")
        while True:
            child = self._child
            if child is None and (self._queue or self._flush_seq > self._confirmed_seq) \
                    and self._restart.due() and not self._stopping.is_set():
                child = self._spawn()
            if self._stopping.is_set():
                break
            if child is None:
                time.sleep(self.poll_s)
                continue
            try:
                if not out and self._queue:
                    out = memoryview(self._take(child))
                poller = select.poll()  # (not select(): a server's descriptors may be numbered past 1023)
                poller.register(child.status_fd, select.POLLIN)
                if out:
                    poller.register(child.records_fd, select.POLLOUT)
                for fd, _ in poller.poll(self.poll_s * 1000):
                    if fd == child.records_fd:
                        with contextlib.suppress(BlockingIOError):
                            out = out[os.write(child.records_fd, out):]
                        continue
                    data = os.read(child.status_fd, 65536)
                    if not data:
                        raise BrokenPipeError
                    child.status_buffer += data
                    for status in status_lines(child.status_buffer):
                        self._took_status(child, status)
            except (BrokenPipeError, ConnectionResetError):
                out = memoryview(b"")
                self._exited(child)
            except Exception:  # the hand-off must outlive a bug: start over with a new writer process
                log.exception("capture hand-off failed; restarting the capture writer process")
                out = memoryview(b"")
                self._exited(child)
        child = self._child
        if child is not None:  # what was taken after the last flush, then the end of input
            with contextlib.suppress(OSError):
                os.set_blocking(child.records_fd, True)
                os.write(child.records_fd, bytes(out) + (self._take(child) if self._queue else b""))
            self._retire(child)

    def _retire(self, child: _Child) -> None:
        """Close its input (it writes what it holds and exits), read its last status, and count what it
        wrote, what its destinations refused and what it did not confirm (lost)."""
        code = self._close(child)
        with contextlib.suppress(OSError):
            os.set_blocking(child.status_fd, False)
            while data := os.read(child.status_fd, 65536):
                child.status_buffer += data
        for status in status_lines(child.status_buffer):
            self._took_status(child, status)
        with contextlib.suppress(OSError):
            os.close(child.status_fd)
        lost_total = 0
        with self._lock:
            for key in set(child.sent) | set(child.status.counts):
                written, failed = child.status.counts.get(key, (0, 0))
                lost = max(child.sent.get(key, 0) - written - failed, 0)
                lost_total += lost
                before = self._base.get(key, (0, 0, 0))
                self._base[key] = (before[0] + written, before[1] + failed, before[2] + lost)
            self._done_bytes += child.sent_bytes - child.status.done_bytes
            self._child = None
        if lost_total or code:
            log.warning("the capture writer process exited (code %s); %d records it had not confirmed are lost",
                        code, lost_total)

    def _take(self, child: _Child) -> bytes:
        queue = self._queue
        items = [queue.popleft() for _ in range(len(queue))]
        child.sent.update(key for key, _ in items if key is not None)
        chunk = b"".join([frame for _, frame in items])
        child.sent_bytes += len(chunk) - sum(len(frame) for key, frame in items if key is None)
        return chunk

    def _spawn(self) -> _Child | None:
        try:
            piped = spawn("greenfleet.capture.writer_process", [repr(self.flush_interval_s),
                                                                 self.s3_endpoint_url or ""])
        except OSError as exc:
            log.error("cannot start the capture writer process: %s", exc)
            self._restart.failed()
            return None
        child = _Child(piped.process, piped.to_child, piped.from_child, piped.started)
        with self._lock:
            self._child = child
        # the new process knows no stream yet (a flush waited for is confirmed after what is queued now)
        self._queue.appendleft((None, b"".join(self._stream_frames.values())))
        if self._flush_seq > self._confirmed_seq:
            self._queue.append((None, flush_frame(self._flush_seq)))
        return child

    def _took_status(self, child: _Child, status: Status) -> None:
        with self._lock:
            self._done_bytes += status.done_bytes - child.status.done_bytes
            child.status = status
        if status.confirmed:
            self._confirm(status.confirmed)

    def _confirm(self, sequence: int) -> None:
        with self._confirmed:
            self._confirmed_seq = max(self._confirmed_seq, sequence)
            self._confirmed.notify_all()

    def _exited(self, child: _Child) -> None:
        """The writer process is gone: count what it had not confirmed as lost; start another later."""
        self._retire(child)
        self.restarts += 1
        self._restart.exited(child.started)

    @staticmethod
    def _close(child: _Child) -> int | None:
        with contextlib.suppress(OSError):
            os.close(child.records_fd)
        try:
            return child.process.wait(timeout=FLUSH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            child.process.kill()
            return child.process.wait()
