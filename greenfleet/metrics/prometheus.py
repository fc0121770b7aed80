"""Prometheus exposition of the metric store: a custom collector (no global registry, no counters kept by
the services) that reads the store on every scrape.

Each series becomes one summary sample set, named ``<namespace>_<metric>`` (namespace lower-cased, metric
in snake case: ``aws_sagemaker_invocation_5xx_errors``), dimensions as snake-case labels (``endpoint_name``):

- ``_count``: SampleCount and ``_sum``: Sum, accumulated since greenfleet started (counters: use ``rate()``;
  for the 0/1 figures rate(_sum)/rate(_count) is the error rate, as Average is in CloudWatch);
- ``{quantile="0.5"|"0.9"|"0.99"}``: percentiles over the last complete minute, for series whose samples
  have a distribution (latencies, utilization, custom metrics).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from greenfleet.metrics.store import MetricStore, merge_periods

QUANTILES = (0.5, 0.9, 0.99)
_INVALID = re.compile(r"[^a-zA-Z0-9_]")


def flat(namespace: str) -> str:
    """AWS/SageMaker → aws_sagemaker"""
    text = re.sub(r"_+", "_", _INVALID.sub("_", namespace)).strip("_").lower()
    return text if text and not text[0].isdigit() else f"_{text}"


def snake(name: str) -> str:
    """EndpointName → endpoint_name, Invocation5XXErrors → invocation_5xx_errors"""
    text = re.sub(r"([a-z])([A-Z0-9])", r"\1_\2", name)
    text = re.sub(r"([A-Z0-9]+)([A-Z][a-z])", r"\1_\2", text)
    text = _INVALID.sub("_", text).lower()
    text = re.sub(r"_+", "_", text).strip("_")
    return text if text and not text[0].isdigit() else f"_{text}"


class MetricCollector(Collector):
    def __init__(self, store: MetricStore, now: Callable[[], float]) -> None:
        self.store = store
        self.now = now

    def collect(self) -> Iterator[Metric]:
        now = int(self.now())
        minute = now - now % 60
        families: dict[str, Metric] = {}
        keys = sorted({series.key for series in self.store.all_series()}, key=lambda k: (k.namespace, k.name))
        for key in keys:
            units = self.store.find(key)  # a metric sent in several units: one Prometheus series
            name = f"{flat(key.namespace)}_{snake(key.name)}"
            family = families.get(name)
            if family is None:
                unit = "/".join(sorted(s.unit or "None" for s in units))
                doc = (f"{key.namespace} {key.name} ({unit}): _count is SampleCount and _sum "
                       "is Sum since greenfleet started; quantiles over the last complete minute")
                family = families[name] = Metric(name, doc, "summary")
            labels = {snake(dim): value for dim, value in key.dimensions}
            family.add_sample(f"{name}_count", labels, sum(s.count_total for s in units))
            family.add_sample(f"{name}_sum", labels, sum(s.sum_total for s in units))
            (last,) = merge_periods([self.store.aggregate(s, minute - 60, minute, 60) for s in units], True)
            if last is None or last.opaque or last.sketch is None:
                continue
            for q in QUANTILES:
                value = last.percentile(q)
                if value is not None:
                    family.add_sample(name, {**labels, "quantile": str(q)}, value)
        yield from families.values()
