"""The backlog metrics of asynchronous endpoints (namespace AWS/SageMaker, dimension EndpointName), one
point a second from the dispatcher: ApproximateBacklogSize (queued and running requests),
ApproximateBacklogSizePerInstance (the autoscaling metric: per ready instance, or the whole backlog when
there is none), ApproximateAgeOfOldestRequest (seconds) and HasBacklogWithoutCapacity (1 when requests
wait and no instance is ready)."""

from __future__ import annotations

from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.series import series_key
from greenfleet.metrics.service import MetricService

NAMESPACE = "AWS/SageMaker"
UNITS = {"ApproximateBacklogSize": "Count", "ApproximateBacklogSizePerInstance": "Count",
         "ApproximateAgeOfOldestRequest": "Seconds", "HasBacklogWithoutCapacity": "Count"}


class BacklogMetrics:
    def __init__(self, metrics: MetricService) -> None:
        self.metrics = metrics

    def __call__(self, backlogs: list[tuple[str, int, float | None, int]], now: float) -> None:
        """One point per metric for each served asynchronous endpoint and each endpoint with a backlog."""
        store = self.metrics.store
        items = []
        for endpoint, size, oldest, instances in backlogs:
            values = {
                "ApproximateBacklogSize": float(size),
                "ApproximateBacklogSizePerInstance": size / instances if instances else float(size),
                "ApproximateAgeOfOldestRequest": max(now - oldest, 0.0) if oldest is not None else 0.0,
                "HasBacklogWithoutCapacity": 1.0 if size and not instances else 0.0,
            }
            for metric, value in values.items():
                key = series_key(NAMESPACE, metric, {"EndpointName": endpoint})
                items.append((store.resolve(key, UNITS[metric], 1, now), int(now), Aggregate.of_value(value)))
        if items:
            store.add(items, now)
