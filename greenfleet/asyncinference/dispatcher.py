"""The asynchronous-inference dispatcher: a dedicated thread that feeds queued requests to the instances of
asynchronous endpoints, and a pool of threads that stream each one input → instance → output.

It reads instances from the router's current RoutingTable (the same immutable snapshot the data plane
serves from) and never sits on the synchronous path: the router does not know it exists. Capacity is
``MaxConcurrentInvocationsPerInstance`` times the ready instances of an endpoint's async targets; a request
counts in the router's outstanding counts while it runs, so a draining instance is stopped only once its
async work is done (async instances take no synchronous traffic, so the two never share a counter).

After a crash, requests the previous server had claimed are queued again (``Queue.recover``); before
running a request again, an output or failure already written for it finishes it, so each request ends
with exactly one of the two. A request past its TTL is not run: its failure says why.
"""

from __future__ import annotations

import contextlib
import io
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from random import Random
from typing import IO, Any

import httpx
from sqlalchemy import Connection

from greenfleet.asyncinference.locations import CHUNK, Input, Locations
from greenfleet.asyncinference.notifications import message
from greenfleet.asyncinference.queue import Queue, Request
from greenfleet.asyncinference.variant_metrics import AsyncVariantMetrics
from greenfleet.clock import Clock
from greenfleet.router.balancer import pick_instance
from greenfleet.router.proxy import Router
from greenfleet.router.table import InstanceAddress, Target

log = logging.getLogger("greenfleet.async")
RESPONSE_IN_MESSAGE = 128 * 1024
"""IncludeInferenceResponseIn embeds a response only up to this size (SageMaker: 128 KB)."""

Notify = Callable[[Connection, str, dict[str, Any], str, float, str | None], None]
"""(connection, topic ARN, message, dedup id, now, variant): queue a notification in the caller's transaction
(the variant, when known, is the one its NotificationFailures count under if its delivery fails)."""
Backlogs = Callable[[list[tuple[str, int, float | None, int]], float], None]
"""(endpoint, backlog, oldest request time, ready instances) per endpoint, each second."""
PRUNE_EVERY_S = 60.0
"""How often finished requests past the retention (or of deleted endpoints) are deleted."""
REFUSED_BACKOFF_S = 1.0
"""An instance that refused a connection gets no request for this long (its health checks take it out of the
routing table meanwhile; without the pause its request was claimed and requeued in a busy loop)."""
FAILURE_METRICS = {"ExpiredRequest": "ExpiredRequests", "RequestDownloadFailure": "RequestDownloadFailures",
                   "ResponseUploadFailure": "ResponseUploadFailures"}
"""A failure reason's leading code → its per-variant count (any other failure is an InvocationFailure)."""


