"""Deequ's distances, as SageMaker's baseline_drift_check uses them: L-infinity between the CDFs of two
KLL sketches (the Kolmogorov-Smirnov statistic) for numbers, L-infinity between frequency vectors for
categories, and the "robust" variant that subtracts the KS critical value at alpha = 0.003 (c = 1.80)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

ROBUST_ALPHA = 0.003

Levels = Sequence[Sequence[float]]
"""A KLL sketch's retained items, one list per compactor level; an item of level h weighs 2**h."""


def weighted(levels: Levels) -> tuple[np.ndarray, np.ndarray]:
    """Sorted items and their cumulative normalised weights (the sketch's CDF at each item)."""
    items = np.concatenate([np.asarray(level, dtype=np.float64) for level in levels]) if levels else np.empty(0)
    weights = np.concatenate([np.full(len(level), 2.0**h) for h, level in enumerate(levels)]) if levels else \
        np.empty(0)
    order = np.argsort(items, kind="stable")
    items, weights = items[order], weights[order]
    total = weights.sum()
    return items, (np.cumsum(weights) / total if total else weights)


def _cdf_at(items: np.ndarray, cumulative: np.ndarray, points: np.ndarray) -> np.ndarray:
    index = np.searchsorted(items, points, side="right")
    padded = np.concatenate([[0.0], cumulative])
    return np.asarray(padded[index])


def linf_numeric(baseline: Levels, current: Levels) -> float:
    """max |F_baseline(x) - F_current(x)| over every retained item of either sketch."""
    a_items, a_cdf = weighted(baseline)
    b_items, b_cdf = weighted(current)
    if not len(a_items) or not len(b_items):
        return 0.0
    points = np.union1d(a_items, b_items)
    return float(np.max(np.abs(_cdf_at(a_items, a_cdf, points) - _cdf_at(b_items, b_cdf, points))))


def linf_categorical(baseline: Mapping[str, float], current: Mapping[str, float]) -> float:
    """max over categories of |p_baseline - p_current|."""
    a_total, b_total = sum(baseline.values()), sum(current.values())
    if not a_total or not b_total:
        return 0.0
    return max(abs(baseline.get(k, 0.0) / a_total - current.get(k, 0.0) / b_total)
               for k in set(baseline) | set(current))


def robust(simple: float, n: int, m: int, alpha: float = ROBUST_ALPHA) -> float:
    """linf_robust = max(0, linf_simple - c * sqrt((n+m)/(n*m))), c = sqrt(-ln(alpha/2)/2)."""
    if n <= 0 or m <= 0:
        return simple
    c_alpha = math.sqrt(-math.log(alpha / 2) / 2)
    return max(0.0, simple - c_alpha * math.sqrt((n + m) / (n * m)))
