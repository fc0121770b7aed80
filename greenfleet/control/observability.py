"""What the control plane reports to the metric store and the event log: two steps of the pass (once a
second, see control_pass.py) flush the router's per-second figures with each ready instance's CPU and
memory (sampled by the instance backend), then evaluate the alarms (before the deployment driver reads
them in the same pass); hooks record ModelSetupTime and endpoint status changes as they happen."""

from __future__ import annotations

import logging
from typing import Any

from greenfleet.alarms import AlarmService
from greenfleet.control.reconciler import Hooks
from greenfleet.control.snapshot import Snapshot
from greenfleet.events import EventService
from greenfleet.instances.backend import InstanceBackend, InstanceSpec
from greenfleet.metrics import MetricService

log = logging.getLogger("greenfleet.observability")
SOURCE = "greenfleet.sagemaker"


class InstanceEvents(Hooks):
    """ModelSetupTime when an instance first passes its health check; an event per endpoint status change."""

    def __init__(self, metrics: MetricService, events: EventService) -> None:
        self.metrics, self.events = metrics, events

    def instance_ready(self, spec: InstanceSpec, setup_time_s: float, now: float) -> None:
        self.metrics.recorder.record_model_setup_time(spec.endpoint_name, spec.variant_name, spec.config_name,
                                                      setup_time_s * 1e6, now)

    def endpoint_changed(self, before: dict[str, Any], after: dict[str, Any], now: float) -> None:
        self.events.append(SOURCE, "SageMaker Endpoint State Change", before["arn"], {
            "EndpointName": before["name"], "EndpointConfigName": after.get("config_name"),
            "EndpointStatus": after["status"], "PreviousStatus": before["status"],
            "FailureReason": after.get("failure_reason")}, now)


class MetricsFlush:
    """Samples each ready instance's CPU and memory through the backend, then flushes the second's figures."""

    name = "metrics"

    def __init__(self, metrics: MetricService, backend: InstanceBackend) -> None:
        self.metrics, self.backend = metrics, backend

    def run(self, snapshot: Snapshot) -> None:
        now = snapshot.now
        for instance in snapshot.ready():
            try:
                usage = self.backend.sample(instance.handle, now)
            except Exception:
                log.exception("sampling instance %s failed", instance.instance_id)
                continue
            if usage is not None:
                key = instance.key
                self.metrics.recorder.record_instance_usage(key.endpoint, key.variant, instance.config_name,
                                                            instance.instance_id, usage.cpu_percent,
                                                            usage.memory_percent, now)
        self.metrics.flush(now)


class AlarmEvaluation:
    name = "alarms"

    def __init__(self, alarms: AlarmService) -> None:
        self.alarms = alarms

    def run(self, snapshot: Snapshot) -> None:
        self.alarms.evaluate(snapshot.now)
