"""Feeding the canary judge: blue's and green's samples of each judged metric over the judge's window,
read from the metric store's per-config series (dimensions EndpointName, VariantName,
EndpointConfigName), merged over the fleet's variants.

The store keeps one point per second, so the window is whole seconds: from the first second that starts at
or after the window's start (when green was given its share) up to the last closed second. The second in
which the window starts is left out: its first part is from before green took traffic, when blue served all
of it (longer queues, higher latency); counted against green's few samples of that second, it made green
look 15-25 % faster than an identical blue, significant at Kayenta's defaults (an A/A rollback with
Direction EITHER; a slower green's HIGH hidden). What remains: green's traffic starts some 30-100 ms after
the window's start (when the reconciler publishes the split), so a window starting in the last tenth of a
second still holds that much of blue alone.
"""

from __future__ import annotations

import math

from greenfleet.judge.samples import Counts, MetricSamples, Moments, Sample, values_from_bins
from greenfleet.metrics import MetricService
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.series import SeriesKey
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.judging import JudgeRequest

SEQUENTIAL_PROPORTION, SEQUENTIAL_MEAN = "SEQUENTIAL_PROPORTION", "SEQUENTIAL_MEAN"


def collect(metrics: MetricService, endpoint: str, request: JudgeRequest, now: float) -> dict[str, MetricSamples]:
    start, end = math.ceil(request.window_start), int(now)
    samples = {}
    for metric in request.config.Metrics:
        merged = [_merged(metrics, endpoint, fleet, metric.Namespace, metric.MetricName, start, end)
                  for fleet in (request.control, request.experiment)]
        control, experiment = (_sample(agg, str(metric.Test)) for agg in merged)
        samples[metric.Name] = MetricSamples(control=control, experiment=experiment)
    return samples


def _merged(metrics: MetricService, endpoint: str, fleet: FleetSpec, namespace: str, name: str, start: int,
            end: int) -> Aggregate:
    total = Aggregate(0.0, 0.0, 0.0, 0.0)
    if end <= start:
        return total
    for variant in fleet.variant_names:
        key = SeriesKey(namespace, name, tuple(sorted((("EndpointName", endpoint), ("VariantName", variant),
                                                       ("EndpointConfigName", fleet.config_name)))))
        for series in metrics.store.find(key):
            for aggregate in metrics.store.aggregate(series, start, end, end - start):
                if aggregate is not None:
                    total.absorb(aggregate)
    return total


def _sample(aggregate: Aggregate, test: str) -> Sample:
    if test.endswith(SEQUENTIAL_PROPORTION):
        return Counts(trials=int(aggregate.count), events=round(aggregate.total))
    sketch = aggregate.view() if aggregate.count > 0 else None
    bins = list(sketch.bins()) if sketch is not None else []
    if test.endswith(SEQUENTIAL_MEAN):
        return Moments.from_bins(bins)
    return values_from_bins(bins)