class AsyncDispatcher:
    def __init__(self, queue: Queue, locations: Locations, router: Router, clock: Clock, *, region: str,
                 notify: Notify, backlogs: Backlogs, max_in_flight: int = 64, poll_interval_s: float = 1.0,
                 rng: Random | None = None, variant_metrics: AsyncVariantMetrics | None = None,
                 retention_s: float = 7 * 86400.0) -> None:
        self.queue, self.locations, self.router, self.clock = queue, locations, router, clock
        self.region = region
        self.notify, self.backlogs = notify, backlogs
        self.max_in_flight = max_in_flight
        self.poll_interval_s = poll_interval_s
        self.rng = rng or Random()
        self.variant_metrics = variant_metrics
        self._in_flight: dict[str, int] = {}  # endpoint → requests running
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="async")
        self._http = httpx.Client(timeout=None, limits=httpx.Limits(max_connections=max_in_flight))
        self._refused_until: dict[str, float] = {}  # instance id → when it may be tried again
        self.retention_s = retention_s
        """How long finished requests' records are kept (pruned once a minute; see ``Queue.prune``)."""
        self._metrics_at = 0.0
        self._expired_at = 0.0
        self._pruned_at = float("-inf")

    # -- lifecycle -------------------------------------------------------------------------------------------
    def start(self) -> None:
        recovered = self.queue.recover()
        if recovered:
            log.info("%d asynchronous requests claimed before the restart are queued again", recovered)
        self._thread = threading.Thread(target=self._run, name="async-dispatcher", daemon=True)
        self._thread.start()

    def stop(self, grace_s: float = 10.0) -> None:
        """Stop claiming; give running requests ``grace_s`` to finish. One cut short later (its instance
        stopped under it) goes back to the queue, not to the failure path: the next start runs it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
        self._pool.shutdown(wait=False)
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline:
            with self._lock:
                if not any(self._in_flight.values()):
                    break
            time.sleep(0.05)
        else:
            log.warning("asynchronous requests still running at shutdown are queued again at the next start")
            return
        self._http.close()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.dispatch(self.clock.now())
            except Exception:  # the loop must survive a store hiccup; the next pass retries
                log.exception("asynchronous dispatch failed")
            self._wake.wait(self.poll_interval_s)
            self._wake.clear()

    # -- one pass --------------------------------------------------------------------------------------------
    def dispatch(self, now: float) -> None:
        """Fail expired requests (each second), claim what the ready instances can take, and (each second)
        publish the backlog. Woken by every committed batch of accepted requests and every finished request;
        otherwise once a second (expiry, new instances), so an idle server costs two small reads a second."""
        table = self.router.table
        if now - self._pruned_at >= PRUNE_EVERY_S:
            self._pruned_at = now
            pruned = self.queue.prune(now - self.retention_s)
            if pruned:
                log.info("%d finished asynchronous requests' records pruned", pruned)
        if now - self._expired_at >= 1.0:  # not on every wake: TTLs are whole seconds (60 and up)
            self._expired_at = now
            for request in self.queue.expired(now):
                route = table.endpoints.get(request.endpoint_name)
                variant = next((t.variant_name for t in route.targets if t.async_concurrency), None) if route \
                    else None
                self._pool.submit(self._expire, request, variant)
        if self._refused_until:
            with self._lock:
                self._refused_until = {k: until for k, until in self._refused_until.items() if until > now}
        for name, route in table.endpoints.items():
            targets = [t for t in route.targets if t.async_concurrency and t.instances]
            targets = [t for t in targets if t.weight > 0] or targets
            if not targets:
                continue
            with self._lock:
                free = min(sum(self._room(t, i) for t in targets for i in t.instances),
                           self.max_in_flight - sum(self._in_flight.values()))
            for request in self.queue.claim(name, free, now):
                with self._lock:
                    placed = self._place(targets)
                    if placed is not None:
                        target, instance = placed
                        self.router.outstanding.acquire(instance.instance_id)
                        self._in_flight[name] = self._in_flight.get(name, 0) + 1
                if placed is None:  # an instance refused a request since the room was counted: not now
                    self.queue.requeue(request.seq)
                    continue
                if self.variant_metrics is not None:
                    self.variant_metrics.time(name, target.variant_name, "TimeInBacklog", now - request.created_at,
                                              now)
                self._pool.submit(self._process, request, target, instance)
        if now - self._metrics_at >= 1.0:
            self._metrics_at = now
            if self.variant_metrics is not None:
                self.variant_metrics.flush(now)
            ready = {name: sum(len(t.instances) for t in route.targets if t.async_concurrency)
                     for name, route in table.endpoints.items()
                     if any(t.async_concurrency for t in route.targets)}
            backlog = {b.endpoint_name: b for b in self.queue.backlog()}
            self.backlogs([(name, backlog[name].size if name in backlog else 0,
                            backlog[name].oldest_at if name in backlog else None, ready.get(name, 0))
                           for name in sorted(set(ready) | set(backlog))], now)

    def _room(self, target: Target, instance: InstanceAddress) -> int:
        """How many more requests ``instance`` may run (MaxConcurrentInvocationsPerInstance less its running
        ones: async instances take no synchronous traffic, so its outstanding count is its async requests)."""
        if self._refused_until.get(instance.instance_id, 0.0) > self.clock.now():
            return 0
        return max(target.async_concurrency - self.router.outstanding.of(instance.instance_id), 0)

    def _place(self, targets: list[Target]) -> tuple[Target, InstanceAddress] | None:
        """An instance with room, of a target chosen by weight among those with room, the least busy of its
        instances with room. As many requests were claimed as there was room for, but an instance that refused
        a request since then (a pool thread) has none: None when no instance is left with room."""
        open_targets = [t for t in targets if any(self._room(t, i) for i in t.instances)]
        if not open_targets:
            return None
        target = self.rng.choices(open_targets, weights=[max(t.weight, 1e-9) for t in open_targets])[0]
        free = Target(target.variant_name, target.config_name, target.weight, "LEAST_OUTSTANDING_REQUESTS",
                      tuple(i for i in target.instances if self._room(target, i)), target.async_concurrency)
        instance = pick_instance(free, self.router.outstanding, self.rng)
        assert instance is not None
        return target, instance

    # -- one request ------------------------------------------------------------------------------------------
    def _process(self, request: Request, target: Target, instance: InstanceAddress) -> None:
        try:
            if self._stop.is_set():  # handed over just before the shutdown: left for the next start
                self.queue.requeue(request.seq)
                return
            self._invoke(request, target, instance)
        except Exception as exc:
            if self._stop.is_set():  # cut short by the shutdown: run again at the next start
                self.queue.requeue(request.seq)
                return
            log.exception("asynchronous request %s failed", request.inference_id)
            self._fail(request, f"InternalFailure: {type(exc).__name__}: {exc}", target.variant_name)
        finally:
            with self._lock:
                self.router.outstanding.release(instance.instance_id)
                self._in_flight[request.endpoint_name] -= 1
            self.wake()

    def _invoke(self, request: Request, target: Target, instance: InstanceAddress) -> None:
        variant = target.variant_name
        if request.attempts > 1 and self._already_finished(request):
            return
        if self.clock.now() > request.expires_at:
            self._expire(request, variant)
            return
        with contextlib.ExitStack() as opened:
            try:  # a reader opens its object when entered (a file, an S3 GetObject)
                payload = opened.enter_context(self._open_input(request))
            except Exception as exc:
                self._fail(request, f"RequestDownloadFailure: cannot read {request.input_location}: {exc}",
                           variant)
                return
            self._send(request, variant, instance, payload)

    def _send(self, request: Request, variant: str, instance: InstanceAddress, payload: Input) -> None:
        headers = {k: v for k, v in (("Content-Type", request.content_type), ("Accept", request.accept),
                                     ("X-Amzn-SageMaker-Custom-Attributes", request.custom_attributes),
                                     ("X-Amzn-SageMaker-Inference-Id", request.inference_id)) if v is not None}
        headers["Content-Length"] = str(payload.size)  # streamed all the same, not chunked
        url = f"http://{instance.host}:{instance.port}/invocations"
        started = time.monotonic()
        deadline = started + request.invocation_timeout_s  # the whole call's (a read's own timeout is per read)
        reading, waiting = _Stopwatch(), _Stopwatch()
        try:
            with self._http.stream("POST", url, content=reading.through(_chunks(payload.stream)), headers=headers,
                                   timeout=httpx.Timeout(request.invocation_timeout_s, connect=5.0)) as response:
                self._latency(request, variant, "RequestDownloadLatency", reading.seconds)  # the body is all sent
                if not 200 <= response.status_code < 300:
                    original = _head(_before(deadline, response.iter_bytes()), 4096).decode("utf-8", "replace")
                    container = response.headers.get("x-greenfleet-container", "primary")
                    kind = "client" if response.status_code < 500 else "server"
                    self._fail(request, f"ModelError: Received {kind} error ({response.status_code}) from "
                                        f'{container} with message "{original}"', variant)
                    return
                kept = _Kept(RESPONSE_IN_MESSAGE)
                content_type = response.headers.get("content-type")
                writing = time.perf_counter()
                try:
                    self.locations.write(request.output_location,
                                         kept.tee(waiting.through(_before(deadline, response.iter_bytes()))),
                                         content_type)
                    self._latency(request, variant, "ResponseUploadLatency",
                                  time.perf_counter() - writing - waiting.seconds)
                except httpx.HTTPError:
                    raise  # the instance failed mid-answer: nothing was written (see Locations.write)
                except Exception as exc:
                    self._fail(request, f"ResponseUploadFailure: cannot write {request.output_location}: "
                                        f"{exc}", variant)
                    return
        except httpx.ConnectError:  # the instance is gone (replaced, drained): the request never reached it
            with self._lock:
                self._refused_until[instance.instance_id] = self.clock.now() + REFUSED_BACKOFF_S
            self.queue.requeue(request.seq)
            return
        except httpx.TimeoutException:
            self._fail(request, f"InvocationTimeout: the model did not answer within "
                                f"{request.invocation_timeout_s:g} seconds", variant)
            return
        except httpx.HTTPError as exc:
            if self._stop.is_set():  # the instance was stopped with the server: run it again at the next start
                self.queue.requeue(request.seq)
                return
            self._fail(request, f"InvocationFailure: the instance {instance.instance_id} failed: {exc}",
                       variant)
            return
        log.debug("async %s done in %.3f s", request.inference_id, time.monotonic() - started)
        self._succeed(request, content_type, kept.data(), variant)

    def _already_finished(self, request: Request) -> bool:
        """A request run again after a crash whose output or failure was already written is finished by it."""
        now = self.clock.now()
        if self.locations.exists(request.output_location):
            self.queue.finish(request.seq, True, now)
            return True
        if self.locations.exists(request.failure_location):
            self.queue.finish(request.seq, False, now, "finished before the server restarted")
            return True
        return False

    def _expire(self, request: Request, variant: str | None) -> None:
        ttl = request.expires_at - request.created_at
        self._fail(request, f"ExpiredRequest: the request was not processed within its RequestTTLSeconds "
                            f"({ttl:g} s)", variant)

    def _succeed(self, request: Request, content_type: str | None, response: bytes | None, variant: str) -> None:
        now = self.clock.now()
        self._measure(request, variant, "InvocationsProcesssed", now)
        topic = (request.notification or {}).get("SuccessTopic")
        include = "SUCCESS_NOTIFICATION_TOPIC" in ((request.notification or {}).get("IncludeInferenceResponseIn")
                                                   or [])

        def also(conn: Connection) -> None:
            if topic:
                self.notify(conn, topic, message(request, self.region, now, content_type, None,
                                                 response if include else None), request.inference_id, now,
                            variant)

        self.queue.finish(request.seq, True, now, also=also)

    def _fail(self, request: Request, reason: str, variant: str | None) -> None:
        now = self.clock.now()
        self._measure(request, variant, FAILURE_METRICS.get(reason.split(":", 1)[0], "InvocationFailures"), now)
        try:
            self.locations.write(request.failure_location, iter([reason.encode()]), "text/plain")
        except Exception as exc:
            reason = f"{reason} (the failure could not be written to {request.failure_location}: {exc})"
            log.warning("asynchronous request %s: %s", request.inference_id, reason)
        topic = (request.notification or {}).get("ErrorTopic")

        def also(conn: Connection) -> None:
            if topic:
                self.notify(conn, topic, message(request, self.region, now, None, reason, None),
                            request.inference_id, now, variant)

        self.queue.finish(request.seq, False, now, reason, also=also)

    def _measure(self, request: Request, variant: str | None, count: str, now: float) -> None:
        """The request's outcome count and TotalProcessingTime under its variant (when one is known: a
        request that expires while its endpoint has no asynchronous variant in the routing table has none)."""
        if self.variant_metrics is None or variant is None:
            return
        self.variant_metrics.count(request.endpoint_name, variant, count, now)
        self.variant_metrics.time(request.endpoint_name, variant, "TotalProcessingTime", now - request.created_at,
                                  now)

    def _latency(self, request: Request, variant: str, metric: str, seconds: float) -> None:
        if self.variant_metrics is not None:
            self.variant_metrics.time(request.endpoint_name, variant, metric, seconds, self.clock.now())

    def _open_input(self, request: Request) -> contextlib.AbstractContextManager[Input]:
        if request.body is not None:
            return contextlib.nullcontext(Input(io.BytesIO(request.body), len(request.body)))
        return self.locations.reader(request.input_location)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            return
        yield chunk


class _Stopwatch:
    """The time spent getting the items of the iterators it is put ``through``."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def through(self, items: Iterator[bytes]) -> Iterator[bytes]:
        while True:
            started = time.perf_counter()
            item = next(items, None)
            self.seconds += time.perf_counter() - started
            if item is None:
                return
            yield item


def _before(deadline: float, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """``chunks`` (as they arrive: a chunk size would wait for its fill) while the call is within its
    InvocationTimeoutSeconds (``deadline``, monotonic): a model that keeps sending a little at a time is cut off
    there (the HTTP client's read timeout restarts with each piece received); nothing of its answer is
    written."""
    for chunk in chunks:
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the answer was still coming at the invocation timeout")
        yield chunk


def _head(chunks: Iterator[bytes], limit: int) -> bytes:
    """The first ``limit`` bytes of ``chunks`` (an error answer is quoted, never read whole)."""
    kept = b""
    for chunk in chunks:
        kept += chunk[:limit - len(kept)]
        if len(kept) >= limit:
            break
    return kept


class _Kept:
    """The first ``limit`` bytes of a stream passing through (for IncludeInferenceResponseIn)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def tee(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.size += len(chunk)
            if self.size <= self.limit:
                self.parts.append(chunk)
            yield chunk

    def data(self) -> bytes | None:
        return b"".join(self.parts) if self.size <= self.limit else None

