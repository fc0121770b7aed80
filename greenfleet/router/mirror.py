"""Shadow mirroring: a copy of a sampled request goes to each shadow variant, fire-and-forget.

The copy is sent after the production answer, so the caller never waits for it; what the shadow answers
(or how it fails) is recorded under the shadow's VariantName and handed to the pair sink, never to the
caller. Copies in flight are bounded per endpoint: beyond ``max_in_flight`` a copy is dropped and counted
(``dropped``, and the recorder's ShadowRequestsDropped metric), never queued.

A copy costs the router less CPU than a production request (bench/mirror_cpu.py, bench/README.md): it writes
the production request's serialised bytes (``upstream.request``) on an idle pooled connection and its
answer comes back to a :class:`_Copy` from the connection's parser callback, with no task, coroutine or
future; only the shadow's status, Content-Type and body are read. The rare copy with no idle connection to
its instance (the first ones, or after the instance closed one) goes through a task and
``Upstream.invoke_request`` (connect, retry once). An :class:`Answer` is made only for a sink or capture that
keeps it."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import TYPE_CHECKING, Protocol

from greenfleet.router.balancer import Outstanding, pick_instance
from greenfleet.router.recorder import InvocationRecorder
from greenfleet.router.table import EndpointRoute, InstanceAddress, Shadow
from greenfleet.router.upstream import InstanceTimeout, InstanceUnreachable, Upstream, request

if TYPE_CHECKING:
    from greenfleet.capture.sink import CaptureSink
    from greenfleet.router.upstream import _Connection

log = logging.getLogger("greenfleet.router.mirror")
OCTETS = "application/octet-stream"
SWEEP_S = 1.0
"""How often copies waiting on a pooled connection are checked against the invocation timeout (a copy times
out up to this much after it)."""


@dataclass(frozen=True, slots=True)
class Answer:
    """What one variant answered to one request (production or shadow)."""

    variant_name: str
    config_name: str
    outcome: str  # ok | model_error_4xx | model_error_5xx | server_5xx
    status: int
    body: bytes
    content_type: str | None
    model_latency_us: float | None


class PairSink(Protocol):
    """Receives both halves of a mirrored request, keyed by inference id (the comparison report and data
    capture pair them). Called on the router's event loop: it must not block."""

    def production(self, endpoint: str, inference_id: str, request: bytes, content_type: str | None,
                   answer: Answer, now: float) -> None: ...

    def shadow(self, endpoint: str, inference_id: str, answer: Answer, now: float) -> None: ...


class NullSink:
    def production(self, endpoint: str, inference_id: str, request: bytes, content_type: str | None,
                   answer: Answer, now: float) -> None:
        return None

    def shadow(self, endpoint: str, inference_id: str, answer: Answer, now: float) -> None:
        return None


