"""Shadow mirroring: a copy of a sampled request goes to each shadow variant, fire-and-forget.

The copy is sent from a task of its own, so the production answer never waits for it; what the shadow
answers (or how it fails) is recorded under the shadow's VariantName and handed to the pair sink, never
to the caller. Copies in flight are bounded per endpoint: beyond ``max_in_flight`` a copy is dropped and
counted (``dropped``, and the recorder's ShadowRequestsDropped metric), never queued.
"""

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
from greenfleet.router.table import EndpointRoute, Shadow
from greenfleet.router.upstream import InstanceTimeout, InstanceUnreachable, Upstream

if TYPE_CHECKING:
    from greenfleet.capture.sink import CaptureSink

log = logging.getLogger("greenfleet.router.mirror")
OCTETS = "application/octet-stream"


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

    def send(self, endpoint: str, route: EndpointRoute, production_variant: str, body: bytes,
             headers: dict[str, str], inference_id: str) -> bool:
        """Start a copy to each shadow that samples this request; whether one whose answers are paired did
        (then the production answer goes to the sink too)."""
        sampled = False
        for shadow in route.shadows:
            if not shadow.wants(production_variant, self.rng.random()):
                continue
            sampled = sampled or shadow.paired
            if self.in_flight.get(endpoint, 0) >= self.max_in_flight:
                self.dropped += 1
                self.recorder.record_mirror_dropped(endpoint, shadow.target.variant_name,
                                                    shadow.target.config_name, self.clock())
                continue
            self.in_flight[endpoint] = self.in_flight.get(endpoint, 0) + 1
            self.sent += 1
            task = asyncio.get_running_loop().create_task(self._copy(endpoint, shadow, body, headers, inference_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return sampled

    async def _copy(self, endpoint: str, shadow: Shadow, body: bytes, headers: dict[str, str],
                    inference_id: str) -> None:
        target = shadow.target
        started = time.perf_counter()
        try:
            answer, instance_id = await self._invoke(target.variant_name, target.config_name, shadow, body, headers)
            total_us = (time.perf_counter() - started) * 1e6
            self.recorder.record_invocation(endpoint, target.variant_name, target.config_name, instance_id,
                                            answer.outcome, answer.model_latency_us,
                                            max(total_us - (answer.model_latency_us or 0.0), 0.0), self.clock())
            if shadow.paired:
                self.sink.shadow(endpoint, inference_id, answer, self.clock())
            setting = shadow.capture
            if setting is not None and self.capture is not None and answer.outcome == "ok" and (
                    setting.sampling_percentage >= 100 or self.rng.random() * 100 < setting.sampling_percentage):
                self.capture.capture(setting, endpoint, target.variant_name, self.clock(), body,
                                     headers.get("Content-Type", OCTETS), answer.body, answer.content_type or OCTETS,
                                     inference_id)
        except Exception:  # a shadow's failure must never reach the caller or the loop
            log.exception("shadow copy to %s/%s failed", endpoint, target.variant_name)
        finally:
            left = self.in_flight.get(endpoint, 1) - 1
            if left <= 0:
                self.in_flight.pop(endpoint, None)
            else:
                self.in_flight[endpoint] = left

    async def _invoke(self, variant: str, config: str, shadow: Shadow, body: bytes,
                      headers: dict[str, str]) -> tuple[Answer, str]:
        instance = pick_instance(shadow.target, self.outstanding, self.rng)
        if instance is None:
            return Answer(variant, config, "server_5xx", 503, b"", None, None), ""
        self.outstanding.acquire(instance.instance_id)
        sent = time.perf_counter()
        try:
            response = await self.upstream.invoke(instance, body, headers)
        except InstanceTimeout:
            return Answer(variant, config, "model_error_5xx", 504, b"", None,
                          (time.perf_counter() - sent) * 1e6), instance.instance_id
        except InstanceUnreachable:
            return Answer(variant, config, "server_5xx", 503, b"", None, None), instance.instance_id
        finally:
            self.outstanding.release(instance.instance_id)
        model_us = (time.perf_counter() - sent) * 1e6
        status = response.status
        outcome = "ok" if 200 <= status < 300 else "model_error_4xx" if status < 500 else "model_error_5xx"
        return Answer(variant, config, outcome, status, response.body, response.content_type,
                      model_us), instance.instance_id

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
