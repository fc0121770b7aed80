"""Percentiles from sketches agree with numpy on the same data within the sketch's relative accuracy."""

from __future__ import annotations

import numpy as np
import pytest

from greenfleet.metrics.aggregate import Aggregate
from greenfleet.metrics.sketch import Sketch

ALPHA = 0.01
QUANTILES = (0.0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0)
RNG = np.random.default_rng(20231114)
DISTRIBUTIONS = {
    "lognormal latencies (µs)": RNG.lognormal(mean=8, sigma=1.2, size=20_000),
    "uniform": RNG.uniform(1, 1000, size=5_000),
    "pareto tail": (RNG.pareto(1.5, size=10_000) + 1) * 100,
    "negative and positive": RNG.normal(0, 50, size=10_000),
    "with zeros": np.concatenate([np.zeros(500), RNG.exponential(10, size=4_500)]),
    "tiny sample": np.array([3.0, 1.0, 2.0]),
}


def _check(estimate: float | None, exact: float, alpha: float = ALPHA) -> None:
    assert estimate is not None
    assert abs(estimate - exact) <= alpha * abs(exact) + 1e-12, (estimate, exact)


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_quantiles_within_relative_accuracy_of_numpy(name: str) -> None:
    values = DISTRIBUTIONS[name]
    sketch = Sketch(ALPHA)
    sketch.add_many(values)
    for q in QUANTILES:
        _check(sketch.quantile(q), float(np.percentile(values, q * 100, method="lower")))


@pytest.mark.parametrize("name", ["lognormal latencies (µs)", "negative and positive"])
def test_merged_sketches_answer_like_one_sketch_over_all_data(name: str) -> None:
    values = DISTRIBUTIONS[name]
    parts = np.array_split(values, 60)  # e.g. sixty one-second buckets merged into a minute
    merged = Sketch(ALPHA)
    for part in parts:
        piece = Sketch(ALPHA)
        piece.add_many(part)
        merged.merge(Sketch.from_bytes(piece.to_bytes()))  # through storage, as the store does
    for q in QUANTILES:
        _check(merged.quantile(q), float(np.percentile(values, q * 100, method="lower")))
    assert merged.count == len(values)


def test_weighted_values_count_as_repeated_samples() -> None:
    values, counts = np.array([10.0, 20.0, 30.0]), np.array([1.0, 8.0, 1.0])
    sketch = Sketch(ALPHA)
    sketch.add_many(values, counts)
    expanded = np.repeat(values, counts.astype(int))
    for q in (0.05, 0.5, 0.95):
        _check(sketch.quantile(q), float(np.percentile(expanded, q * 100, method="lower")))


def test_encoding_round_trip_keeps_every_bin() -> None:
    sketch = Sketch(ALPHA)
    sketch.add_many(DISTRIBUTIONS["negative and positive"])
    sketch.add(0.0, 3)
    copy = Sketch.from_bytes(sketch.to_bytes())
    assert (copy.positive, copy.negative, copy.zero) == (sketch.positive, sketch.negative, sketch.zero)
    fractional = Sketch(ALPHA)
    fractional.add(5.0, 0.25)
    assert Sketch.from_bytes(fractional.to_bytes()).count == 0.25


def test_trimmed_mean_within_relative_accuracy() -> None:
    values = np.sort(DISTRIBUTIONS["lognormal latencies (µs)"])
    sketch = Sketch(ALPHA)
    sketch.add_many(values)
    n = len(values)
    for lower, upper in ((0.0, 0.9), (0.1, 0.9), (0.25, 0.75)):
        exact = float(values[int(lower * n):int(upper * n)].mean())
        _check(sketch.trimmed_mean(lower, upper), exact)


def test_two_valued_buckets_give_exact_percentiles() -> None:
    # 1000 invocations, 13 of them 5xx: SageMaker's 0/1 samples
    samples = np.array([1.0] * 13 + [0.0] * 987)
    agg = Aggregate(1000.0, 13.0, 0.0, 1.0)
    for q in (0.5, 0.98, 0.986, 0.987, 0.99, 1.0):
        assert agg.percentile(q) == float(np.percentile(samples, q * 100, method="lower"))


def test_aggregates_switch_to_a_sketch_beyond_two_values() -> None:
    agg = Aggregate.of_value(1.0)
    agg.absorb(Aggregate.of_value(2.0))
    assert agg.sketch is None  # still two-valued
    agg.absorb(Aggregate.of_value(3.0))
    assert agg.sketch is not None
    assert (agg.count, agg.total, agg.minimum, agg.maximum) == (3.0, 6.0, 1.0, 3.0)
    _check(agg.percentile(0.5), 2.0)


def test_statistic_sets_have_no_percentiles() -> None:
    agg = Aggregate(10.0, 55.0, 1.0, 10.0, opaque=True)
    agg.absorb(Aggregate.of_value(4.0))
    assert agg.opaque and agg.percentile(0.5) is None
    assert agg.total / agg.count == 59.0 / 11.0
