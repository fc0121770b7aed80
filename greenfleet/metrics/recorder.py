"""What the data plane calls per invocation: a few microseconds under one uncontended lock, counting into a
per-second accumulator. ``flush(now)``, called every second by the control plane's loop, turns every closed
second (< int(now)) into points of the SageMaker figures and hands them to the store. A record that arrives
after its second was flushed is flushed on the next call and merged into the same bucket.

Each second of each (endpoint, variant, config) yields points for two dimension sets, {EndpointName,
VariantName} (summed over configs) and {EndpointName, VariantName, EndpointConfigName}. How outcomes count is
in greenfleet.metrics.names. CPUUtilization and MemoryUtilization also get {EndpointName, VariantName,
InstanceId}; at the variant level each instance's sample is one sample, so Average is the mean over instances
and Maximum the busiest one.

InvocationsPerInstance: each invocation contributes 1/n, n being the variant's healthy instance count in its
config in that second: the count in force (``set_instance_counts``, which the router calls with every routing
table it publishes) when the second's first invocation arrived, so idle instances count too. Without one
(no table knows the variant), n is the number of distinct instance ids that served that second (at least 1).

Memory stays bounded if flushes stop: latencies fold into a sketch every 4,096 samples, and at most 20,000
(endpoint, variant, config, second) accumulators wait; records beyond are counted in ``dropped``.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

import numpy as np

from greenfleet.errors import ResourceLimitExceeded
from greenfleet.metrics import names
from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.series import SeriesKey, series_key
from greenfleet.metrics.store import Series

_FOLD_AT = 4096  # latencies kept per accumulator before folding them into a sketch (bounds memory)
MAX_PENDING = 20_000  # accumulators awaiting a flush; beyond, records are counted in ``dropped``

_K = TypeVar("_K", bound=tuple[str, str, str, int])
_V = TypeVar("_V")
Emit = Callable[[str, tuple[tuple[str, str], ...], Aggregate], None]


class PointSink(Protocol):
    """Where flushed points go: the metric store (the leader), or a router's outbox (greenfleet.metrics.inbox)."""

    relative_accuracy: float

    def resolve(self, key: SeriesKey, unit: str | None, resolution: int, now: float) -> Series: ...

    def add(self, items: Sequence[tuple[Series, int, Aggregate]], now: float) -> None: ...


class _Invocations:
    __slots__ = ("e4", "e5", "em", "folded_model", "folded_overhead", "healthy", "instances", "model", "n",
                 "overhead")

    def __init__(self, healthy: int) -> None:
        self.healthy = healthy  # the variant's healthy instances in this config when the second began (0: unknown)
        self.n = self.e4 = self.e5 = self.em = 0
        self.model: list[float] = []
        self.overhead: list[float] = []
        self.instances: set[str] = set()
        self.folded_model: Aggregate | None = None
        self.folded_overhead: Aggregate | None = None

    def fold(self, accuracy: float) -> None:
        self.folded_model = _fold(self.folded_model, self.model, accuracy)
        self.folded_overhead = _fold(self.folded_overhead, self.overhead, accuracy)
        self.model, self.overhead = [], []

    def latency(self, which: str, accuracy: float) -> Aggregate | None:
        samples, folded = (self.model, self.folded_model) if which == "model" else \
            (self.overhead, self.folded_overhead)
        return _fold(folded, samples, accuracy)


def _fold(into: Aggregate | None, samples: list[float], accuracy: float) -> Aggregate | None:
    if not samples:
        return into
    agg = Aggregate.of_values(np.asarray(samples), relative_accuracy=accuracy)
    if into is None:
        return agg
    into.absorb(agg)
    return into


def _two_valued(n: int, ones: int) -> Aggregate:
    """n samples of 0 or 1, ``ones`` of them 1."""
    return Aggregate(float(n), float(ones), 0.0 if ones < n else 1.0, 1.0 if ones > 0 else 0.0)


