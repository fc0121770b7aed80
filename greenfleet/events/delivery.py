"""Webhook delivery: a durable outbox (the ``deliveries`` table) drained by a background thread and a small
pool of sender threads, so that a slow or dead receiver never holds up the caller (enqueueing is one
INSERT, usually inside the caller's transaction).

At least once: a delivery is marked delivered only after a 2xx answer, and pending deliveries survive a
restart; each POST carries ``X-Greenfleet-Delivery-Id`` and ``X-Greenfleet-Event-Id`` (the id receivers
de-duplicate on, also in the body). Network errors, timeouts, 5xx, 408 and 429 are retried with
exponential back-off (``backoff_base_s`` · 2^(attempt-1), at most ``backoff_max_s``) until
``max_attempts``; any other 4xx fails the delivery at once. Every attempt is recorded (time, status code
or error, duration).

Signed deliveries: when ``secret_of(target_id)`` names a secret, the POST carries ``X-Greenfleet-Signature:
sha256=<hex HMAC-SHA256 of the body bytes>``; receivers recompute it over the raw body and compare in
constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, delete, select, update

from greenfleet import __version__
from greenfleet.clock import Clock
from greenfleet.events.tables import deliveries
from greenfleet.metrics.timestamps import iso

log = logging.getLogger("greenfleet.events")

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
_RETRIED_4XX = (408, 429)

Listener = Callable[[dict[str, Any]], None]
SIGNATURE_HEADER = "X-Greenfleet-Signature"


def signature(secret: str, body: bytes) -> str:
    """The value of the signature header for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def delivery_dict(row: Any) -> dict[str, Any]:
    return {"Id": row.id, "Kind": row.kind, "TargetId": row.target_id, "Url": row.url, "DedupId": row.dedup_id,
            "Status": row.status, "Attempts": row.attempts, "NextAttemptAt": iso(row.next_attempt_at),
            "LastStatusCode": row.last_status_code, "LastError": row.last_error,
            "CreatedAt": iso(row.created_at), "UpdatedAt": iso(row.updated_at),
            "AttemptLog": list(row.attempt_log), "Context": row.context, "Payload": row.payload}


