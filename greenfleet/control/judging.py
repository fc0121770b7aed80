"""Feeding the canary judge: blue's and green's samples of each judged metric over the judge's window,
read from the metric store's per-config series (dimensions EndpointName, VariantName,
EndpointConfigName), merged over the fleet's variants."""

from __future__ import annotations

from greenfleet.judge.samples import Counts, MetricSamples, Moments, Sample, values_from_bins
from greenfleet.metrics import MetricService
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.series import SeriesKey
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.judging import JudgeRequest

SEQUENTIAL_PROPORTION, SEQUENTIAL_MEAN = "SEQUENTIAL_PROPORTION", "SEQUENTIAL_MEAN"


def collect(metrics: MetricService, endpoint: str, request: JudgeRequest, now: float) -> dict[str, MetricSamples]:
    start, end = int(request.window_start), int(now)
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
        series = metrics.store.find(key)
        if series is None:
            continue
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
