"""InvokeEndpoint, exactly as sagemaker-runtime answers it: a raw ASGI handler (no framework on the
hot path) that picks a variant and an instance from the current RoutingTable and forwards the body.

A serverless variant (a target with ``max_concurrency``) takes at most MaxConcurrency requests at once (more
are answered ``ThrottlingException``, HTTP 400, as SageMaker does); with no instance running, the first
request wakes the control plane (``on_demand``) and is held until an instance is ready in a published table,
up to ``cold_start_timeout_s`` (then ``ModelNotReadyException``, 429). ``last_request`` and
``serverless_in_flight`` tell the control plane when each serverless variant was last asked and how many of
its requests are in flight or held (it starts and stops variants on them): the leader's own router's directly,
any other router's through its report in the store (control/router_presence.py), as ``on_demand`` wakes only
the local pass."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from random import Random
from typing import TYPE_CHECKING, Any

from greenfleet.auth.policy import AccessPolicy
from greenfleet.auth.sigv4 import AuthFailure, verify_scope
from greenfleet.resources.pipeline import HOSTNAME_HEADER
from greenfleet.router.assignments import AssignmentLog
from greenfleet.router.balancer import Outstanding, pick_instance
from greenfleet.router.body import read_body
from greenfleet.router.mirror import Answer, Mirror
from greenfleet.router.recorder import InvocationRecorder, NullRecorder
from greenfleet.router.table import EMPTY_TABLE, EndpointRoute, RoutingTable, Shadow, Target
from greenfleet.router.upstream import InstanceTimeout, InstanceUnreachable, Upstream, request
from greenfleet.types import Receive, Scope, Send

if TYPE_CHECKING:
    from greenfleet.capture.sink import CaptureSink

log = logging.getLogger("greenfleet.router")
FORWARDED = {
    b"content-type": "Content-Type",
    b"accept": "Accept",
    b"x-amzn-sagemaker-custom-attributes": "X-Amzn-SageMaker-Custom-Attributes",
    b"x-amzn-sagemaker-inference-id": "X-Amzn-SageMaker-Inference-Id",
    b"x-amzn-sagemaker-target-model": "X-Amzn-SageMaker-Target-Model",
    b"x-amzn-sagemaker-target-container-hostname": HOSTNAME_HEADER,
}
TARGET_VARIANT = b"x-amzn-sagemaker-target-variant"
INFERENCE_ID = "X-Amzn-SageMaker-Inference-Id"
MAX_INFERENCE_ID = 64  # SageMaker's InferenceId: 1-64 characters
MAX_ATTEMPTS = 3


class Router:
    def __init__(self, account_id: str, max_payload_bytes: int, timeout_s: float,
                 recorder: InvocationRecorder | None = None, rng: Random | None = None,
                 clock: Callable[[], float] = time.time, credentials: dict[str, str] | None = None,
                 max_skew_s: float = 900.0, policy: AccessPolicy | None = None,
                 shadow_max_in_flight: int = 32, shadow_niceness: int = 10, shadow_scheduling: str = "idle") -> None:
        self.table: RoutingTable = EMPTY_TABLE
        self.outstanding = Outstanding()
        self.account_id = account_id
        self.max_payload_bytes = max_payload_bytes
        self.upstream = Upstream(timeout_s)
        self.recorder: InvocationRecorder = recorder or NullRecorder()
        self.rng = rng or Random()
        self.clock = clock
        self.credentials = credentials
        self.max_skew_s = max_skew_s
        self.policy = policy if policy is not None and not policy.open else None
        """The server's access policy (SigV4 for ``sagemaker`` in its region, or its bearer token)."""
        self.mirror = Mirror(self.upstream, self.outstanding, self.recorder, self.rng, clock, shadow_max_in_flight,
                             niceness=shadow_niceness, scheduling=shadow_scheduling)
        """Copies of sampled requests to shadow variants, sent by a mirror process at the shadows' CPU priority
        (bounded in flight; dropped and counted beyond)."""
        self.assignments = AssignmentLog()
        """Which variant answered which inference id, on endpoints under an A/B test (the feedback API's)."""
        self.capture: CaptureSink | None = None
        """Where sampled invocations of endpoints with data capture go (set by the server)."""
        self.cold_start_timeout_s = 60.0
        self.on_demand: Callable[[], None] = lambda: None
        """Called when a request waits for a serverless variant's first instance (the server wakes its pass)."""
        self.last_request: dict[tuple[str, str], float] = {}
        """(endpoint, serverless variant) → when it was last asked (clock time)."""
        self.serverless_in_flight: dict[tuple[str, str], int] = {}
        """(endpoint, serverless variant) → requests in flight or held (counted against MaxConcurrency)."""

    def publish(self, table: RoutingTable) -> None:
        """Swap in a new table (one reference assignment: atomic for readers); InvocationsPerInstance divides
        by the healthy instances it lists from now on."""
        if table.revision > self.table.revision:
            self.table = table
            self.recorder.set_instance_counts(table.healthy_counts())
            self._forget_serverless(table)

    def _forget_serverless(self, table: RoutingTable) -> None:
        """Drop the demand of variants that are no longer serverless in ``table`` (deleted endpoints, variants
        gone or now instance-based) and have nothing in flight: it would be reported to the control plane for
        good. Runs on the publishing thread: keys are copied first and popped one by one (each atomic), and a
        request still finishing on the old table writes its key back, to be dropped by the next table."""
        serverless = {(route.name, target.variant_name) for route in table.endpoints.values()
                      for target in route.targets if target.max_concurrency is not None}
        for key in list(self.last_request):
            if key not in serverless and not self.serverless_in_flight.get(key):
                self.last_request.pop(key, None)
                self.serverless_in_flight.pop(key, None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        name = scope["path"].split("/")[2]
        if scope["method"] != "POST":
            await _error(send, 405, "ValidationError", "InvokeEndpoint takes POST")
            return
        body = await read_body(scope, receive, self.max_payload_bytes)
        if body is None:
            await _error(send, 413, "ValidationError",
                         f"Request payload is larger than the {self.max_payload_bytes}-byte limit.")
            return
        if self.policy is not None:
            failure = _policy_failure(self.policy, scope, body, self.clock())
            if failure is not None:
                await _error(send, failure.status, failure.code(), failure.message)
                return
        elif self.credentials:  # SigV4, as sagemaker-runtime checks it (off when no keys are configured)
            failure = verify_scope(scope, body, self.credentials, self.clock(), self.max_skew_s)
            if failure is not None:
                await _error(send, failure.status, failure.code(), failure.message)
                return
        # Read the table after the body: from here to acquiring an instance there is no await, so a
        # drained instance is never picked from a stale table.
        route = self.table.get(name)
        if route is None:
            await _error(send, 400, "ValidationError",
                         f"Endpoint {name} of account {self.account_id} not found.")
            return
        headers: dict[str, str] = {}
        target_variant: str | None = None
        for key, value in scope["headers"]:
            forwarded = FORWARDED.get(key)
            if forwarded is not None:
                headers[forwarded] = value.decode("latin-1")
            elif key == TARGET_VARIANT:
                target_variant = value.decode("latin-1")
        inference_id = headers.get(INFERENCE_ID)
        if inference_id is None:
            inference_id = headers[INFERENCE_ID] = uuid.uuid4().hex
        elif not 0 < len(inference_id) <= MAX_INFERENCE_ID or not inference_id.isprintable():
            await _error(send, 400, "ValidationError",
                         f"Value at 'inferenceId' failed to satisfy constraint: Member must have length between 1 "
                         f"and {MAX_INFERENCE_ID} and contain printable characters only.")
            return
        if target_variant is not None and not route.has_variant(target_variant):
            await _error(send, 400, "ValidationError",
                         f"Variant {target_variant} not found for endpoint {name}.")
            return
        target = route.choose(self.rng, target_variant)
        if target is None:
            await _error(send, 503, "ServiceUnavailable",
                         f"Endpoint {name} has no instance ready to serve; retry shortly.")
            return
        if target.async_concurrency:
            await _error(send, 400, "ValidationError", f"Endpoint {name} is an asynchronous endpoint: invoke it "
                         "with InvokeEndpointAsync.")
            return
        refused = _hostname_refusal(name, target, headers.get(HOSTNAME_HEADER))
        if refused is not None:
            await _error(send, 400, "ValidationError", refused)
            return
        serialised = request(body, headers)  # once: production's instance and every shadow's copy get these bytes
        try:
            if target.max_concurrency is not None:
                answer = await self._serverless(send, name, target, body, headers, serialised, started,
                                                inference_id, route)
            else:
                answer = await self._forward(send, name, target, body, headers, serialised, started, inference_id,
                                             route)
        except Exception:  # a bug must not take the data plane down; answer as SageMaker would
            log.exception("invocation of %s failed", name)
            await _error(send, 500, "InternalFailure", "An internal error occurred; the request can be retried.")
            return
        if not route.shadows:
            return
        try:  # after the answer was sent: a failure here is logged, never answered twice
            # Copies to shadow variants go out after the production answer was sent: their writes, and the
            # shadow's instances waking up, never come before it (bench/shadow_bench.py).
            mirrored = bool(route.shadows) and self.mirror.send(name, route, target.variant_name, body, headers,
                                                                 inference_id, serialised)
            if answer is None:
                return
            if mirrored:
                self.mirror.sink.production(name, inference_id, body, headers.get("Content-Type"), answer,
                                            self.clock())
                self._capture_paired(name, route.shadows, body, headers, answer, inference_id)
        except Exception:
            log.exception("recording the answer of %s to %s failed", name, inference_id)

    async def _forward(self, send: Send, name: str, target: Any, body: bytes, headers: dict[str, str],
                       serialised: bytes, started: float, inference_id: str, route: EndpointRoute) -> Answer | None:
        """Forward to the target's instances (retrying one that was unreachable); what the model answered."""
        capture = route.capture
        id_header = (b"x-amzn-sagemaker-inference-id", inference_id.encode("latin-1"))
        tried: frozenset[str] = frozenset()
        for _ in range(MAX_ATTEMPTS):
            instance = pick_instance(target, self.outstanding, self.rng, tried)
            if instance is None:
                break
            tried = tried | {instance.instance_id}
            self.outstanding.acquire(instance.instance_id)
            sent = time.perf_counter()
            try:
                response = await self.upstream.invoke_request(instance, serialised)
            except InstanceUnreachable:
                continue
            except InstanceTimeout:
                model_us = (time.perf_counter() - sent) * 1e6
                self._record(name, target, instance.instance_id, "model_error_5xx", model_us, started)
                await _error(send, 424, "ModelError", "Your invocation timed out while waiting for a "
                                   f"response from container {_container(target, headers)} of variant "
                                   f"{target.variant_name}.")
                return Answer(target.variant_name, target.config_name, "model_error_5xx", 504, b"", None, model_us)
            finally:
                self.outstanding.release(instance.instance_id)
            model_us = (time.perf_counter() - sent) * 1e6
            if 200 <= response.status < 300:
                if route.record_assignments:  # before the answer: feedback sent on receiving it finds the id
                    self.assignments.record(name, inference_id, target.variant_name, response.body, self.clock())
                extra = [(b"x-amzn-invoked-production-variant", target.variant_name.encode()), id_header]
                if response.custom_attributes is not None:
                    extra.append((b"x-amzn-sagemaker-custom-attributes", response.custom_attributes.encode()))
                await _respond(send, 200, response.body,
                               (response.content_type or "application/octet-stream").encode(), extra)
                self._record(name, target, instance.instance_id, "ok", model_us, started)
                if response.container_latency is not None:
                    self._record_containers(name, target, response.container_latency)
                if capture is not None and self.capture is not None and (
                        capture.sampling_percentage >= 100 or self.rng.random() * 100 < capture.sampling_percentage):
                    self.capture.capture(capture, name, target.variant_name, self.clock(), body,
                                         headers.get("Content-Type", "application/octet-stream"), response.body,
                                         response.content_type or "application/octet-stream", inference_id)
                outcome = "ok"
            else:
                outcome = "model_error_4xx" if response.status < 500 else "model_error_5xx"
                self._record(name, target, instance.instance_id, outcome, model_us, started)
                await _model_failure(send, target.variant_name, response.container or "primary", response.status,
                                     response.body, id_header)
            return Answer(target.variant_name, target.config_name, outcome, response.status, response.body,
                          response.content_type, model_us)
        self._record(name, target, "", "server_5xx", None, started)
        await _error(send, 503, "ServiceUnavailable",
                     f"No instance of variant {target.variant_name} of endpoint {name} answered; retry shortly.")
        return None

    def _capture_paired(self, name: str, shadows: tuple[Shadow, ...], body: bytes, headers: dict[str, str],
                        answer: Answer, inference_id: str) -> None:
        """An experiment's DataStorageConfig holds both variants' answers to the mirrored requests."""
        for shadow in shadows:
            if shadow.paired and shadow.capture is not None and self.capture is not None and answer.outcome == "ok":
                self.capture.capture(shadow.capture, name, answer.variant_name, self.clock(), body,
                                     headers.get("Content-Type", "application/octet-stream"), answer.body,
                                     answer.content_type or "application/octet-stream", inference_id)

    async def _serverless(self, send: Send, name: str, target: Target, body: bytes, headers: dict[str, str],
                          serialised: bytes, started: float, inference_id: str,
                          route: EndpointRoute) -> Answer | None:
        key = (name, target.variant_name)
        self.last_request[key] = self.clock()
        busy = self.serverless_in_flight.get(key, 0)
        if target.max_concurrency is not None and busy >= target.max_concurrency:
            self._record(name, target, "", "client_4xx", None, started)
            await _error(send, 400, "ThrottlingException",
                         f"Rate exceeded: variant {target.variant_name} of endpoint {name} already has its "
                         f"MaxConcurrency ({target.max_concurrency}) of requests in flight.")
            return None
        self.serverless_in_flight[key] = busy + 1
        try:
            ready: Target | None = target
            if not target.instances:
                ready = await self._cold_start(name, target)
            if ready is None:
                self._record(name, target, "", "server_5xx", None, started)
                await _error(send, 429, "ModelNotReadyException",
                             f"Variant {target.variant_name} of endpoint {name} is still starting (cold start over "
                             f"{self.cold_start_timeout_s:g} s); retry.")
                return None
            return await self._forward(send, name, ready, body, headers, serialised, started, inference_id, route)
        finally:
            self.serverless_in_flight[key] = self.serverless_in_flight.get(key, 1) - 1
            self.last_request[key] = self.clock()

    async def _cold_start(self, name: str, target: Target) -> Target | None:
        """Hold a request until the variant has an instance ready in a published table (or time runs out)."""
        self.on_demand()
        deadline = time.perf_counter() + self.cold_start_timeout_s
        while time.perf_counter() < deadline:
            await asyncio.sleep(0.005)
            route = self.table.get(name)
            if route is None:
                return None
            found = next((t for t in route.targets if t.variant_name == target.variant_name
                          and t.config_name == target.config_name and t.instances), None)
            if found is not None:
                return found  # no await from here to acquiring its instance (_forward)
        return None

    def _record_containers(self, name: str, target: Any, header: str) -> None:
        now = self.clock()
        for container, micros in _container_latencies(header):
            self.recorder.record_container_latency(name, target.variant_name, container, micros, now)

    def _record(self, name: str, target: Any, instance_id: str, outcome: str, model_us: float | None,
                started: float) -> None:
        total_us = (time.perf_counter() - started) * 1e6
        overhead = max(total_us - (model_us or 0.0), 0.0)
        self.recorder.record_invocation(name, target.variant_name, target.config_name, instance_id, outcome,
                                        model_us, overhead, self.clock())


def _container_latencies(header: str) -> list[tuple[str, float]]:
    found = []
    for item in header.split(","):
        container, _, micros = item.partition("=")
        try:
            found.append((container, float(micros)))
        except ValueError:
            continue
    return found


def _policy_failure(policy: AccessPolicy, scope: Scope, body: bytes, now: float) -> AuthFailure | None:
    raw_path = scope.get("raw_path") or scope["path"].encode()
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
    return policy.check(scope["method"], raw_path.decode("latin-1"), scope.get("query_string", b"").decode("latin-1"),
                        headers, body, now, ("sagemaker",))



async def _respond(send: Send, status: int, body: bytes, content_type: bytes,
                   extra: list[tuple[bytes, bytes]] | None = None) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if extra:
        headers.extend(extra)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _error(send: Send, status: int, code: str, message: str) -> None:
    body = json.dumps({"message": message, "Message": message}).encode()
    await _respond(send, status, body, b"application/json", [(b"x-amzn-errortype", code.encode())])


def _hostname_refusal(name: str, target: Target, hostname: str | None) -> str | None:
    """SageMaker's checks of X-Amzn-SageMaker-Target-Container-Hostname: required by (and only accepted by)
    a Direct-mode multi-container endpoint, and naming one of its containers."""
    if not target.container_hostnames:
        if hostname is None:
            return None
        return (f"Endpoint {name} is not a multi-container endpoint with Direct invocation: "
                "TargetContainerHostname cannot be specified.")
    if hostname is None:
        return (f"Endpoint {name} is a multi-container endpoint with Direct invocation: "
                "TargetContainerHostname must be specified.")
    if hostname not in target.container_hostnames:
        return (f"Container hostname {hostname} not found for endpoint {name} "
                f"(its containers: {', '.join(target.container_hostnames)}).")
    return None


def _container(target: Target, headers: dict[str, str]) -> str:
    return headers.get(HOSTNAME_HEADER) or ("pipeline" if target.container_hostnames else "primary")


async def _model_failure(send: Send, variant: str, container: str, status: int, body: bytes,
                         id_header: tuple[bytes, bytes]) -> None:
    original = body.decode("utf-8", "replace")
    kind = "client" if status < 500 else "server"
    message = (f'Received {kind} error ({status}) from {container} with message "{original}". '
               f"See the instance log of variant {variant} for more information.")
    payload = json.dumps({"ErrorCode": f"{kind.upper()}_ERROR_FROM_MODEL", "message": message,
                          "Message": message, "OriginalStatusCode": status, "OriginalMessage": original,
                          "LogStreamArn": f"greenfleet/{variant}"}).encode()
    await _respond(send, 424, payload, b"application/json", [(b"x-amzn-errortype", b"ModelError"), id_header])
