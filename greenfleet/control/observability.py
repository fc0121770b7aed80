"""What the control plane reports to the metric store and the event log: two steps of the pass (once a
second, see control_pass.py) flush the router's per-second figures with each ready instance's CPU and
memory (sampled by the instance backend), then evaluate the alarms (before the deployment driver reads
them in the same pass); hooks record ModelSetupTime and endpoint status changes as they happen."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

from greenfleet.alarms import AlarmService
from greenfleet.control.instance_groups import GroupKey
from greenfleet.control.reconciler import Hooks
from greenfleet.control.snapshot import Snapshot
from greenfleet.events import EventService
from greenfleet.instances.backend import InstanceBackend, InstanceSpec
from greenfleet.metrics import MetricService, names
from greenfleet.router.balancer import Outstanding

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
    """Samples each ready instance's CPU and memory through the backend and each variant's requests in flight
    per healthy instance (ConcurrentRequestsPerModel), then flushes the second's figures."""

    name = "metrics"

    def __init__(self, metrics: MetricService, backend: InstanceBackend,
                 outstanding: Outstanding | None = None,
                 remote: Callable[[float], Mapping[str, int]] | None = None) -> None:
        self.metrics, self.backend, self.outstanding = metrics, backend, outstanding
        self.remote = remote
        """The other routers' peaks of requests in flight per instance (router_presence.remote_peaks), added
        to this router's: ConcurrentRequestsPerModel counts the requests every router has on an instance."""

    def run(self, snapshot: Snapshot) -> None:
        now = snapshot.now
        if self.outstanding is not None:
            peaks = self.outstanding.take_peaks()
            if self.remote is not None:
                try:
                    for instance_id, peak in self.remote(now).items():
                        peaks[instance_id] = peaks.get(instance_id, 0) + peak
                except Exception as exc:  # the store unreachable: this router's figures alone, this second
                    log.warning("cannot read the other routers' peaks (%s)", type(exc).__name__)
            in_flight: dict[tuple[str, str], list[int]] = {}
            for instance in snapshot.ready():
                if instance.key.fleet_id == _current_fleet(snapshot, instance.key.endpoint):
                    in_flight.setdefault((instance.key.endpoint, instance.key.variant), []).append(
                        peaks.get(instance.instance_id, 0))
            for (endpoint, variant), counts in in_flight.items():
                self.metrics.recorder.record_concurrency(endpoint, variant, counts, now)
            for endpoint, variant, max_concurrency in _serverless(snapshot):
                used = sum(in_flight.get((endpoint, variant), []))
                self.metrics.recorder.record_concurrency(endpoint, variant, [used / max_concurrency], now,
                                                         names.SERVERLESS_UTILIZATION)
        memory = _serverless_memory(snapshot)
        for instance in snapshot.ready():
            try:
                usage = self.backend.sample(instance.handle, now)
            except Exception:
                log.exception("sampling instance %s failed", instance.instance_id)
                continue
            if usage is not None:
                key = instance.key
                memory_percent = usage.memory_percent
                if key in memory:  # a serverless instance: a percent of its MemorySizeInMB, not of the host's
                    memory_percent = usage.memory_percent * HOST_MEMORY_MB / memory[key]
                self.metrics.recorder.record_instance_usage(key.endpoint, key.variant, instance.config_name,
                                                            instance.instance_id, usage.cpu_percent,
                                                            memory_percent, now)
        self.metrics.flush(now)


HOST_MEMORY_MB = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**20


def _serverless_memory(snapshot: Snapshot) -> dict[GroupKey, int]:
    """MemorySizeInMB of each serverless group (any fleet)."""
    return {GroupKey(row["name"], fleet.id, v.name): v.serverless.memory_mb for row in snapshot.endpoints
            for fleet in row["state"].fleets for v in fleet.variants if v.serverless is not None}


def _serverless(snapshot: Snapshot) -> list[tuple[str, str, int]]:
    return [(row["name"], v.name, v.serverless.max_concurrency) for row in snapshot.endpoints
            for v in row["state"].current.variants if v.serverless is not None and row["status"] == "InService"]


def _current_fleet(snapshot: Snapshot, endpoint: str) -> int | None:
    row = next((r for r in snapshot.endpoints if r["name"] == endpoint), None)
    return row["state"].current_fleet_id if row is not None else None


class AlarmEvaluation:
    name = "alarms"

    def __init__(self, alarms: AlarmService) -> None:
        self.alarms = alarms

    def run(self, snapshot: Snapshot) -> None:
        self.alarms.evaluate(snapshot.now)