class Mirror:
    def __init__(self, upstream: Upstream, outstanding: Outstanding, recorder: InvocationRecorder, rng: Random,
                 clock: Callable[[], float], max_in_flight: int) -> None:
        self.upstream, self.outstanding, self.recorder = upstream, outstanding, recorder
        self.rng, self.clock, self.max_in_flight = rng, clock, max_in_flight
        self.sink: PairSink = NullSink()
        self.capture: CaptureSink | None = None
        """Where a shadow with capture writes its requests and answers (set by the server)."""
        self.in_flight: dict[str, int] = {}
        self.sent = 0
        self.dropped = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiting: set[_Copy] = set()
        """Copies written on a pooled connection and not answered yet (the sweep times them out)."""
        self._sweep: asyncio.TimerHandle | None = None

    def send(self, endpoint: str, route: EndpointRoute, production_variant: str, body: bytes,
             headers: dict[str, str], inference_id: str, serialised: bytes | None = None) -> bool:
        """Start a copy to each shadow that samples this request; whether one whose answers are paired did
        (then the production answer goes to the sink too). ``serialised``: the request as
        ``upstream.request`` wrote it to production (made here when not given)."""
        sampled = False
        for shadow in route.shadows:
            if not shadow.wants(production_variant, self.rng.random()):
                continue
            sampled = sampled or shadow.paired
            in_flight = self.in_flight.get(endpoint, 0)
            if in_flight >= self.max_in_flight:
                self.dropped += 1
                self.recorder.record_mirror_dropped(endpoint, shadow.target.variant_name,
                                                    shadow.target.config_name, self.clock())
                continue
            self.in_flight[endpoint] = in_flight + 1
            self.sent += 1
            if serialised is None:
                serialised = request(body, headers)
            self._start(_Copy(self, endpoint, shadow, body, headers, inference_id, serialised))
        return sampled

    def _start(self, copy: _Copy) -> None:
        target = copy.shadow.target
        instance = pick_instance(target, self.outstanding, self.rng)
        if instance is None:
            self._finish(copy, "", "server_5xx", 503, b"", None, None)
            return
        copy.instance = instance
        self.outstanding.acquire(instance.instance_id)
        connection = self.upstream.pooled(instance)
        if connection is None:  # no idle connection to this instance: connect (and retry) in a task
            self._spawn(copy)
            return
        copy.connection = connection
        copy.sent = time.perf_counter()
        self._waiting.add(copy)
        if self._sweep is None:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._expire)
        connection.send_to(self.upstream.line(instance) + copy.serialised, copy)

    def _expire(self) -> None:
        """Once a second while copies wait: those past the invocation timeout are dropped and recorded (one
        timer for all of them; a timer per copy cost more than a quarter of the copy's CPU)."""
        self._sweep = None
        deadline = time.perf_counter() - self.upstream.timeout_s
        for copy in [c for c in self._waiting if c.sent <= deadline]:
            copy.expire()
        if self._waiting:
            self._sweep = asyncio.get_running_loop().call_later(SWEEP_S, self._expire)

    def _spawn(self, copy: _Copy) -> None:
        task = asyncio.get_running_loop().create_task(self._invoke(copy))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _invoke(self, copy: _Copy) -> None:
        instance = copy.instance
        assert instance is not None
        sent = time.perf_counter()
        try:
            response = await self.upstream.invoke_request(instance, copy.serialised)
        except InstanceTimeout:
            self._settle(copy, "model_error_5xx", 504, b"", None, (time.perf_counter() - sent) * 1e6)
        except InstanceUnreachable:
            self._settle(copy, "server_5xx", 503, b"", None, None)
        except asyncio.CancelledError:
            self._release(copy)
            raise
        except Exception:  # a shadow's failure must never reach the caller or the loop
            log.exception("shadow copy to %s/%s failed", copy.endpoint, copy.shadow.target.variant_name)
            self._release(copy)
        else:
            self._settle(copy, _outcome(response.status), response.status, response.body, response.content_type,
                         (time.perf_counter() - sent) * 1e6)

    def _settle(self, copy: _Copy, outcome: str, status: int, body: bytes, content_type: str | None,
                model_us: float | None) -> None:
        """The copy's instance is free again; record what it answered."""
        instance = copy.instance
        assert instance is not None
        self.outstanding.release(instance.instance_id)
        self._finish(copy, instance.instance_id, outcome, status, body, content_type, model_us)

    def _finish(self, copy: _Copy, instance_id: str, outcome: str, status: int, body: bytes,
                content_type: str | None, model_us: float | None) -> None:
        shadow, endpoint = copy.shadow, copy.endpoint
        target = shadow.target
        try:
            now = self.clock()
            total_us = (time.perf_counter() - copy.started) * 1e6
            self.recorder.record_invocation(endpoint, target.variant_name, target.config_name, instance_id,
                                            outcome, model_us, max(total_us - (model_us or 0.0), 0.0), now)
            setting = shadow.capture
            captured = setting is not None and self.capture is not None and outcome == "ok" and (
                setting.sampling_percentage >= 100 or self.rng.random() * 100 < setting.sampling_percentage)
            if shadow.paired or captured:
                answer = Answer(target.variant_name, target.config_name, outcome, status, body, content_type,
                                model_us)
                if shadow.paired:
                    self.sink.shadow(endpoint, copy.inference_id, answer, now)
                if captured and setting is not None and self.capture is not None:
                    self.capture.capture(setting, endpoint, target.variant_name, now, copy.body,
                                         copy.headers.get("Content-Type", OCTETS), body, content_type or OCTETS,
                                         copy.inference_id)
        except Exception:  # a shadow's failure must never reach the caller or the loop
            log.exception("shadow copy to %s/%s failed", endpoint, target.variant_name)
        finally:
            left = self.in_flight.get(endpoint, 1) - 1
            if left <= 0:
                self.in_flight.pop(endpoint, None)
            else:
                self.in_flight[endpoint] = left

    def _release(self, copy: _Copy) -> None:
        """A copy that ends unrecorded (cancelled at shutdown, or a bug): free its instance and its place."""
        if copy.instance is not None:
            self.outstanding.release(copy.instance.instance_id)
        left = self.in_flight.get(copy.endpoint, 1) - 1
        if left <= 0:
            self.in_flight.pop(copy.endpoint, None)
        else:
            self.in_flight[copy.endpoint] = left

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
        if self._sweep is not None:
            self._sweep.cancel()
            self._sweep = None


class _Copy:
    """One copy on its way to a shadow's instance: the listener its pooled connection answers."""

    __slots__ = ("body", "connection", "endpoint", "headers", "inference_id", "instance", "mirror", "sent",
                 "serialised", "shadow", "started")

    def __init__(self, mirror: Mirror, endpoint: str, shadow: Shadow, body: bytes, headers: dict[str, str],
                 inference_id: str, serialised: bytes) -> None:
        self.mirror, self.endpoint, self.shadow = mirror, endpoint, shadow
        self.body, self.headers, self.inference_id, self.serialised = body, headers, inference_id, serialised
        self.instance: InstanceAddress | None = None
        self.connection: _Connection | None = None
        self.started = self.sent = time.perf_counter()

    # Listener: called from the connection's callbacks.
    def answered(self, connection: _Connection, status: int, body: bytes, content_type: str | None) -> None:
        model_us = (time.perf_counter() - self.sent) * 1e6
        mirror, instance = self.mirror, self.instance
        assert instance is not None
        mirror._waiting.discard(self)
        mirror.upstream.release(instance, connection)
        mirror._settle(self, _outcome(status), status, body, content_type, model_us)

    def failed(self, connection: _Connection, exc: Exception) -> None:
        self.mirror._waiting.discard(self)
        if not connection.answered:  # a pooled connection the instance had closed: connect in a task
            self.mirror._spawn(self)
        else:
            self.mirror._settle(self, "server_5xx", 503, b"", None, None)

    def expire(self) -> None:
        """The invocation timeout passed with no answer: the connection is dropped, the copy recorded."""
        self.mirror._waiting.discard(self)
        connection = self.connection
        if connection is None or connection.listener is not self:
            return
        connection.listener = None
        connection.close()
        self.mirror._settle(self, "model_error_5xx", 504, b"", None, (time.perf_counter() - self.sent) * 1e6)


def _outcome(status: int) -> str:
    return "ok" if 200 <= status < 300 else "model_error_4xx" if status < 500 else "model_error_5xx"
