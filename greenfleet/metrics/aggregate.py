"""The summary of the samples in one bucket (one second, one minute, one period): SampleCount, Sum, Minimum,
Maximum and, for percentiles, a distribution.

The distribution takes one of three forms, chosen to stay small:

- two-valued (``sketch is None``): every sample equals ``minimum`` or ``maximum``; how many of each follows
  from the count and the sum, so percentiles are exact. SageMaker's 0/1 figures (Invocations, the error
  counts) and single values stay in this form whatever the traffic.
- a :class:`~greenfleet.metrics.sketch.Sketch` (live, or encoded as bytes while stored).
- opaque: samples came as a StatisticSet (PutMetricData ``StatisticValues``); like CloudWatch, no
  percentile can be answered for a bucket that holds one.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from greenfleet.metrics.sketch import DEFAULT_ACCURACY, Sketch


@lru_cache(maxsize=2048)
def _stored_quantile(data: bytes, q: float) -> float | None:
    """Quantiles of stored sketches, cached: an alarm asks the same closed minute every second."""
    return Sketch.from_bytes(data).quantile(q)


class Aggregate:
    __slots__ = ("count", "maximum", "minimum", "opaque", "sketch", "total")

    def __init__(self, count: float, total: float, minimum: float, maximum: float,
                 sketch: Sketch | bytes | None = None, opaque: bool = False) -> None:
        self.count = count
        self.total = total
        self.minimum = minimum
        self.maximum = maximum
        self.sketch = sketch
        self.opaque = opaque

    def __repr__(self) -> str:
        form = "opaque" if self.opaque else "two-valued" if self.sketch is None else "sketch"
        return (f"Aggregate(count={self.count}, total={self.total}, min={self.minimum}, "
                f"max={self.maximum}, {form})")

    @classmethod
    def of_value(cls, value: float, count: float = 1.0) -> Aggregate:
        return cls(count, value * count, value, value)

    @classmethod
    def of_values(cls, values: np.ndarray, weights: np.ndarray | None = None,
                  relative_accuracy: float = DEFAULT_ACCURACY) -> Aggregate:
        values = np.asarray(values, dtype=np.float64)
        w = np.ones_like(values) if weights is None else np.asarray(weights, dtype=np.float64)
        keep = w > 0
        values, w = values[keep], w[keep]
        lo, hi = float(values.min()), float(values.max())
        agg = cls(float(w.sum()), float((values * w).sum()), lo, hi)
        if lo != hi and np.any((values != lo) & (values != hi)):
            agg.sketch = Sketch(relative_accuracy)
            agg.sketch.add_many(values, w)
        return agg

    def copy(self) -> Aggregate:
        sketch = self.sketch.copy() if isinstance(self.sketch, Sketch) else self.sketch
        return Aggregate(self.count, self.total, self.minimum, self.maximum, sketch, self.opaque)

    def two_valued_counts(self) -> tuple[float, float]:
        """How many samples equal minimum and maximum, for the two-valued form."""
        if self.maximum <= self.minimum:
            return self.count, 0.0
        at_max = (self.total - self.count * self.minimum) / (self.maximum - self.minimum)
        at_max = min(max(at_max, 0.0), self.count)
        return self.count - at_max, at_max

    def distribution(self, relative_accuracy: float = DEFAULT_ACCURACY) -> Sketch | None:
        """A sketch of the samples (a fresh object, safe to mutate); None when opaque or empty."""
        if self.opaque or self.count <= 0:
            return None
        if isinstance(self.sketch, Sketch):
            return self.sketch.copy()
        if self.sketch is not None:
            return Sketch.from_bytes(self.sketch)
        sketch = Sketch(relative_accuracy)
        at_min, at_max = self.two_valued_counts()
        sketch.add(self.minimum, at_min)
        sketch.add(self.maximum, at_max)
        return sketch

    def view(self, relative_accuracy: float = DEFAULT_ACCURACY) -> Sketch | None:
        """The distribution as a sketch that must not be mutated (may be this aggregate's own)."""
        if isinstance(self.sketch, Sketch) and not self.opaque:
            return self.sketch
        return self.distribution(relative_accuracy)

    def absorb(self, other: Aggregate) -> None:
        """Merge ``other`` into this aggregate (``other`` is left untouched)."""
        if other.count <= 0:
            return
        if self.count <= 0:
            self.count, self.total = other.count, other.total
            self.minimum, self.maximum, self.opaque = other.minimum, other.maximum, other.opaque
            self.sketch = other.sketch.copy() if isinstance(other.sketch, Sketch) else other.sketch
            return
        if self.opaque or other.opaque:
            self.opaque, self.sketch = True, None
        elif other.sketch is None:  # two-valued: add its values directly
            mine = self.sketch
            if mine is None:
                if len({self.minimum, self.maximum, other.minimum, other.maximum}) <= 2:
                    self._add_numbers(other)
                    return
                mine = self.distribution()
            elif not isinstance(mine, Sketch):
                mine = Sketch.from_bytes(mine)
            assert mine is not None
            at_min, at_max = other.two_valued_counts()
            mine.add(other.minimum, at_min)
            if at_max > 0:
                mine.add(other.maximum, at_max)
            self.sketch = mine
        else:
            theirs = other.view()
            assert theirs is not None
            mine = self.sketch if isinstance(self.sketch, Sketch) else self.distribution(
                theirs.relative_accuracy)
            assert mine is not None
            mine.merge(theirs)
            self.sketch = mine
        self._add_numbers(other)

    def _add_numbers(self, other: Aggregate) -> None:
        self.count += other.count
        self.total += other.total
        if other.minimum < self.minimum:
            self.minimum = other.minimum
        if other.maximum > self.maximum:
            self.maximum = other.maximum

    def percentile(self, q: float) -> float | None:
        """Value at rank q·(n-1) (q in [0, 1]); exact for the two-valued form, within the sketch's relative
        accuracy otherwise, and clamped to [minimum, maximum]."""
        if self.opaque or self.count <= 0:
            return None
        if self.sketch is None:
            at_min, _ = self.two_valued_counts()
            return self.minimum if q * (self.count - 1) < at_min else self.maximum
        value = _stored_quantile(self.sketch, q) if isinstance(self.sketch, bytes) else self.sketch.quantile(q)
        return None if value is None else min(max(value, self.minimum), self.maximum)

    def trimmed_mean(self, lower: float, upper: float) -> float | None:
        if self.opaque or self.count <= 0:
            return None
        if lower <= 0 and upper >= 1:
            return self.total / self.count
        sketch = self.view()
        assert sketch is not None
        value = sketch.trimmed_mean(lower, upper)
        return None if value is None else min(max(value, self.minimum), self.maximum)

    def compact(self) -> None:
        """Encode a live sketch to bytes (for long-lived storage)."""
        if isinstance(self.sketch, Sketch):
            self.sketch = self.sketch.to_bytes()

    def encoded_sketch(self) -> bytes | None:
        if self.sketch is None:
            return None
        return self.sketch.to_bytes() if isinstance(self.sketch, Sketch) else self.sketch
