"""What the judge compares: the control's samples (the fresh baseline, or blue) and green's (the experiment)
of one metric, taken over the same window.

Three forms, one per test:

- raw values (a sequence or a numpy array) for Mann-Whitney; a metric store that keeps sketches can expand
  their bins with ``values_from_bins`` (ties are handled by the test);
- ``Counts`` (events among trials) for a sequential test of a rate, e.g. 5xx responses among invocations;
- ``Moments`` (count, mean, variance) for a sequential test of a mean; built from raw values or bins.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Counts", "MetricSamples", "Moments", "Sample", "Values", "as_values", "values_from_bins"]

Values = Sequence[float] | NDArray[np.float64]


@dataclass(frozen=True)
class Counts:
    """A binary metric: ``events`` among ``trials``."""

    trials: int
    events: int

    def __post_init__(self) -> None:
        if self.trials < 0 or not 0 <= self.events <= self.trials:
            raise ValueError(f"Counts: need 0 <= events <= trials, got {self.events} of {self.trials}")

    @property
    def rate(self) -> float | None:
        return self.events / self.trials if self.trials else None


@dataclass(frozen=True)
class Moments:
    """A continuous metric summarized: ``variance`` is the sample variance (ddof=1), 0 below two samples."""

    count: int
    mean: float = 0.0
    variance: float = 0.0

    def __post_init__(self) -> None:
        if self.count < 0 or self.variance < 0 or not (math.isfinite(self.mean) and math.isfinite(self.variance)):
            raise ValueError(f"Moments: need count >= 0 and finite mean and variance >= 0, got {self}")

    @classmethod
    def of(cls, values: Values) -> Moments:
        arr = as_values(values)
        if arr.size == 0:
            return cls(0)
        return cls(int(arr.size), float(arr.mean()), float(arr.var(ddof=1)) if arr.size > 1 else 0.0)

    @classmethod
    def from_bins(cls, bins: Iterable[tuple[float, float]]) -> Moments:
        """From (value, weight) pairs, e.g. a sketch's bins; weights are rounded to whole samples."""
        pairs = [(v, round(w)) for v, w in bins if round(w) > 0]
        n = sum(w for _, w in pairs)
        if n == 0:
            return cls(0)
        mean = sum(v * w for v, w in pairs) / n
        squares = sum(w * (v - mean) ** 2 for v, w in pairs)
        return cls(n, mean, squares / (n - 1) if n > 1 else 0.0)


Sample = Values | Counts | Moments


@dataclass(frozen=True, eq=False)
class MetricSamples:
    """One metric's samples over the judged window: blue (control) and green (experiment)."""

    control: Sample
    experiment: Sample


def as_values(values: Values) -> NDArray[np.float64]:
    """A 1-D float array without NaNs (Kayenta's default NaN strategy: remove)."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[~np.isnan(arr)]


def values_from_bins(bins: Iterable[tuple[float, float]]) -> NDArray[np.float64]:
    """Raw values from (value, weight) pairs (a sketch's bins): each value repeated round(weight) times."""
    pairs = [(v, round(w)) for v, w in bins if round(w) > 0]
    if not pairs:
        return np.empty(0)
    values, weights = zip(*pairs, strict=True)
    return np.repeat(np.asarray(values, dtype=np.float64), np.asarray(weights, dtype=np.int64))
