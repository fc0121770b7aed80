"""The background capture writer. ``offer`` is the only call on the hot path: a length check and a deque
append, no I/O, no encoding. A thread drains the queue, encodes SageMaker's records and writes them to
their destinations at least every ``flush_interval_s``. Memory is bounded by ``max_queued_bytes`` (bytes
offered and not yet written); beyond it, records are dropped and counted — an invocation never waits."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from greenfleet.capture.config import CaptureSetting
from greenfleet.capture.destination import CaptureWriteError, Destination, open_destination
from greenfleet.capture.record import CapturedEvent, fast_line, file_name, hour_prefix, inference_time
from greenfleet.capture.sink import CaptureCounts, Key

__all__ = ["CaptureCounts", "CaptureWriter", "Key"]
log = logging.getLogger("greenfleet.capture")
DRAIN_INTERVAL_S = 0.1


@dataclass(slots=True)
class _Chunk:
    destination: str
    prefix: str
    first_at: float
    lines: list[bytes]
    size: int
    key: Key
    kms_key_id: str | None


class CaptureWriter:
    def __init__(self, *, max_queued_bytes: int, flush_interval_s: float, s3_endpoint_url: str | None = None,
                 new_id: Callable[[], str] | None = None) -> None:
        self.max_queued_bytes = max_queued_bytes
        self.flush_interval_s = flush_interval_s
        self.s3_endpoint_url = s3_endpoint_url
        self.new_id = new_id or (lambda: str(uuid.uuid4()))
        self._queue: deque[CapturedEvent] = deque()
        # Each counter has one writing thread (offered_*/dropped: the event loop; the rest: the writer).
        self._offered_bytes = 0
        self._done_bytes = 0
        self._dropped: dict[Key, int] = {}
        self._written: dict[Key, int] = {}
        self._failed: dict[Key, int] = {}
        self._failures: dict[str, str] = {}
        self._destinations: dict[str, Destination] = {}
        self._pending: dict[tuple[str, str], _Chunk] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()  # serialises drain/write between the thread and explicit flush()

    # --- the hot path -----------------------------------------------------------------------------
    def offer(self, event: CapturedEvent) -> bool:
        """Queue one sampled invocation; False (and counted) when the queue is full."""
        size = event.size
        if self._offered_bytes - self._done_bytes + size > self.max_queued_bytes:
            key = (event.endpoint, event.variant)
            self._dropped[key] = self._dropped.get(key, 0) + 1
            return False
        self._offered_bytes += size
        self._queue.append(event)
        return True

    def capture(self, setting: CaptureSetting, endpoint: str, variant: str, at: float, request: bytes,
                request_type: str, response: bytes, response_type: str, inference_id: str | None) -> bool:
        return self.offer(CapturedEvent(setting, endpoint, variant, at, request, request_type, response,
                                        response_type, inference_id))

    # --- what the control plane reads -------------------------------------------------------------
    def counts(self) -> dict[Key, CaptureCounts]:
        keys = set(self._dropped) | set(self._written) | set(self._failed)
        return {k: CaptureCounts(self._written.get(k, 0), self._dropped.get(k, 0), self._failed.get(k, 0))
                for k in keys}

    def failure(self, destination: str) -> str | None:
        """Why the last write to ``destination`` failed, if it did (cleared by the next good write)."""
        return self._failures.get(destination.rstrip("/"))

    def failures(self) -> dict[str, str]:
        """Every destination whose last write failed, and why."""
        return dict(self._failures)

    @property
    def queued_bytes(self) -> int:
        return self._offered_bytes - self._done_bytes

    # --- the writer thread ------------------------------------------------------------------------
    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="greenfleet-capture", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.flush()
        for destination in self._destinations.values():
            destination.close()
        self._destinations.clear()

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_interval_s
        while not self._stop.wait(DRAIN_INTERVAL_S):
            try:
                with self._lock:
                    self._drain()
                    if time.monotonic() >= next_flush:
                        next_flush = time.monotonic() + self.flush_interval_s
                        self._write_pending()
            except Exception:  # the writer must outlive any bad record or destination
                log.exception("capture writer pass failed")

    def flush(self) -> None:
        """Drain and write everything queued now (the thread does this every ``flush_interval_s``)."""
        with self._lock:
            self._drain()
            self._write_pending()

    def _drain(self) -> None:
        queue, pending = self._queue, self._pending
        prefixes: dict[tuple[str, str, int], str] = {}
        times: dict[int, str] = {}
        while queue:
            event = queue.popleft()
            hour, second = int(event.at // 3600), int(event.at)
            prefix = prefixes.get((event.endpoint, event.variant, hour))
            if prefix is None:
                prefix = prefixes[(event.endpoint, event.variant, hour)] = hour_prefix(
                    event.endpoint, event.variant, event.at)
            stamp = times.get(second)
            if stamp is None:
                stamp = times[second] = inference_time(event.at)
            destination = event.setting.destination
            chunk = pending.get((destination, prefix))
            if chunk is None:
                chunk = _Chunk(destination, prefix, event.at, [], 0, (event.endpoint, event.variant),
                               event.setting.kms_key_id)
                pending[(destination, prefix)] = chunk
            try:
                chunk.lines.append(fast_line(event, self.new_id(), stamp))
            except Exception:
                log.exception("could not encode a captured record of %s", event.endpoint)
                self._count(self._failed, chunk.key, 1)
                self._done_bytes += event.size
                continue
            chunk.size += event.size

    def _write_pending(self) -> None:
        chunks, self._pending = self._pending, {}
        for chunk in chunks.values():
            try:
                destination = self._destination(chunk.destination, chunk.kms_key_id)
                destination.write(chunk.prefix, file_name(chunk.first_at, self.new_id()), b"".join(chunk.lines))
            except CaptureWriteError as exc:
                if chunk.destination not in self._failures:
                    log.warning("data capture of %s: %s", chunk.key[0], exc)
                self._failures[chunk.destination] = str(exc)
                self._count(self._failed, chunk.key, len(chunk.lines))
            else:
                self._failures.pop(chunk.destination, None)
                self._count(self._written, chunk.key, len(chunk.lines))
            finally:
                self._done_bytes += chunk.size

    def _destination(self, uri: str, kms_key_id: str | None) -> Destination:
        destination = self._destinations.get(uri)
        if destination is None:
            destination = open_destination(uri, self.s3_endpoint_url, kms_key_id)
            self._destinations[uri] = destination
        return destination

    @staticmethod
    def _count(counter: dict[Key, int], key: Key, n: int) -> None:
        counter[key] = counter.get(key, 0) + n
