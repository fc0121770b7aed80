"""Shadow mirroring: a copy of a sampled request goes to each shadow variant, fire-and-forget, sent by a
mirror process of the router's own (``mirror_process``), so the copy's network work and HTTP parsing cost
the serving process nothing.

The copy is taken after the production answer, so the caller never waits for it. The serving process only
picks the shadow's instance, packs a COPY frame (the copy's id, the instance's address, whether its answer's
body is kept, and the production request's serialised bytes, ``upstream.request``) and queues it on the
pipe to the mirror process (``mirror_link``: one write per event-loop pass). The mirror process, at a
shadow's CPU priority (``shadow_niceness`` and ``shadow_scheduling``, as the shadow's instances), writes the
copies on pooled keep-alive connections and sends back what each ended with, in batches; the answer's
Content-Type and body come back only for a copy whose answer a pair sink or data capture keeps. Here, on
the loop, each answer is recorded under the shadow's VariantName and handed to the pair sink and capture,
never to the caller.

Bounded: copies in flight per endpoint (queued, in the pipe, or at the shadow) are at most
``max_in_flight``; beyond, or with the pipe's queue full, or while the mirror process is down, a copy is
dropped and counted (``dropped``, and the recorder's ShadowRequestsDropped metric), never queued without
bound. A mirror process that exits has its copies in flight counted dropped and is restarted with back-off
(``mirror_link``). bench/shadow_bench.py and bench/mirror_cpu.py measure what a copy costs (bench/README.md,
"Shadow copies through a mirror process": the serving process's CPU per copy fell; production's p99 beside a
busy shadow on the same two cores did not, as the shadow's own CPU, even at idle priority, is what slows it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import TYPE_CHECKING, Protocol

from greenfleet.router.balancer import Outstanding, pick_instance
from greenfleet.router.mirror_frames import TIMED_OUT, UNREACHABLE, answer_start, copy_frame, parse_answer
from greenfleet.router.mirror_link import MirrorLink
from greenfleet.router.recorder import InvocationRecorder
from greenfleet.router.table import EndpointRoute, InstanceAddress, Shadow
from greenfleet.router.upstream import Upstream, request

if TYPE_CHECKING:
    from greenfleet.capture.config import CaptureSetting
    from greenfleet.capture.sink import CaptureSink

log = logging.getLogger("greenfleet.router.mirror")
OCTETS = "application/octet-stream"
SWEEP_S = 1.0
"""How often the mirror process checks copies against the invocation timeout (a copy times out up to this
much after it)."""
STUCK_S = 30.0
"""How long past the invocation timeout a copy may stay unanswered before its mirror process counts as stuck."""
MAX_QUEUED_BYTES = 16 << 20
"""Copy bytes queued for the mirror process and not yet taken by the pipe (beyond: dropped)."""


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
                 clock: Callable[[], float], max_in_flight: int, *, niceness: int = 10, scheduling: str = "idle",
                 sweep_s: float | None = None, max_queued_bytes: int = MAX_QUEUED_BYTES) -> None:
        self.upstream, self.outstanding, self.recorder = upstream, outstanding, recorder
        self.rng, self.clock, self.max_in_flight = rng, clock, max_in_flight
        self.sink: PairSink = NullSink()
        self.capture: CaptureSink | None = None
        """Where a shadow with capture writes its requests and answers (set by the server)."""
        self.in_flight: dict[str, int] = {}
        self.sent = 0
        self.dropped = 0
        self.link = MirrorLink(timeout_s=upstream.timeout_s, sweep_s=SWEEP_S if sweep_s is None else sweep_s,
                               niceness=niceness, scheduling=scheduling, max_queued_bytes=max_queued_bytes,
                               on_answers=self._answers, on_exit=self._lost)
        self._pending: dict[int, _Copy] = {}
        """Copies handed to the mirror process and not answered yet, by copy id."""
        self._next_id = 0
        self._hosts: dict[str, bytes] = {}

    def send(self, endpoint: str, route: EndpointRoute, production_variant: str, body: bytes,
             headers: dict[str, str], inference_id: str, serialised: bytes | None = None) -> bool:
        """Hand a copy to the mirror process for each shadow that samples this request; whether one whose
        answers are paired did (then the production answer goes to the sink too). ``serialised``: the
        request as ``upstream.request`` wrote it to production (made here when not given)."""
        sampled = False
        for shadow in route.shadows:
            if not shadow.wants(production_variant, self.rng.random()):
                continue
            sampled = sampled or shadow.paired
            target = shadow.target
            in_flight = self.in_flight.get(endpoint, 0)
            if in_flight >= self.max_in_flight or not self.link.ready():
                self._drop(endpoint, shadow)
                if in_flight >= self.max_in_flight:
                    self._unstick()
                continue
            instance = pick_instance(target, self.outstanding, self.rng)
            if instance is None:
                self._finish(_Copy(endpoint, shadow, None, None, b"", headers, inference_id), "", "server_5xx",
                             503, b"", None, None, self.clock(), time.perf_counter())
                continue
            setting = shadow.capture
            captured = setting is not None and self.capture is not None and (
                setting.sampling_percentage >= 100 or self.rng.random() * 100 < setting.sampling_percentage)
            if serialised is None:
                serialised = request(body, headers)
            host = self._hosts.get(instance.host)
            if host is None:
                host = self._hosts[instance.host] = instance.host.encode("latin-1")
            copy_id = self._next_id = self._next_id + 1
            if not self.link.offer(copy_frame(copy_id, host, instance.port, shadow.paired or captured, serialised)):
                self._drop(endpoint, shadow)
                continue
            self.in_flight[endpoint] = in_flight + 1
            self.sent += 1
            self.outstanding.acquire(instance.instance_id)
            self._pending[copy_id] = _Copy(endpoint, shadow, instance, setting if captured else None,
                                           body if captured else b"", headers, inference_id)
        return sampled

    def _unstick(self) -> None:
        """With an endpoint's copies all in flight: a mirror process that has not answered its oldest copy
        well past the invocation timeout (its own sweep ends every copy by then) is stuck, and is ended (its
        copies are counted dropped, and it is restarted)."""
        oldest = next(iter(self._pending.values()), None)
        if oldest is not None and time.perf_counter() - oldest.started > self.upstream.timeout_s + STUCK_S:
            log.warning("the mirror process has not answered a copy in %.0f s: ending it",
                        time.perf_counter() - oldest.started)
            self.link.kill()

    def _drop(self, endpoint: str, shadow: Shadow) -> None:
        self.dropped += 1
        self.recorder.record_mirror_dropped(endpoint, shadow.target.variant_name, shadow.target.config_name,
                                            self.clock())

    def _answers(self, answers: list[memoryview]) -> None:
        """A batch of ANSWER frames from the mirror process (one read's worth), recorded with one clock
        reading for the batch."""
        pending, release = self._pending, self.outstanding.release
        now, perf = self.clock(), time.perf_counter()
        for body in answers:
            copy_id, ended, status, model_us = answer_start(body)
            copy = pending.pop(copy_id, None)
            if copy is None:  # (not ours: a copy counted lost already)
                continue
            instance = copy.instance
            assert instance is not None
            release(instance.instance_id)
            if ended == UNREACHABLE:
                outcome = "server_5xx"
            elif ended == TIMED_OUT:
                outcome = "model_error_5xx"
            else:
                outcome = "ok" if 200 <= status < 300 else "model_error_4xx" if status < 500 else "model_error_5xx"
            if copy.shadow.paired or copy.capture is not None:  # the only copies whose body came back
                answer = parse_answer(body)
                self._finish(copy, instance.instance_id, outcome, status, answer.body, answer.content_type,
                             answer.model_latency_us, now, perf)
            else:
                self._finish(copy, instance.instance_id, outcome, status, b"", None,
                             None if model_us != model_us else model_us, now, perf)  # (NaN: none)

    def _lost(self) -> None:
        """The mirror process exited: the copies it had are counted dropped."""
        lost, self._pending = self._pending, {}
        for copy in lost.values():
            self._release(copy)
            self._drop(copy.endpoint, copy.shadow)

    def _finish(self, copy: _Copy, instance_id: str, outcome: str, status: int, body: bytes,
                content_type: str | None, model_us: float | None, now: float, perf: float) -> None:
        shadow, endpoint = copy.shadow, copy.endpoint
        target = shadow.target
        try:
            total_us = (perf - copy.started) * 1e6
            self.recorder.record_invocation(endpoint, target.variant_name, target.config_name, instance_id,
                                            outcome, model_us, max(total_us - (model_us or 0.0), 0.0), now)
            setting = copy.capture if outcome == "ok" else None
            if shadow.paired or setting is not None:
                answer = Answer(target.variant_name, target.config_name, outcome, status, body, content_type,
                                model_us)
                if shadow.paired:
                    self.sink.shadow(endpoint, copy.inference_id, answer, now)
                if setting is not None and self.capture is not None:
                    self.capture.capture(setting, endpoint, target.variant_name, now, copy.body,
                                         copy.headers.get("Content-Type", OCTETS), body, content_type or OCTETS,
                                         copy.inference_id)
        except Exception:  # a shadow's failure must never reach the caller or the loop
            log.exception("shadow copy to %s/%s failed", endpoint, target.variant_name)
        finally:
            self._leave(endpoint)

    def _release(self, copy: _Copy) -> None:
        """A copy that ends unrecorded: free its instance and its place."""
        if copy.instance is not None:
            self.outstanding.release(copy.instance.instance_id)
        self._leave(copy.endpoint)

    def _leave(self, endpoint: str) -> None:
        left = self.in_flight.get(endpoint, 1) - 1
        if left <= 0:
            self.in_flight.pop(endpoint, None)
        else:
            self.in_flight[endpoint] = left

    async def close(self) -> None:
        """Stop the mirror process; copies still in flight are not recorded."""
        await self.link.close()
        pending, self._pending = self._pending, {}
        for copy in pending.values():
            self._release(copy)


class _Copy:
    """One copy handed to the mirror process: what its answer is recorded with."""

    __slots__ = ("body", "capture", "endpoint", "headers", "inference_id", "instance", "shadow", "started")

    def __init__(self, endpoint: str, shadow: Shadow, instance: InstanceAddress | None,
                 capture: CaptureSetting | None, body: bytes, headers: dict[str, str], inference_id: str) -> None:
        self.endpoint, self.shadow, self.instance, self.capture = endpoint, shadow, instance, capture
        self.body, self.headers, self.inference_id = body, headers, inference_id
        self.started = time.perf_counter()