class Recorder:
    def __init__(self, store: PointSink) -> None:
        self.store = store
        self.accuracy = store.relative_accuracy
        self._lock = threading.Lock()
        self._invocations: dict[tuple[str, str, str, int], _Invocations] = {}
        self._setup: dict[tuple[str, str, str, int], list[float]] = defaultdict(list)
        self._containers: dict[tuple[str, str, str, int], list[float]] = defaultdict(list)
        self._usage: dict[tuple[str, str, str, int], list[tuple[str, float, float]]] = defaultdict(list)
        self._instance_counts: dict[tuple[str, str, str], int] = {}
        self._mirror_dropped: dict[tuple[str, str, str, int], int] = defaultdict(int)
        self._keys: dict[tuple[str, tuple[tuple[str, str], ...]], SeriesKey] = {}
        self.dropped = 0  # records refused because flush has not run (or series could not be created)

    # -- the data plane's calls -------------------------------------------------------------------------
    def record_invocation(self, endpoint: str, variant: str, config: str, instance_id: str, outcome: str,
                          model_latency_us: float | None, overhead_latency_us: float, now: float) -> None:
        try:
            counts = names.OUTCOMES[outcome]
        except KeyError:
            raise ValueError(f"unknown invocation outcome {outcome!r}") from None
        key = (endpoint, variant, config, int(now))
        with self._lock:
            acc = self._invocations.get(key)
            if acc is None:
                if len(self._invocations) >= MAX_PENDING:
                    self.dropped += 1
                    return
                acc = self._invocations[key] = _Invocations(self._instance_counts.get(key[:3], 0))
            acc.n += 1
            if counts.model_error or counts.error_4xx or counts.error_5xx:
                acc.e4 += counts.error_4xx
                acc.e5 += counts.error_5xx
                acc.em += counts.model_error
            if model_latency_us is not None:
                acc.model.append(model_latency_us)
            acc.overhead.append(overhead_latency_us)
            acc.instances.add(instance_id)
            if len(acc.overhead) >= _FOLD_AT:
                acc.fold(self.accuracy)

    def record_container_latency(self, endpoint: str, variant: str, container: str, latency_us: float,
                                 now: float) -> None:
        """ContainerLatency of one container of an inference pipeline (EndpointName, VariantName, ContainerName)."""
        with self._lock:
            entries = self._containers[(endpoint, variant, container, int(now))]
            if len(entries) < _FOLD_AT * 8:
                entries.append(float(latency_us))

    def record_model_setup_time(self, endpoint: str, variant: str, config: str, setup_time_us: float,
                                now: float) -> None:
        """ModelSetupTime, in microseconds (as SageMaker publishes it)."""
        with self._lock:
            self._setup[(endpoint, variant, config, int(now))].append(float(setup_time_us))

    def record_instance_usage(self, endpoint: str, variant: str, config: str, instance_id: str,
                              cpu_percent: float, memory_percent: float, now: float) -> None:
        """CPUUtilization (sum over cores, so up to 100 x cores) and MemoryUtilization of one instance."""
        with self._lock:
            self._usage[(endpoint, variant, config, int(now))].append(
                (instance_id, float(cpu_percent), float(memory_percent)))

    def record_mirror_dropped(self, endpoint: str, variant: str, config: str, now: float) -> None:
        """ShadowRequestsDropped (namespace Greenfleet/Endpoints): a copy for a shadow variant was dropped."""
        with self._lock:
            self._mirror_dropped[(endpoint, variant, config, int(now))] += 1

    def record_concurrency(self, endpoint: str, variant: str, peaks: Sequence[float], now: float,
                           metric: str = names.CONCURRENT_REQUESTS_PER_MODEL) -> None:
        """ConcurrentRequestsPerModel of a variant for the second before ``now``: one sample per healthy
        instance, its peak of requests in flight (or another per-second gauge ``metric`` of the variant)."""
        key = series_key(names.NAMESPACE, metric, _dims(endpoint, variant))
        try:
            series = self.store.resolve(key, names.BUILTIN_UNITS[metric], 1, now)
        except ResourceLimitExceeded:
            self.dropped += 1
            return
        values = np.asarray(peaks, dtype=np.float64)
        self.store.add([(series, int(now), Aggregate.of_values(values, relative_accuracy=self.accuracy))], now)

    def set_instance_counts(self, counts: Mapping[tuple[str, str, str], int]) -> None:
        """Healthy instances of every (endpoint, variant, config) from now on (for InvocationsPerInstance);
        a key left out is forgotten."""
        fresh = {key: n for key, n in counts.items() if n > 0}
        with self._lock:
            self._instance_counts = fresh

    # -- the control plane's flush ----------------------------------------------------------------------
    def flush(self, now: float) -> int:
        """Hand every closed second to the store; returns the number of points."""
        second = int(now)
        with self._lock:
            invocations = _take_closed(self._invocations, second)
            setup = _take_closed(self._setup, second)
            containers = _take_closed(self._containers, second)
            usage = _take_closed(self._usage, second)
            mirror_dropped = _take_closed(self._mirror_dropped, second)
        items: list[tuple[Series, int, Aggregate]] = []
        store, keys = self.store, self._keys

        def emit_at(ts: int, namespace: str = names.NAMESPACE) -> Emit:
            def emit(metric: str, dims: tuple[tuple[str, str], ...], agg: Aggregate) -> None:
                key = keys.get((metric, dims))
                if key is None:
                    key = keys[(metric, dims)] = series_key(namespace, metric, dims)
                try:
                    series = store.resolve(key, names.BUILTIN_UNITS.get(metric, "Count"), 1, now)
                except ResourceLimitExceeded:
                    self.dropped += 1
                    return
                items.append((series, ts, agg))
            return emit

        by_variant: dict[tuple[str, str, int], list[tuple[str, _Invocations]]] = defaultdict(list)
        for (endpoint, variant, config, ts), acc in invocations.items():
            by_variant[(endpoint, variant, ts)].append((config, acc))
        for (endpoint, variant, ts), accs in by_variant.items():
            self._emit_invocations(emit_at(ts), endpoint, variant, accs)
        for (endpoint, variant, config, ts), values in setup.items():
            _emit_both(emit_at(ts), names.MODEL_SETUP_TIME, endpoint, variant, config,
                       Aggregate.of_values(np.asarray(values), relative_accuracy=self.accuracy))
        for (endpoint, variant, container, ts), values in containers.items():
            emit_at(ts)(names.CONTAINER_LATENCY, ((names.CONTAINER_NAME, container), (names.ENDPOINT_NAME, endpoint),
                                                  (names.VARIANT_NAME, variant)),
                        Aggregate.of_values(np.asarray(values), relative_accuracy=self.accuracy))
        for (endpoint, variant, config, ts), samples in usage.items():
            self._emit_usage(emit_at(ts), endpoint, variant, config, samples)
        for (endpoint, variant, config, ts), n in mirror_dropped.items():
            _emit_both(emit_at(ts, names.GREENFLEET_NAMESPACE), names.SHADOW_REQUESTS_DROPPED, endpoint, variant,
                       config, Aggregate(float(n), float(n), 1.0, 1.0))
        store.add(items, now)
        return len(items)

    def _emit_invocations(self, emit: Emit, endpoint: str, variant: str,
                          accs: list[tuple[str, _Invocations]]) -> None:
        totals: dict[str, Aggregate] = {}
        for config, acc in accs:
            n = acc.n
            instances = acc.healthy or max(1, len(acc.instances))
            per_config = {
                names.INVOCATIONS: Aggregate(float(n), float(n), 1.0, 1.0),
                names.INVOCATION_4XX_ERRORS: _two_valued(n, acc.e4),
                names.INVOCATION_5XX_ERRORS: _two_valued(n, acc.e5),
                names.INVOCATION_MODEL_ERRORS: _two_valued(n, acc.em),
                names.INVOCATIONS_PER_INSTANCE: Aggregate.of_value(1.0 / instances, float(n)),
            }
            for metric, which in ((names.MODEL_LATENCY, "model"), (names.OVERHEAD_LATENCY, "overhead")):
                latency = acc.latency(which, self.accuracy)
                if latency is not None:
                    per_config[metric] = latency
            for metric, agg in per_config.items():
                total = totals.get(metric)
                if total is None:
                    total = totals[metric] = Aggregate(0.0, 0.0, 0.0, 0.0)
                total.absorb(agg)
                emit(metric, _dims(endpoint, variant, config), agg)
        for metric, total in totals.items():
            emit(metric, _dims(endpoint, variant), total)

    def _emit_usage(self, emit: Emit, endpoint: str, variant: str, config: str,
                    samples: list[tuple[str, float, float]]) -> None:
        by_instance: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for instance_id, cpu, memory in samples:
            by_instance[instance_id].append((cpu, memory))
        for column, metric in ((1, names.CPU_UTILIZATION), (2, names.MEMORY_UTILIZATION)):
            values = np.asarray([sample[column] for sample in samples])
            _emit_both(emit, metric, endpoint, variant, config,
                       Aggregate.of_values(values, relative_accuracy=self.accuracy))
            for instance_id, pairs in by_instance.items():
                instance_values = np.asarray([pair[column - 1] for pair in pairs])
                emit(metric, ((names.ENDPOINT_NAME, endpoint), (names.INSTANCE_ID, instance_id),
                              (names.VARIANT_NAME, variant)),
                     Aggregate.of_values(instance_values, relative_accuracy=self.accuracy))


def _dims(endpoint: str, variant: str, config: str | None = None) -> tuple[tuple[str, str], ...]:
    if config is None:
        return ((names.ENDPOINT_NAME, endpoint), (names.VARIANT_NAME, variant))
    return ((names.CONFIG_NAME, config), (names.ENDPOINT_NAME, endpoint), (names.VARIANT_NAME, variant))


def _emit_both(emit: Emit, metric: str, endpoint: str, variant: str, config: str, agg: Aggregate) -> None:
    emit(metric, _dims(endpoint, variant, config), agg)
    emit(metric, _dims(endpoint, variant), agg.copy())


def _take_closed(pending: dict[_K, _V], second: int) -> dict[_K, _V]:
    closed = {key: value for key, value in pending.items() if key[3] < second}
    for key in closed:
        del pending[key]
    return closed
