"""Kayenta's NetflixACAJudge metric classifier: Mann-Whitney U with a Hodges-Lehmann shift interval.

For green (experiment) against blue (control), direction d, tolerance t:

- no data on a side -> NODATA; identical samples, or a single value across both -> PASS (Kayenta's
  short-circuits; its Gaussian jitter for all-tied sides is not needed: the interval of two constants is
  their difference and is classified like any other);
- HL shift s with its interval [lo, hi] at ConfidenceLevel (shift.py), bound b = t·|s|;
- HIGH if d is INCREASE or EITHER, lo > b and (the mean ratio green/blue is NaN or >= AllowedIncrease);
  LOW if d is DECREASE or EITHER, hi < -b and (ratio NaN or <= AllowedDecrease); else PASS;
- a HIGH (LOW) is critical when the ratio is NaN or >= CriticalIncrease (<= CriticalDecrease).

The p-value shown is scipy's two-sided ``mannwhitneyu`` (method "auto"); the classification rests on the
interval, as in Kayenta. Samples above MAX_SAMPLES a side are thinned to MAX_SAMPLES evenly spaced order
statistics first (same distribution, a wider and so conservative interval, bounded cost).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from greenfleet.judge.report import Verdict
from greenfleet.judge.shift import ShiftInterval, shift_interval

__all__ = ["MAX_SAMPLES", "ShiftComparison", "compare_shift", "thin"]

MAX_SAMPLES = 50_000


@dataclass(frozen=True)
class ShiftComparison:
    verdict: Verdict
    critical: bool
    interval: ShiftInterval | None
    bound: float | None
    effect: float
    """Mean ratio green / blue (NaN when blue's mean is 0)."""
    p_value: float | None
    thinned: bool
    message: str


def thin(values: NDArray[np.float64], limit: int = MAX_SAMPLES) -> NDArray[np.float64]:
    """Sorted values, reduced to ``limit`` evenly spaced order statistics when longer."""
    ordered = np.sort(values)
    if len(ordered) <= limit:
        return ordered
    return ordered[np.round(np.linspace(0, len(ordered) - 1, limit)).astype(np.int64)]


def compare_shift(
    control: NDArray[np.float64],
    experiment: NDArray[np.float64],
    *,
    direction: str = "EITHER",
    tolerance: float = 0.25,
    confidence: float = 0.98,
    allowed: tuple[float, float] = (1.0, 1.0),
    critical: tuple[float, float] = (1.0, 1.0),
) -> ShiftComparison:
    """``allowed`` and ``critical`` are (increase, decrease) mean-ratio thresholds."""
    if control.size == 0 or experiment.size == 0:
        return ShiftComparison(Verdict.NODATA, False, None, None, math.nan, None, False, "no data")
    c, e = thin(control), thin(experiment)
    thinned = len(c) < control.size or len(e) < experiment.size
    effect = _ratio(float(experiment.mean()), float(control.mean()))
    if np.array_equal(c, e) or np.unique(np.concatenate([c, e])).size == 1:
        return ShiftComparison(Verdict.PASS, False, None, 0.0, effect, None, thinned, "identical samples")
    interval = shift_interval(e, c, confidence)
    bound = tolerance * abs(interval.estimate)
    from scipy.stats import mannwhitneyu  # here: importing the rollout engine must not need scipy

    p_value = float(mannwhitneyu(e, c, alternative="two-sided").pvalue)
    no_effect = math.isnan(effect)
    verdict, is_critical = Verdict.PASS, False
    if direction in ("INCREASE", "EITHER") and interval.lower > bound and (no_effect or effect >= allowed[0]):
        verdict, is_critical = Verdict.HIGH, no_effect or effect >= critical[0]
    elif direction in ("DECREASE", "EITHER") and interval.upper < -bound and (no_effect or effect <= allowed[1]):
        verdict, is_critical = Verdict.LOW, no_effect or effect <= critical[1]
    message = (
        f"shift {interval.estimate:+.6g} in [{interval.lower:.6g}, {interval.upper:.6g}] "
        f"({confidence:.0%}, {interval.method}), bound ±{bound:.6g}, mean ratio {effect:.3f}"
    )
    return ShiftComparison(verdict, is_critical, interval, bound, effect, p_value, thinned, message)


def _ratio(a: float, b: float) -> float:
    return a / b if b != 0 else math.nan
