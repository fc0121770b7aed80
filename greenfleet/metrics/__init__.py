"""CloudWatch's metric role: per-second recording of SageMaker's figures, a metric store with sketches and
rollups, queries (statistics, percentiles, metric math), and Prometheus exposition."""

from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.names import NAMESPACE, Outcome
from greenfleet.metrics.procfs import ProcessSampler, Usage
from greenfleet.metrics.prometheus import MetricCollector
from greenfleet.metrics.recorder import Recorder
from greenfleet.metrics.service import MetricService
from greenfleet.metrics.sketch import Sketch
from greenfleet.metrics.store import MetricStore

__all__ = [
    "NAMESPACE",
    "Aggregate",
    "MetricCollector",
    "MetricService",
    "MetricStore",
    "Outcome",
    "ProcessSampler",
    "Recorder",
    "Sketch",
    "Usage",
]
