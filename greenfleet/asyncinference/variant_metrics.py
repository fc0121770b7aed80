"""The per-variant metrics of asynchronous endpoints (namespace AWS/SageMaker, dimensions EndpointName and
VariantName), as SageMaker names them: counts per second of ``InvocationsProcesssed`` (sic, SageMaker's
spelling), ``InvocationFailures`` (the model or its instance failed, or timed out), ``ExpiredRequests`` (past
their RequestTTLSeconds), ``RequestDownloadFailures``, ``ResponseUploadFailures`` and ``NotificationFailures``
(a success or error notification's webhook delivery that failed for good, after the outbox's retries); per
request, ``TimeInBacklog`` (accepted → handed to an instance) and ``TotalProcessingTime`` (accepted → output or
failure written), in milliseconds; and ``RequestDownloadLatency`` / ``ResponseUploadLatency``, in microseconds.

Input, model and output are streamed together (input → instance → output, chunk by chunk), so the two
latencies are the time spent in the input's reads (waiting on the file or S3 GetObject) and the time spent
writing the output (its file or S3 upload, finishing included) less the time spent waiting for the instance's
answer; a request that fails before its output is written has no ResponseUploadLatency.

The dispatcher's threads record under a lock (a dict update); ``flush(now)``, called once a second by the
dispatcher, writes every closed second to the metric store."""

from __future__ import annotations

import threading
from collections import defaultdict

import numpy as np

from greenfleet.errors import ResourceLimitExceeded
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.names import ASYNC_VARIANT_COUNTS, ASYNC_VARIANT_UNITS, NAMESPACE
from greenfleet.metrics.series import series_key
from greenfleet.metrics.store import MetricStore, Series

COUNTS = ASYNC_VARIANT_COUNTS
TIMES = tuple(name for name, unit in ASYNC_VARIANT_UNITS.items() if unit in ("Milliseconds", "Microseconds"))
_PER_SECOND = {"Milliseconds": 1e3, "Microseconds": 1e6}
MAX_SAMPLES = 50_000  # per (endpoint, variant, metric, second); beyond, samples are counted in ``dropped``

Key = tuple[str, str, str, int]


class AsyncVariantMetrics:
    def __init__(self, store: MetricStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._counts: dict[Key, int] = defaultdict(int)
        self._times: dict[Key, list[float]] = defaultdict(list)
        self.dropped = 0

    def count(self, endpoint: str, variant: str, metric: str, now: float) -> None:
        if metric not in COUNTS:
            raise ValueError(f"unknown asynchronous count {metric!r}")
        with self._lock:
            self._counts[(endpoint, variant, metric, int(now))] += 1

    def time(self, endpoint: str, variant: str, metric: str, seconds: float, now: float) -> None:
        if metric not in TIMES:
            raise ValueError(f"unknown asynchronous time {metric!r}")
        with self._lock:
            samples = self._times[(endpoint, variant, metric, int(now))]
            if len(samples) < MAX_SAMPLES:
                samples.append(max(seconds, 0.0) * _PER_SECOND[ASYNC_VARIANT_UNITS[metric]])
            else:
                self.dropped += 1

    def flush(self, now: float) -> None:
        """Write every second before ``int(now)``; a record for a flushed second goes out on the next flush."""
        second = int(now)
        with self._lock:
            counts = {k: v for k, v in self._counts.items() if k[3] < second}
            times = {k: v for k, v in self._times.items() if k[3] < second}
            for k in counts:
                del self._counts[k]
            for k in times:
                del self._times[k]
        items = []
        for (endpoint, variant, metric, at), n in counts.items():
            items.append(self._item(endpoint, variant, metric, "Count", at, Aggregate.of_value(float(n)), now))
        for (endpoint, variant, metric, at), samples in times.items():
            aggregate = Aggregate.of_values(np.asarray(samples), relative_accuracy=self.store.relative_accuracy)
            items.append(self._item(endpoint, variant, metric, ASYNC_VARIANT_UNITS[metric], at, aggregate, now))
        kept = [i for i in items if i is not None]
        if kept:
            self.store.add(kept, now)

    def _item(self, endpoint: str, variant: str, metric: str, unit: str, at: int, aggregate: Aggregate,
              now: float) -> tuple[Series, int, Aggregate] | None:
        key = series_key(NAMESPACE, metric, {"EndpointName": endpoint, "VariantName": variant})
        try:
            return self.store.resolve(key, unit, 1, now), at, aggregate
        except ResourceLimitExceeded:
            self.dropped += 1
            return None