class Dispatcher:
    def __init__(self, engine: Engine, clock: Clock, *, timeout_s: float = 5.0, max_attempts: int = 8,
                 backoff_base_s: float = 1.0, backoff_max_s: float = 300.0, workers: int = 4,
                 poll_interval_s: float = 1.0) -> None:
        self.engine = engine
        self.clock = clock
        self.timeout_s = timeout_s
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.workers = workers
        self.poll_interval_s = poll_interval_s
        self._listeners: list[Listener] = []
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None  # made on first use (building its TLS context is slow)
        self.secret_of: Callable[[str], str | None] = lambda _target_id: None

    def add_listener(self, listener: Listener) -> None:
        """Called (on a sender thread) with the delivery once it is delivered or has failed for good."""
        self._listeners.append(listener)

    def backoff(self, attempts: int) -> float:
        return float(min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempts - 1)))

    # -- enqueueing -------------------------------------------------------------------------------------
    def enqueue(self, conn: Connection, url: str, payload: Mapping[str, Any], dedup_id: str, now: float, *,
                kind: str, target_id: str | None = None, context: Mapping[str, Any] | None = None) -> str:
        """Add a delivery within the caller's transaction; call ``wake()`` after it commits."""
        delivery_id = str(uuid.uuid4())
        conn.execute(deliveries.insert().values(
            id=delivery_id, kind=kind, target_id=target_id, url=url, dedup_id=dedup_id, payload=dict(payload),
            context=dict(context) if context is not None else None, status=PENDING, attempts=0,
            next_attempt_at=now, created_at=now, updated_at=now, last_status_code=None, last_error=None,
            attempt_log=[]))
        return delivery_id

    def wake(self) -> None:
        self._wake.set()

    # -- the background thread --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stopping.clear()
        self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="greenfleet-webhook")
        self._thread = threading.Thread(target=self._run, name="greenfleet-deliveries", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stopping.set()
        self._wake.set()
        self._thread.join()
        self._thread = None
        assert self._pool is not None
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        self.stop()
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            client.close()

    def _http(self) -> httpx.Client:
        with self._lock:
            if self._client is None:
                self._client = httpx.Client(headers={"User-Agent": f"greenfleet/{__version__}"})
            return self._client

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._dispatch(self.clock.now())
            except Exception:
                log.exception("webhook dispatch failed")
            self._wake.wait(self.poll_interval_s)
            self._wake.clear()

    def _dispatch(self, now: float) -> None:
        with self._lock:
            free = self.workers - len(self._inflight)
            busy = set(self._inflight)
        if free <= 0 or self._pool is None:
            return
        rows = [row for row in self._due(now, free + len(busy)) if row.id not in busy][:free]
        for row in rows:
            with self._lock:
                self._inflight.add(row.id)
            self._pool.submit(self._attempt_and_release, row)

    def _attempt_and_release(self, row: Any) -> None:
        try:
            self.attempt(row)
        except Exception:
            log.exception("webhook delivery %s failed unexpectedly", row.id)
        finally:
            with self._lock:
                self._inflight.discard(row.id)
            self._wake.set()

    # -- attempts ---------------------------------------------------------------------------------------
    def _due(self, now: float, limit: int) -> list[Any]:
        c = deliveries.c
        query = select(deliveries).where(c.status == PENDING, c.next_attempt_at <= now).order_by(
            c.next_attempt_at).limit(limit)
        with self.engine.connect() as conn:
            return list(conn.execute(query))

    def run_due(self, now: float) -> int:
        """Attempt every delivery due at ``now`` on the calling thread; returns how many were attempted."""
        with self._lock:
            busy = set(self._inflight)
        rows = [row for row in self._due(now, 1000) if row.id not in busy]
        for row in rows:
            self.attempt(row)
        return len(rows)

    def attempt(self, row: Any) -> None:
        headers = {"Content-Type": "application/json", "X-Greenfleet-Delivery-Id": row.id,
                   "X-Greenfleet-Event-Id": row.dedup_id, "X-Greenfleet-Attempt": str(row.attempts + 1)}
        body = json.dumps(row.payload).encode()
        secret = self.secret_of(row.target_id) if row.target_id else None
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, body)
        started = time.monotonic()
        code: int | None = None
        error: str | None = None
        try:
            response = self._http().post(row.url, content=body, headers=headers,
                                         timeout=self.timeout_s)
            code = response.status_code
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        now = self.clock.now()
        attempts = row.attempts + 1
        if code is not None and 200 <= code < 300:
            status, next_at = DELIVERED, now
        elif code is not None and 400 <= code < 500 and code not in _RETRIED_4XX:
            status, next_at, error = FAILED, now, f"HTTP {code} (not retried)"
        elif attempts >= self.max_attempts:
            status, next_at, error = FAILED, now, error or f"HTTP {code}"
        else:
            status, next_at, error = PENDING, now + self.backoff(attempts), error or f"HTTP {code}"
        entry = {"Attempt": attempts, "At": iso(now), "StatusCode": code, "Error": error,
                 "DurationMs": elapsed_ms}
        log_entries = [*row.attempt_log, entry]
        with self.engine.begin() as conn:
            conn.execute(update(deliveries).where(deliveries.c.id == row.id).values(
                status=status, attempts=attempts, next_attempt_at=next_at, updated_at=now,
                last_status_code=code, last_error=None if status == DELIVERED else error,
                attempt_log=log_entries))
        if status != PENDING and self._listeners:
            final = self.get(row.id)
            for listener in self._listeners:
                try:
                    listener(final)
                except Exception:
                    log.exception("delivery listener failed")

    # -- reads and retention ----------------------------------------------------------------------------
    def get(self, delivery_id: str) -> dict[str, Any]:
        with self.engine.connect() as conn:
            row = conn.execute(select(deliveries).where(deliveries.c.id == delivery_id)).one()
        return delivery_dict(row)

    def query(self, *, status: str | None = None, kind: str | None = None, dedup_id: str | None = None,
             target_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        c = deliveries.c
        query = select(deliveries)
        for column, value in ((c.status, status), (c.kind, kind), (c.dedup_id, dedup_id),
                              (c.target_id, target_id)):
            if value is not None:
                query = query.where(column == value)
        query = query.order_by(c.created_at.desc(), c.id).limit(max(1, min(limit, 1000)))
        with self.engine.connect() as conn:
            return [delivery_dict(row) for row in conn.execute(query)]

    def prune(self, before: float) -> None:
        c = deliveries.c
        with self.engine.begin() as conn:
            conn.execute(delete(deliveries).where(c.status != PENDING, c.updated_at < before))
