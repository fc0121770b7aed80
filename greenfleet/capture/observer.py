"""The control pass's ``capture`` step: publishes the capture writer's counters to the metric store
(once per second through ``EverySecond``), in namespace
``greenfleet/DataCapture`` with dimensions EndpointName and VariantName:

- ``CapturedRecords``: records written to the destination;
- ``DroppedRecords``: records dropped because the writer's queue was full (backpressure);
- ``FailedRecords``: records lost because the destination refused the write (see DescribeEndpoint's
  FailureReason);
- ``LostRecords``: records handed to the capture-writer process that exited before confirming their write
  (it is restarted; see ``handoff``)."""

from __future__ import annotations

from typing import Any, Protocol

from greenfleet.capture.sink import CaptureCounts, CaptureSink, Key
from greenfleet.control.snapshot import Snapshot

NAMESPACE = "greenfleet/DataCapture"


class MetricSink(Protocol):
    def put_metric_data(self, body: dict[str, Any], now: float | None = None) -> None: ...


class CaptureObserver:
    name = "capture"

    def __init__(self, writer: CaptureSink, metrics: MetricSink) -> None:
        self.writer, self.metrics = writer, metrics
        self._seen: dict[Key, CaptureCounts] = {}

    def run(self, snapshot: Snapshot) -> None:
        self.tick(snapshot.now)

    def tick(self, now: float) -> None:
        datums: list[dict[str, Any]] = []
        for key, counts in self.writer.counts().items():
            before = self._seen.get(key, CaptureCounts(0, 0, 0))
            self._seen[key] = counts
            dimensions = [{"Name": "EndpointName", "Value": key[0]}, {"Name": "VariantName", "Value": key[1]}]
            for name, value in (("CapturedRecords", counts.written - before.written),
                                ("DroppedRecords", counts.dropped - before.dropped),
                                ("FailedRecords", counts.failed - before.failed),
                                ("LostRecords", counts.lost - before.lost)):
                if value:
                    datums.append({"MetricName": name, "Dimensions": dimensions, "Value": float(value),
                                   "Unit": "Count", "StorageResolution": 1})
        for start in range(0, len(datums), 1000):
            self.metrics.put_metric_data({"Namespace": NAMESPACE, "MetricData": datums[start:start + 1000]}, now)
