"""What the control plane reports to the metric store and the event log: once a second it flushes the
router's per-second figures, samples each instance's CPU and memory, and evaluates the alarms (before
the deployment driver reads them in the same pass); it records ModelSetupTime and endpoint status
changes as they happen."""

from __future__ import annotations

import logging
from typing import Any

from greenfleet.alarms import AlarmService
from greenfleet.control.reconciler import Hooks, Reconciler
from greenfleet.events import EventService
from greenfleet.instances.backend import InstanceSpec
from greenfleet.metrics import MetricService, ProcessSampler

log = logging.getLogger("greenfleet.observability")
SOURCE = "greenfleet.sagemaker"


class Observability(Hooks):
    def __init__(self, reconciler: Reconciler, metrics: MetricService, alarms: AlarmService,
                 events: EventService) -> None:
        self.reconciler, self.metrics, self.alarms, self.events = reconciler, metrics, alarms, events
        self.sampler = ProcessSampler()
        self._second = -1

    def instance_ready(self, spec: InstanceSpec, setup_time_s: float, now: float) -> None:
        self.metrics.recorder.record_model_setup_time(spec.endpoint_name, spec.variant_name, spec.config_name,
                                                      setup_time_s * 1e6, now)

    def endpoint_changed(self, before: dict[str, Any], after: dict[str, Any], now: float) -> None:
        self.events.append(SOURCE, "SageMaker Endpoint State Change", before["arn"], {
            "EndpointName": before["name"], "EndpointConfigName": after.get("config_name"),
            "EndpointStatus": after["status"], "PreviousStatus": before["status"],
            "FailureReason": after.get("failure_reason")}, now)

    def tick(self, now: float) -> None:
        second = int(now)
        if second == self._second:
            return
        self._second = second
        self._sample(now)
        for step, run in (("metrics flush", self.metrics.flush), ("alarm evaluation", self.alarms.evaluate)):
            try:
                run(now)
            except Exception:
                log.exception("%s failed", step)

    def _sample(self, now: float) -> None:
        for managed in list(self.reconciler.instances.values()):
            if managed.phase != "ready":
                continue
            usage = self.sampler.sample(managed.handle.pid, now)
            if usage is not None:
                spec = managed.spec
                self.metrics.recorder.record_instance_usage(spec.endpoint_name, spec.variant_name, spec.config_name,
                                                            managed.instance_id, usage.cpu_percent,
                                                            usage.memory_percent, now)
