"""Feeding the canary judge: the control's (the fresh baseline, or blue) and green's samples of each judged
metric over the judge's window, read from the metric store's per-config series (dimensions EndpointName,
VariantName, EndpointConfigName), merged over the fleet's variants.

The store keeps one point per second, so the window is whole seconds: from the first second that starts at
or after the window's start (when green was given its share) up to the last closed second. The second in
which the window starts is left out: its first part is from before green took traffic, when blue served all
of it (longer queues, higher latency); counted against green's few samples of that second, it made green
look 15-25 % faster than an identical blue, significant at Kayenta's defaults (an A/A rollback with
Direction EITHER; a slower green's HIGH hidden). What remains: green's traffic starts some 30-100 ms after
the window's start (when the reconciler publishes the split), so a window starting in the last tenth of a
second still holds that much of blue alone.

The baseline's series are its own (EndpointConfigName ``<blue config>@baseline``, FleetSpec.metrics_config).
Warm-up (Judge.WarmUpInSeconds / WarmUpInvocations) moves each side's first judged second later; what it
left out is reported with the samples (JudgeReport.excluded).
"""

from __future__ import annotations

import math

from greenfleet.judge.config import JudgeConfig
from greenfleet.judge.samples import Counts, MetricSamples, Moments, Sample, values_from_bins
from greenfleet.metrics import MetricService
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.series import SeriesKey
from greenfleet.metrics.store import Series
from greenfleet.rollout.fleet import FleetSpec
from greenfleet.rollout.judging import JudgeRequest

SEQUENTIAL_PROPORTION, SEQUENTIAL_MEAN = "SEQUENTIAL_PROPORTION", "SEQUENTIAL_MEAN"
NAMESPACE, LATENCY = "AWS/SageMaker", "ModelLatency"
"""Warm-up counts invocations by their ModelLatency samples (one per answered invocation)."""


def collect(metrics: MetricService, endpoint: str, request: JudgeRequest,
            now: float) -> tuple[dict[str, MetricSamples], tuple[str, ...]]:
    """Each metric's samples of the control and green, and what the warm-up left out (one sentence a side)."""
    start, end = math.ceil(request.window_start), int(now)
    config = request.config
    sides = (("control", request.control), ("green", request.experiment))
    firsts = {side: _judged_from(metrics, endpoint, fleet, config, request.window_start, start, end)
              for side, fleet in sides}
    excluded = tuple(_left_out(metrics, endpoint, fleet, side, config, start, firsts[side], end)
                     for side, fleet in sides if firsts[side] > start)
    samples = {}
    for metric in config.Metrics:
        merged = [_merged(metrics, endpoint, fleet, metric.Namespace, metric.MetricName, firsts[side], end)
                  for side, fleet in sides]
        control, experiment = (_sample(agg, str(metric.Test)) for agg in merged)
        samples[metric.Name] = MetricSamples(control=control, experiment=experiment)
    return samples, excluded


def _judged_from(metrics: MetricService, endpoint: str, fleet: FleetSpec, config: JudgeConfig, window_start: float,
                 start: int, end: int) -> int:
    """The first judged second of a side: after WarmUpInSeconds and after the second in which the side's
    WarmUpInvocations-th invocation (ModelLatency sample) was recorded; past ``end`` while warming up."""
    first = max(start, math.ceil(window_start + config.WarmUpInSeconds)) if config.WarmUpInSeconds else start
    if config.WarmUpInvocations <= 0:
        return first
    seen = 0.0
    for second, count in enumerate(_per_second(metrics, endpoint, fleet, start, end), start):
        seen += count
        if seen >= config.WarmUpInvocations:
            return max(first, second + 1)
    return max(first, end + 1)


def _per_second(metrics: MetricService, endpoint: str, fleet: FleetSpec, start: int, end: int) -> list[float]:
    """The side's ModelLatency samples in each second of [start, end): one read of each series (counts only)."""
    counts = [0.0] * max(0, end - start)
    for series in _series(metrics, endpoint, fleet, NAMESPACE, LATENCY):
        for i, aggregate in enumerate(metrics.store.aggregate(series, start, end, 1, distribution=False)):
            if aggregate is not None:
                counts[i] += aggregate.count
    return counts


def _left_out(metrics: MetricService, endpoint: str, fleet: FleetSpec, side: str, config: JudgeConfig, start: int,
              first: int, end: int) -> str:
    calls = int(_merged(metrics, endpoint, fleet, NAMESPACE, LATENCY, start, min(first, end)).count)
    why = " and ".join(([f"WarmUpInSeconds {config.WarmUpInSeconds:g}"] if config.WarmUpInSeconds else [])
                       + ([f"WarmUpInvocations {config.WarmUpInvocations}"] if config.WarmUpInvocations else []))
    label = "green" if side == "green" else f"the control ({fleet.metrics_config})"
    if first > end:
        return f"{label}: all {end - start} s ({calls} invocations) so far left out, still warming up ({why})"
    return f"{label}: the first {first - start} s ({calls} invocations) left out as warm-up ({why})"


def _merged(metrics: MetricService, endpoint: str, fleet: FleetSpec, namespace: str, name: str, start: int,
            end: int) -> Aggregate:
    total = Aggregate(0.0, 0.0, 0.0, 0.0)
    if end <= start:
        return total
    for series in _series(metrics, endpoint, fleet, namespace, name):
        for aggregate in metrics.store.aggregate(series, start, end, end - start):
            if aggregate is not None:
                total.absorb(aggregate)
    return total


def _series(metrics: MetricService, endpoint: str, fleet: FleetSpec, namespace: str, name: str) -> list[Series]:
    """The fleet's per-config series of a metric, over its variants."""
    found: list[Series] = []
    for variant in fleet.variant_names:
        key = SeriesKey(namespace, name, tuple(sorted((("EndpointName", endpoint), ("VariantName", variant),
                                                       ("EndpointConfigName", fleet.metrics_config)))))
        found.extend(metrics.store.find(key))
    return found


def _sample(aggregate: Aggregate, test: str) -> Sample:
    if test.endswith(SEQUENTIAL_PROPORTION):
        return Counts(trials=int(aggregate.count), events=round(aggregate.total))
    sketch = aggregate.view() if aggregate.count > 0 else None
    bins = list(sketch.bins()) if sketch is not None else []
    if test.endswith(SEQUENTIAL_MEAN):
        return Moments.from_bins(bins)
    return values_from_bins(bins)
