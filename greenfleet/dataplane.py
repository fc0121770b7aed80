"""The data plane's parts as the settings make them, one way for every process that serves invocations (the
server and a ``greenfleet router`` process): the router, with its capture writer. A setting that reaches one
and not the other is a data plane that behaves differently behind another door (the router process once
held serverless cold starts 60 s whatever the setting)."""

from __future__ import annotations

import random
from collections.abc import Callable

from greenfleet.auth.policy import AccessPolicy
from greenfleet.capture.handoff import CaptureHandoff
from greenfleet.metrics.recorder import Recorder
from greenfleet.router.proxy import Router
from greenfleet.settings import Settings


def build_router(settings: Settings, recorder: Recorder, clock: Callable[[], float],
                 policy: AccessPolicy) -> tuple[Router, CaptureHandoff]:
    """The router and the capture writer its sampled invocations (and shadows' answers) go to; the caller
    starts and stops the writer."""
    router = Router(settings.account_id, settings.max_payload_bytes, settings.invocation_timeout_s,
                    recorder=recorder, rng=random.Random(settings.router_seed), clock=clock, policy=policy,
                    shadow_max_in_flight=settings.shadow_max_in_flight, shadow_niceness=settings.shadow_niceness,
                    shadow_scheduling=settings.shadow_scheduling)
    router.cold_start_timeout_s = settings.serverless_cold_start_timeout_s
    capture = CaptureHandoff(max_queued_bytes=settings.capture_max_queued_bytes,
                             flush_interval_s=settings.capture_flush_interval_s,
                             s3_endpoint_url=settings.s3_endpoint_url)
    router.capture = router.mirror.capture = capture
    return router, capture
